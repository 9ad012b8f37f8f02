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
// which are blocked (and anonymized on their non-retained fields when the
// hold says on_delete: anonymize); the request completes naming each hold with its basis
// and release date (Art. 16 I, 18 §4 II).
func (w *Worker) erase(ctx context.Context, t *tenant.Tenant, r *store.Request) error {
	// Held rows of an entity with on_delete: anonymize are anonymized on
	// their non-retained fields with the tenant's anonymizers and key.
	plan, err := store.PlanDelete(t.Map, t.Anonymizers)
	if err != nil {
		return err
	}
	return t.Store.ReadWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := t.Store.CheckLease(ctx, tx, r.ID, w.owner); err != nil {
			return err
		}
		res, err := t.Store.DeleteSubject(ctx, tx, plan, t.AnonymizeKey, r.Subject, r.ID, r.SubjectRef)
		if err != nil {
			return err
		}
		anonymized := map[string]int64{}
		for _, c := range res.Entities {
			anonymized[c.Entity] = c.Anonymized
		}
		var reasons []store.Reason
		for _, h := range res.Holds {
			msg := fmt.Sprintf("%d registro(s) mantidos e bloqueados por retenção legal até o fim do prazo", h.Rows)
			switch {
			case h.Until == nil:
				msg = fmt.Sprintf("%d registro(s) mantidos e bloqueados porque dados sob retenção legal dependem deles", h.Rows)
			case anonymized[h.Entity] > 0:
				msg = fmt.Sprintf("%d registro(s) mantidos e bloqueados por retenção legal até o fim do prazo; %d anonimizado(s) nos campos que a retenção não exige",
					h.Rows, anonymized[h.Entity])
			}
			reasons = append(reasons, store.Reason{Code: "RETENTION_HOLD", Message: msg,
				LegalReference: h.Reference, Entity: h.Entity, Until: h.Until})
		}
		if err := t.Store.SetOutcome(ctx, tx, r.ID, &store.Result{Delete: res}, reasons); err != nil {
			return err
		}
		if err := propagateErasure(ctx, t, tx, r, res); err != nil {
			return err
		}
		_, err = t.Store.Transition(ctx, tx, r.ID, []string{store.StatusProcessing}, store.StatusCompleted, "worker", "")
		return err
	})
}

// propagateErasure tells sharing recipients what went and what is blocked
// (Art. 18 §6), by entity and hold, never by value.
func propagateErasure(ctx context.Context, t *tenant.Tenant, tx *sql.Tx, r *store.Request, res *store.DeleteResult) error {
	var deleted []string
	for _, c := range res.Entities {
		if c.Deleted > 0 {
			deleted = append(deleted, c.Entity)
		}
	}
	if err := propagate(ctx, t, tx, r, store.EventSubjectDeleted, map[string]any{"entities": deleted, "complete": res.Complete}); err != nil {
		return err
	}
	if len(res.Holds) == 0 {
		return nil
	}
	holds := make([]map[string]any, 0, len(res.Holds))
	for _, h := range res.Holds {
		holds = append(holds, map[string]any{"entity": h.Entity, "basis": h.Basis, "until": h.Until})
	}
	return propagate(ctx, t, tx, r, store.EventSubjectBlocked, map[string]any{"holds": holds})
}
