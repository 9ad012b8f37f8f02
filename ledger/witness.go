package ledger

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// The client side of C2SP tlog-witness: titular submits each new checkpoint
// to a witness with the size the witness last cosigned and a consistency
// proof from it; the witness checks the proof and answers with its
// cosignature. A witness that has seen the log at another size answers 409
// with that size, and the client retries from there.

// ErrWitnessConflict means the witness last saw the ledger at another size
// than the client said (409 Conflict); Size is the witness's.
type ErrWitnessConflict struct{ Size uint64 }

func (e *ErrWitnessConflict) Error() string {
	return fmt.Sprintf("the witness last cosigned this ledger at size %d", e.Size)
}

// ErrWitnessRefused is a witness's answer other than 200 or 409: 422 means
// the consistency proof (or, at the same size, the root) does not match
// what the witness cosigned before.
type ErrWitnessRefused struct {
	Witness string
	Status  int
	Text    string // the witness's own words, never the ledger's contents
}

func (e *ErrWitnessRefused) Error() string {
	return fmt.Sprintf("witness %s refused the checkpoint: HTTP %d: %.200s", e.Witness, e.Status, e.Text)
}

// AddCheckpointBody is the request body of POST /add-checkpoint: "old N",
// one base64 consistency proof hash a line, a blank line, then the signed
// checkpoint.
func AddCheckpointBody(oldSize uint64, proof [][]byte, signed []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", oldSize)
	for _, h := range proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h) + "\n")
	}
	b.WriteString("\n")
	b.Write(signed)
	return b.Bytes()
}

// ParseAddCheckpointBody is AddCheckpointBody's inverse, for witnesses.
func ParseAddCheckpointBody(body []byte) (uint64, [][]byte, []byte, error) {
	head, signed, ok := bytes.Cut(body, []byte("\n\n"))
	if !ok {
		return 0, nil, nil, errors.New("no blank line between the proof and the checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	n, ok := strings.CutPrefix(lines[0], "old ")
	if !ok {
		return 0, nil, nil, errors.New(`the first line must be "old <size>"`)
	}
	old, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("old size %q: %w", n, err)
	}
	var proof [][]byte
	for _, l := range lines[1:] {
		h, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(h) != HashSize {
			return 0, nil, nil, errors.New("a consistency proof line is not a base64 SHA-256 hash")
		}
		proof = append(proof, h)
	}
	return old, proof, signed, nil
}

// AddCheckpoint submits a signed checkpoint to the witness at baseURL and
// returns the checkpoint with the witness's cosignature appended, after
// checking that cosignature with the witness's key.
func AddCheckpoint(ctx context.Context, client *http.Client, baseURL string, witness note.Verifier,
	oldSize uint64, proof [][]byte, signed []byte) ([]byte, error) {
	url := strings.TrimSuffix(baseURL, "/") + "/add-checkpoint"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(AddCheckpointBody(oldSize, proof, signed)))
	if err != nil {
		return nil, fmt.Errorf("witness %s: %w", witness.Name(), err)
	}
	resp, err := client.Do(req) //nolint:gosec // G704: the witness URL is the operator's configuration
	if err != nil {
		return nil, fmt.Errorf("witness %s: %w", witness.Name(), err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("witness %s: read the answer: %w", witness.Name(), err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusConflict:
		size, err := strconv.ParseUint(strings.TrimSpace(string(body)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("witness %s: 409 Conflict without a size", witness.Name())
		}
		return nil, &ErrWitnessConflict{Size: size}
	default:
		// The witness's text is its own, never the ledger's contents.
		return nil, &ErrWitnessRefused{Witness: witness.Name(), Status: resp.StatusCode, Text: strings.TrimSpace(string(body))}
	}
	cosigned := append(bytes.TrimRight(bytes.Clone(signed), "\n"), '\n')
	for _, l := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		if !strings.HasPrefix(l, "— ") {
			return nil, fmt.Errorf("witness %s: the answer is not signature lines", witness.Name())
		}
		cosigned = append(cosigned, l+"\n"...)
	}
	if _, err := OpenCosigned(cosigned, witness); err != nil {
		return nil, fmt.Errorf("witness %s: %w", witness.Name(), err)
	}
	return cosigned, nil
}

// OpenCosigned checks a witness's cosignature on a checkpoint (the note with
// the witness's signature line among its signatures) and returns the tree
// head it vouches for. The log's own signature is checked apart, by
// OpenCheckpoint.
func OpenCosigned(cosigned []byte, witness note.Verifier) (*Checkpoint, error) {
	n, err := note.Open(cosigned, note.VerifierList(witness))
	if err != nil {
		return nil, fmt.Errorf("no valid cosignature of %s: %w", witness.Name(), err)
	}
	var cp Checkpoint
	if _, err := cp.Unmarshal([]byte(n.Text)); err != nil {
		return nil, fmt.Errorf("cosigned checkpoint: %w", err)
	}
	return &cp, nil
}
