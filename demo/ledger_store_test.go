package demo_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/ledger"
	"github.com/titular/titular/store"
)

// TestDemoLedgerProofShapes runs the store's proof and checkpoint reads on
// the demo engine for every tree size up to 40 and every entry and every
// pair of sizes: each node read shape (one leaf hash, one upper node, both,
// many) is met, which the API test meets only by chance.
func TestDemoLedgerProofShapes(t *testing.T) {
	ctx := context.Background()
	db := engineDB(t, "ledger_shapes")
	if _, err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	s := store.New(db)
	signer, verifier := newSigner(t)
	const origin = "titular.test/ledger/shapes"
	var roots [][]byte // roots[n] is the root of the first n leaves
	rng, err := ledger.NewRange(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	roots = append(roots, ledger.EmptyRoot())
	const maxSize = 40
	for size := uint64(1); size <= maxSize; size++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "export %d", size))
		if err := s.RecordDelivery(ctx, fmt.Sprintf("00000000-0000-4000-8000-%012d", size), "ref", "json", hex.EncodeToString(sum[:])); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Integrate(ctx); err != nil || n != 1 {
			t.Fatalf("integrate leaf %d: %d, %v", size, n, err)
		}
		entries, err := s.LedgerEntries(ctx, size-1, size)
		if err != nil || len(entries) != 1 {
			t.Fatalf("entry %d: %v, %v", size-1, entries, err)
		}
		if err := rng.Append(ledger.HashLeaf(entries[0].Leaf), nil); err != nil {
			t.Fatal(err)
		}
		root, err := ledger.Root(rng)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, root)

		// The receipt's read: a request's last entry.
		last, err := s.LastRequestEntry(ctx, entries[0].RequestID)
		if err != nil || last.Seq != size-1 {
			t.Fatalf("last entry of request %d: %d, %v", size, last.Seq, err)
		}
		for index := range size {
			leaf, err := s.LedgerEntries(ctx, index, index+1)
			if err != nil || len(leaf) != 1 {
				t.Fatalf("entry %d: %v", index, err)
			}
			p, err := s.InclusionProof(ctx, index, size)
			if err != nil {
				t.Fatalf("inclusion proof of %d in %d: %v", index, size, err)
			}
			if err := ledger.VerifyInclusion(index, size, leaf[0].LeafHash, p, root); err != nil {
				t.Fatalf("inclusion proof of %d in %d: %v", index, size, err)
			}
		}
		for first := range size {
			p, err := s.ConsistencyProof(ctx, first, size)
			if err != nil {
				t.Fatalf("consistency proof %d -> %d: %v", first, size, err)
			}
			if err := ledger.VerifyConsistency(first, size, p, roots[first], root); err != nil {
				t.Fatalf("consistency proof %d -> %d: %v", first, size, err)
			}
		}
		// A checkpoint at every size (it proves consistency with the last
		// one before signing), and verify over the whole ledger.
		cp, err := s.Checkpoint(ctx, signer, verifier, origin)
		if err != nil {
			t.Fatalf("checkpoint at %d: %v", size, err)
		}
		if c, err := ledger.OpenCheckpoint([]byte(cp.Note), origin, verifier); err != nil || c.Size != size {
			t.Fatalf("checkpoint at %d: %+v, %v", size, c, err)
		}
		if size%10 == 0 {
			if rep, err := s.VerifyLedger(ctx, ledger.Checks{Origin: origin, Verifier: verifier}); err != nil {
				t.Fatalf("verify at %d: %+v, %v", size, rep, err)
			}
		}
	}
}

func newSigner(t *testing.T) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := ledger.GenerateKey("titular.test")
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
