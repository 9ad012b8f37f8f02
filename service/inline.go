package service

import (
	"context"

	"github.com/titular/titular/store"
)

// runInline records RECEIVED -> PROCESSING, runs work, stores the result it
// returns (when not nil) and records PROCESSING -> COMPLETED with its note,
// all in tx: an inline kind's error rolls back the request with its work.
func runInline(ctx context.Context, tx *store.Tx, r *store.Request, actor string,
	work func() (res *store.Result, note string, err error)) (*store.Request, error) {
	if _, err := tx.Transition(ctx, r.ID, []store.Status{store.StatusReceived}, store.StatusProcessing, actor, ""); err != nil {
		return nil, err
	}
	res, note, err := work()
	if err != nil {
		return nil, err
	}
	if res != nil {
		if err := tx.SetOutcome(ctx, r.ID, res, nil); err != nil {
			return nil, err
		}
	}
	done, err := tx.Transition(ctx, r.ID, []store.Status{store.StatusProcessing}, store.StatusCompleted, actor, note)
	if err != nil {
		return nil, err
	}
	if res != nil {
		done.Result = res
	}
	return done, nil
}
