package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/ledger"
)

func keyPair(t *testing.T, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := ledger.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := ledger.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return signer, verifier
}

// TestCheckpointKeyRotation: after the signing key is replaced, titular
// keeps extending checkpoints the old key signed when it is told the old
// verifier key, and refuses (naming the setting) when it is not; verify
// accepts checkpoints of both keys the same way.
func TestCheckpointKeyRotation(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	origin := ledger.Origin("titular.test", "demo")
	oldSigner, oldVerifier := keyPair(t, "titular.test")
	newSigner, newVerifier := keyPair(t, "titular.test")

	appendLeaves(t, s, 0, 40)
	cpOld, err := s.Checkpoint(ctx, oldSigner, oldVerifier, origin)
	if err != nil {
		t.Fatal(err)
	}
	appendLeaves(t, s, 40, 70)
	_, err = s.Checkpoint(ctx, newSigner, newVerifier, origin)
	if !errors.Is(err, ErrLedgerInconsistent) || !strings.Contains(err.Error(), "previous_verifier_keys") {
		t.Fatalf("new key without the old one: %v; want a refusal naming ledger.previous_verifier_keys", err)
	}
	cpNew, err := s.Checkpoint(ctx, newSigner, newVerifier, origin, oldVerifier)
	if err != nil {
		t.Fatalf("new key with the old one listed: %v", err)
	}
	if _, err := ledger.OpenCheckpoint([]byte(cpNew.Note), origin, newVerifier); err != nil || cpNew.Size != 70 {
		t.Fatalf("the new checkpoint (size %d) is not the new key's: %v", cpNew.Size, err)
	}
	// Once the new key has signed, it extends its own checkpoints.
	appendLeaves(t, s, 70, 80)
	if _, err := s.Checkpoint(ctx, newSigner, newVerifier, origin); err != nil {
		t.Fatalf("the new key extending its own checkpoint: %v", err)
	}

	checks := ledger.Checks{Checkpoints: [][]byte{[]byte(cpOld.Note), []byte(cpNew.Note)}, Origin: origin, Verifier: newVerifier}
	if _, err := s.VerifyLedger(ctx, checks); err == nil {
		t.Error("verify accepted a checkpoint of a key it was not given")
	}
	checks.Previous = []note.Verifier{oldVerifier}
	rep := verifyLedger(t, s, checks)
	if len(rep.Checkpoints) < 2 {
		t.Errorf("verified %d checkpoints, want the old key's and the new key's", len(rep.Checkpoints))
	}
}
