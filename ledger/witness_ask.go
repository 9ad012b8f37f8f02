package ledger

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/mod/sumdb/note"
)

// Asking a witness what it has seen: the evidence a witness holds lives
// outside the tenant's database, so a restore of an older copy of the whole
// database (cosignatures included) still disagrees with it. tlog-witness has
// no read endpoint; a submission with old size 0 is answered 409 with the
// size the witness last cosigned for the origin (text/x.tlog.size), and a
// submission from that size with a consistency proof is checked against the
// root the witness holds.

// ErrRolledBack means a witness has cosigned this ledger beyond, or beside,
// the checkpoint shown to it: the ledger was rolled back or rewritten.
type ErrRolledBack struct {
	Witness     string
	WitnessSize uint64 // the size the witness last cosigned
	Size        uint64 // the size of the checkpoint shown to it
	Forked      bool   // the witness's root at WitnessSize is not this ledger's
}

func (e *ErrRolledBack) Error() string {
	if e.Forked {
		return fmt.Sprintf("witness %s cosigned this ledger at size %d with another root than the ledger's checkpoint of size %d extends: "+
			"the ledger was rolled back to an older copy and rewritten, or forked", e.Witness, e.WitnessSize, e.Size)
	}
	return fmt.Sprintf("witness %s has cosigned this ledger at size %d, but its latest checkpoint here is of size %d: "+
		"the ledger was rolled back to an older copy (a restore of the database, cosignatures included, does not change what the witness remembers)",
		e.Witness, e.WitnessSize, e.Size)
}

// WitnessView is what a witness agreed to.
type WitnessView struct {
	// Size is the size the witness had cosigned before it was asked (0:
	// it had never seen this ledger).
	Size uint64
	// Cosigned is the checkpoint shown to it with its cosignature.
	Cosigned []byte
}

// AskWitness shows signed, a checkpoint of size size, to the witness and
// returns the size the witness had cosigned before, once the witness has
// agreed that signed extends it (proof returns a consistency proof from an
// older size to size). A witness that has cosigned a larger size, or another
// root, yields *ErrRolledBack; one that cannot be reached, its error. The
// witness cosigns signed on the way, as it would from serve.
func AskWitness(ctx context.Context, client *http.Client, baseURL string, witness note.Verifier,
	signed []byte, size uint64, proof func(old uint64) ([][]byte, error)) (WitnessView, error) {
	old := uint64(0)
	var p [][]byte
	// A submission can meet a witness another process moved meanwhile
	// (serve pushing a newer checkpoint): ask again from its new size.
	for attempt := 0; attempt < 3; attempt++ {
		cosigned, err := AddCheckpoint(ctx, client, baseURL, witness, old, p, signed)
		var conflict *ErrWitnessConflict
		var refused *ErrWitnessRefused
		switch {
		case err == nil:
			return WitnessView{Size: old, Cosigned: cosigned}, nil
		case errors.As(err, &conflict) && conflict.Size > size:
			return WitnessView{}, &ErrRolledBack{Witness: witness.Name(), WitnessSize: conflict.Size, Size: size}
		case errors.As(err, &conflict):
			old = conflict.Size
			if p, err = proof(old); err != nil {
				return WitnessView{}, fmt.Errorf("consistency proof from size %d: %w", old, err)
			}
		case errors.As(err, &refused) && refused.Status == http.StatusUnprocessableEntity && old > 0:
			return WitnessView{}, &ErrRolledBack{Witness: witness.Name(), WitnessSize: old, Size: size, Forked: true}
		default:
			return WitnessView{}, err
		}
	}
	return WitnessView{}, fmt.Errorf("witness %s kept answering with another size (last %d); another process is submitting checkpoints, try again", witness.Name(), old)
}
