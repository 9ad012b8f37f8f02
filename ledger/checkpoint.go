package ledger

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

// Origin is the checkpoint origin line of a tenant's ledger:
// "<host>/ledger/<tenant>". A checkpoint names the log it commits to, so one
// tenant's checkpoint never passes for another's.
func Origin(host, tenant string) string { return host + "/ledger/" + tenant }

// Checkpoint is a tree head: the log, its size and its root hash.
type Checkpoint = log.Checkpoint

// SignCheckpoint returns the signed note of the C2SP tlog-checkpoint
// "origin\nsize\nbase64(root)\n" followed by the signature line.
func SignCheckpoint(s note.Signer, origin string, size uint64, root []byte) ([]byte, error) {
	if len(root) != HashSize {
		return nil, fmt.Errorf("checkpoint root must be %d bytes, got %d", HashSize, len(root))
	}
	body := Checkpoint{Origin: origin, Size: size, Hash: root}.Marshal()
	signed, err := note.Sign(&note.Note{Text: string(body)}, s)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	return signed, nil
}

// OpenCheckpoint checks a signed checkpoint's signature and origin and
// returns the tree head it commits to. The signature must be v's, or, for a
// checkpoint signed before the signing key was rotated, one of previous's.
func OpenCheckpoint(signed []byte, origin string, v note.Verifier, previous ...note.Verifier) (*Checkpoint, error) {
	if v == nil {
		return nil, errors.New("no verifier key to check the checkpoint signature")
	}
	var errs []error
	for _, k := range append([]note.Verifier{v}, previous...) {
		cp, _, _, err := log.ParseCheckpoint(signed, origin, k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(cp.Hash) != HashSize {
			return nil, fmt.Errorf("checkpoint root must be %d bytes, got %d", HashSize, len(cp.Hash))
		}
		return cp, nil
	}
	if len(previous) == 0 {
		return nil, fmt.Errorf("checkpoint: %w", errs[0])
	}
	return nil, fmt.Errorf("checkpoint: signed by none of the %d known keys: %w", len(errs), errors.Join(errs...))
}

// GenerateKey returns a new Ed25519 signer key and its verifier key, in the
// signed-note encodings ("PRIVATE+KEY+name+hash+key" and "name+hash+key").
// name identifies the signer in each signature line, e.g. the host.
func GenerateKey(name string) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("generate signing key: %w", err)
	}
	return skey, vkey, nil
}

// NewSigner parses a signer key.
func NewSigner(skey string) (note.Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("ledger signing key: %w (expected a key written by 'titular ledger keygen')", err)
	}
	return s, nil
}

// NewVerifier parses a verifier key.
func NewVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("ledger verifier key: %w (expected the .pub written by 'titular ledger keygen')", err)
	}
	return v, nil
}

// VerifierKey derives the public verifier key of a signer key, so a service
// holding only its signing key can publish and check with the public half.
func VerifierKey(skey string) (string, error) {
	skey = strings.TrimSpace(skey)
	if _, err := NewSigner(skey); err != nil {
		return "", err
	}
	// NewSigner accepted it, so the shape is PRIVATE+KEY+name+hash+base64.
	parts := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return "", errors.New("ledger signing key: not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}
