package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/ledger"
)

// ErrLedgerInconsistent means the stored tree no longer extends the last
// checkpoint titular signed: someone rewrote the ledger. titular refuses to
// sign over it; `titular ledger verify` names the first bad entry.
var ErrLedgerInconsistent = errors.New("the ledger does not extend its last signed checkpoint; run titular ledger verify")

// Checkpoint integrates pending leaves and returns a signed checkpoint of
// the current tree: the latest stored one when the tree has not grown since,
// else a new one, stored. Before signing it checks, with a consistency proof
// from stored nodes, that the tree extends the previous checkpoint, so
// titular never signs a rewritten history. previous are the verifier keys of
// signing keys rotated out: the last checkpoint may be signed by one.
func (s *Store) Checkpoint(ctx context.Context, signer note.Signer, verifier note.Verifier, origin string, previous ...note.Verifier) (StoredCheckpoint, error) {
	if _, err := s.Integrate(ctx); err != nil {
		return StoredCheckpoint{}, err
	}
	// The latest checkpoint before the head: another signer (the
	// scheduler's job beside an API call) may integrate and store a
	// checkpoint in between, and read in the other order that checkpoint
	// would look longer than the tree, refused as a rewritten history.
	prev, prevErr := s.LatestCheckpoint(ctx)
	if err := s.fail("checkpoint.read"); err != nil {
		return StoredCheckpoint{}, err
	}
	head, err := s.LedgerHead(ctx)
	if err != nil {
		return StoredCheckpoint{}, err
	}
	switch err := prevErr; {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return StoredCheckpoint{}, err
	default:
		cp, err := ledger.OpenCheckpoint([]byte(prev.Note), origin, verifier, previous...)
		if err != nil {
			return StoredCheckpoint{}, fmt.Errorf("%w: the latest stored checkpoint does not verify: %v "+
				"(if the signing key was replaced, list the old verifier key in ledger.previous_verifier_keys)", ErrLedgerInconsistent, err)
		}
		if cp.Size == head.Size && bytes.Equal(cp.Hash, head.Root) {
			return prev, nil
		}
		if cp.Size > head.Size {
			return StoredCheckpoint{}, fmt.Errorf("%w: the tree has %d entries, the last checkpoint %d", ErrLedgerInconsistent, head.Size, cp.Size)
		}
		proof, err := s.ConsistencyProof(ctx, cp.Size, head.Size)
		if err != nil {
			return StoredCheckpoint{}, err
		}
		if err := ledger.VerifyConsistency(cp.Size, head.Size, proof, cp.Hash, head.Root); err != nil {
			return StoredCheckpoint{}, fmt.Errorf("%w: %v", ErrLedgerInconsistent, err)
		}
	}
	signed, err := ledger.SignCheckpoint(signer, origin, head.Size, head.Root)
	if err != nil {
		return StoredCheckpoint{}, err
	}
	return s.SaveCheckpoint(ctx, head.Size, head.Root, string(signed))
}
