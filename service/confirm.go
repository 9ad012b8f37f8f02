package service

import (
	"context"
	"database/sql"

	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// confirm answers a CONFIRM inside the transaction that created it (Art. 19
// I: simplified and immediate), recording RECEIVED -> PROCESSING -> COMPLETED.
func confirm(ctx context.Context, t *tenant.Tenant, tx *sql.Tx, r *store.Request, actor string) (*store.Request, error) {
	if _, err := t.Store.Transition(ctx, tx, r.ID, []string{store.StatusReceived}, store.StatusProcessing, actor, ""); err != nil {
		return nil, err
	}
	sink := &confirmSink{}
	if _, err := store.Walk(ctx, tx, t.Map, r.Subject, sink); err != nil {
		return nil, err
	}
	res := &store.Result{Confirm: sink.result()}
	if err := t.Store.SetOutcome(ctx, tx, r.ID, res, nil); err != nil {
		return nil, err
	}
	done, err := t.Store.Transition(ctx, tx, r.ID, []string{store.StatusProcessing}, store.StatusCompleted, actor, "")
	if err != nil {
		return nil, err
	}
	done.Result = res
	return done, nil
}
