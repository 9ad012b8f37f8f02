package store

import (
	"context"
	"testing"

	"github.com/titular/titular/ledger"
)

// TestCheckpointBesideAnotherSigner: a signer that integrates and stores a
// checkpoint while another is between its reads (the scheduler's job beside
// a GetCheckpoint call) does not make the other refuse an untouched ledger.
// Read head first, latest checkpoint second, the other signer's checkpoint
// looked longer than the tree: "the ledger does not extend its last signed
// checkpoint", HTTP 500, now and then.
func TestCheckpointBesideAnotherSigner(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	skey, vkey, err := ledger.GenerateKey("titular.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ledger.NewSigner(skey)
	verifier, _ := ledger.NewVerifier(vkey)
	origin := ledger.Origin("titular.test", "demo")
	appendLeaves(t, s, 0, 5)
	if _, err := s.Checkpoint(ctx, signer, verifier, origin); err != nil {
		t.Fatal(err)
	}
	// Leaves 5..7 wait in pending; the first signer integrates them.
	for i := 5; i < 8; i++ {
		if err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error { return tx.AppendLeaf(ctx, benchLeaf(i)) }); err != nil {
			t.Fatal(err)
		}
	}
	other := New(db, WithLedgerKey(s.ledgerKey))
	raced := false
	s.failpoint = func(step string) error {
		if step != "checkpoint.read" || raced {
			return nil
		}
		raced = true
		appendLeaves(t, other, 8, 9) //nolint:contextcheck // the helper's own background context: the race needs no cancellation
		if cp, err := other.Checkpoint(ctx, signer, verifier, origin); err != nil || cp.Size != 9 {
			t.Errorf("the other signer: size %d, %v", cp.Size, err)
		}
		return nil
	}
	cp, err := s.Checkpoint(ctx, signer, verifier, origin)
	if !raced {
		t.Fatal("the failpoint checkpoint.read was never reached")
	}
	if err != nil {
		t.Fatalf("checkpoint beside another signer: %v", err)
	}
	if cp.Size != 9 {
		t.Errorf("checkpoint of %d entries, want 9", cp.Size)
	}
	verifyLedger(t, s, ledger.Checks{Origin: origin, Verifier: verifier})
}

// TestLatestCheckpointIsLargest: a smaller checkpoint stored after a larger
// one (two signers racing) does not become the latest: it never goes back.
func TestLatestCheckpointIsLargest(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	root := ledger.EmptyRoot()
	for _, size := range []uint64{3, 9, 8} {
		if _, err := s.SaveCheckpoint(ctx, size, root, "note"); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := s.LatestCheckpoint(ctx)
	if err != nil || cp.Size != 9 {
		t.Fatalf("latest checkpoint: size %d, %v; want 9", cp.Size, err)
	}
}
