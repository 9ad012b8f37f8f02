package service

import (
	"context"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// confirm answers a CONFIRM inside the transaction that created it (Art. 19
// I: simplified and immediate), recording RECEIVED -> PROCESSING -> COMPLETED.
func confirm(ctx context.Context, t *tenant.Tenant, tx *store.Tx, r *store.Request, actor string) (*store.Request, error) {
	return runInline(ctx, tx, r, actor, func() (*store.Result, string, error) {
		sink := &confirmSink{}
		if _, err := crm.Walk(ctx, tx.CRM(), t.Map, r.Subject, sink); err != nil {
			return nil, "", err
		}
		return &store.Result{Confirm: sink.result()}, "", nil
	})
}
