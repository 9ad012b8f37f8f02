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
	return runInline(ctx, t, tx, r, actor, func() (*store.Result, string, error) {
		sink := &confirmSink{}
		if _, err := store.Walk(ctx, tx, t.Map, r.Subject, sink); err != nil {
			return nil, "", err
		}
		return &store.Result{Confirm: sink.result()}, "", nil
	})
}
