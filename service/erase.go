package service

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// erase runs a DELETE in one transaction: every row of the titular the map
// reaches goes, children first, except rows under a running retention hold,
// which are blocked; the request completes naming each hold with its basis
// and release date (Art. 16 I, 18 §4 II).
func (w *Worker) erase(ctx context.Context, t *tenant.Tenant, r *store.Request) error {
	return t.Store.ReadWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := t.Store.CheckLease(ctx, tx, r.ID, w.owner); err != nil {
			return err
		}
		res, err := t.Store.DeleteSubject(ctx, tx, t.Map, r.Subject, r.ID, r.SubjectRef)
		if err != nil {
			return err
		}
		var reasons []store.Reason
		for _, h := range res.Holds {
			msg := fmt.Sprintf("%d registro(s) mantidos e bloqueados por retenção legal até o fim do prazo", h.Rows)
			if h.Until == nil {
				msg = fmt.Sprintf("%d registro(s) mantidos e bloqueados porque dados sob retenção legal dependem deles", h.Rows)
			}
			reasons = append(reasons, store.Reason{Code: "RETENTION_HOLD", Message: msg,
				LegalReference: h.Reference, Entity: h.Entity, Until: h.Until})
		}
		if err := t.Store.SetOutcome(ctx, tx, r.ID, &store.Result{Delete: res}, reasons); err != nil {
			return err
		}
		_, err = t.Store.Transition(ctx, tx, r.ID, []string{store.StatusProcessing}, store.StatusCompleted, "worker", "")
		return err
	})
}
