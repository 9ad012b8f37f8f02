package ledger_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/ledger"
	"github.com/titular/titular/ledger/witnesstest"
)

// memLog is a small in-memory ledger: leaf hashes and a signer.
type memLog struct {
	hashes [][]byte
	signer note.Signer
	origin string
}

func (m *memLog) fetch(ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		rng, _ := ledger.NewRange(0, nil) // a perfect subtree hashes as a tree of its leaves
		for _, h := range m.hashes[id.Index<<id.Level : (id.Index+1)<<id.Level] {
			_ = rng.Append(h, nil)
		}
		out[i], _ = ledger.Root(rng)
	}
	return out, nil
}

func (m *memLog) checkpoint(t *testing.T, size int) ([]byte, []byte) {
	t.Helper()
	rng, _ := ledger.NewRange(0, nil)
	for _, h := range m.hashes[:size] {
		_ = rng.Append(h, nil)
	}
	root, _ := ledger.Root(rng)
	signed, err := ledger.SignCheckpoint(m.signer, m.origin, uint64(size), root) //nolint:gosec // G115: a test size
	if err != nil {
		t.Fatal(err)
	}
	return signed, root
}

func (m *memLog) proof(t *testing.T, from, to int) [][]byte {
	t.Helper()
	p, err := ledger.ConsistencyProof(uint64(from), uint64(to), m.fetch) //nolint:gosec // G115: test sizes
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWitnessProtocol: the tlog-witness client against the test witness:
// a first checkpoint, a consistent second one with its proof, a 409 with
// the witness's size for a wrong old size, 422 for a proof that does not
// hold, 403 for a checkpoint the log did not sign; each cosignature checks
// under the witness key and under no other.
func TestWitnessProtocol(t *testing.T) {
	skey, vkey, _ := ledger.GenerateKey("titular.test")
	signer, _ := ledger.NewSigner(skey)
	logKey, _ := ledger.NewVerifier(vkey)
	m := &memLog{signer: signer, origin: ledger.Origin("titular.test", "demo")}
	for i := range 13 {
		m.hashes = append(m.hashes, ledger.HashLeaf([]byte{byte(i)}))
	}
	w, err := witnesstest.New("witness.test", map[string]note.Verifier{m.origin: logKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	defer srv.Close()
	wkey, err := ledger.NewCosignatureVerifier(w.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	add := func(old uint64, proof [][]byte, signed []byte) ([]byte, error) {
		return ledger.AddCheckpoint(ctx, http.DefaultClient, srv.URL, wkey, old, proof, signed)
	}

	cp5, root5 := m.checkpoint(t, 5)
	cosigned, err := add(0, nil, cp5)
	if err != nil {
		t.Fatalf("first checkpoint: %v", err)
	}
	got, err := ledger.OpenCosigned(cosigned, wkey)
	if err != nil || got.Size != 5 || !bytes.Equal(got.Hash, root5) {
		t.Fatalf("cosigned checkpoint: %+v %v", got, err)
	}
	if _, err := ledger.OpenCheckpoint(cosigned, m.origin, logKey); err != nil {
		t.Errorf("the log's signature no longer checks beside the cosignature: %v", err)
	}
	// The cosignature form of the key (0x04) checks it too; another key not.
	if k04, err := ledger.CosignatureVerifierKey(w.VerifierKey()); err != nil {
		t.Fatal(err)
	} else if v04, _ := ledger.NewCosignatureVerifier(k04); v04 == nil || v04.KeyHash() != wkey.KeyHash() {
		t.Error("the 0x04 form of the witness key is another key")
	}
	other, _ := witnesstest.New("witness.test", nil)
	otherKey, _ := ledger.NewCosignatureVerifier(other.VerifierKey())
	if _, err := ledger.OpenCosigned(cosigned, otherKey); err == nil {
		t.Error("another witness's key accepts the cosignature")
	}
	altered := bytes.Replace(cosigned, []byte("\n5\n"), []byte("\n6\n"), 1)
	if _, err := ledger.OpenCosigned(altered, wkey); err == nil {
		t.Error("a cosignature checks on an altered checkpoint")
	}

	cp13, _ := m.checkpoint(t, 13)
	var conflict *ledger.ErrWitnessConflict
	if _, err := add(0, nil, cp13); !errors.As(err, &conflict) || conflict.Size != 5 {
		t.Fatalf("wrong old size: %v, want a conflict naming size 5", err)
	}
	bad := m.proof(t, 5, 13)
	bad[0] = bytes.Clone(bad[0])
	bad[0][0] ^= 1
	if _, err := add(5, bad, cp13); err == nil || !strings.Contains(err.Error(), "HTTP 422") {
		t.Fatalf("a broken consistency proof: %v, want HTTP 422", err)
	}
	foreignSkey, _, _ := ledger.GenerateKey("titular.test")
	foreign, _ := ledger.NewSigner(foreignSkey)
	forged, _ := (&memLog{hashes: m.hashes, signer: foreign, origin: m.origin}).checkpoint(t, 13)
	if _, err := add(5, m.proof(t, 5, 13), forged); err == nil || !strings.Contains(err.Error(), "HTTP 403") {
		t.Fatalf("a checkpoint the log did not sign: %v, want HTTP 403", err)
	}
	if _, err := add(5, m.proof(t, 5, 13), cp13); err != nil {
		t.Fatalf("a consistent checkpoint: %v", err)
	}
	if latest, _ := w.Latest(m.origin); latest.Size != 13 {
		t.Errorf("the witness's latest size is %d, want 13", latest.Size)
	}
	// A cosigner's timestamp is inside the signature: a fixed clock signs
	// the same bytes twice.
	s1, _ := ledger.NewCosigner(skey, func() time.Time { return time.Unix(1700000000, 0) })
	a, _ := s1.Sign([]byte("x\n"))
	b, _ := s1.Sign([]byte("x\n"))
	if !bytes.Equal(a, b) || len(a) != 8+64 {
		t.Errorf("cosignature/v1 encoding: %x %x", a, b)
	}
}
