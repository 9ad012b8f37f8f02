package service

import (
	"context"
	"fmt"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
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
	// their non-retained fields with the tenant's anonymizers, keyed by a
	// secret drawn for this request and never kept (Art. 12).
	plan, err := crm.PlanDelete(t.Map, t.Anonymizers)
	if err != nil {
		return err
	}
	key, err := anonymize.NewRequestKey()
	if err != nil {
		return err
	}
	return w.leased(ctx, t, r, func(ctx context.Context, tx *store.Tx) error {
		res, err := eraseSubject(ctx, crm.New(t.Store.Now), tx, plan, key, t.Map, r)
		if err != nil {
			return err
		}
		// Erasure ends consent, even a partial one (consent_erasure.go).
		kept, err := endConsentsByErasure(ctx, t, tx, r)
		if err != nil {
			return err
		}
		if res.EvidenceKept == nil {
			res.EvidenceKept = kept
		}
		anonymized := map[string]int64{}
		for _, c := range res.Entities {
			anonymized[c.Entity] = c.Anonymized
		}
		reasons := holdReasons(res.Holds, func(h crm.Hold) string {
			switch {
			case h.Code == crm.CodeFKActionOnHeldRows:
				return fmt.Sprintf("%d registro(s) mantidos e bloqueados: excluí-los faria a chave estrangeira %s do CRM alterar ou apagar registros que devem ficar intactos (retidos ou fora do mapa de dados)",
					h.Rows, h.Constraint)
			case h.Until == nil || h.Basis == crm.HeldByDependants:
				return fmt.Sprintf("%d registro(s) mantidos e bloqueados porque dados sob retenção legal dependem deles", h.Rows)
			case anonymized[h.Entity] > 0:
				return fmt.Sprintf("%d registro(s) mantidos e bloqueados por retenção legal até o fim do prazo; %d anonimizado(s) nos campos que a retenção não exige",
					h.Rows, anonymized[h.Entity])
			}
			return fmt.Sprintf("%d registro(s) mantidos e bloqueados por retenção legal até o fim do prazo", h.Rows)
		})
		if k := res.EvidenceKept; k != nil {
			until := k.Until
			reasons = append(reasons, store.Reason{Code: "CONSENT_EVIDENCE_KEPT", LegalReference: k.Reference, Until: &until,
				Message: fmt.Sprintf("evidências de %d registro(s) de consentimento (IP, navegador, responsável pela coleta) mantidas como prova do consentimento até o fim do prazo", k.Records)})
		}
		if err := propagateErasure(ctx, t, tx, r, res); err != nil {
			return err
		}
		return finish(ctx, tx, r, store.StatusCompleted, &store.Result{Delete: res}, reasons)
	})
}

// eraseSubject is a DELETE's work in tx: the executor erases r's titular's
// rows in the CRM, and the records say what it kept (blocks, for the sweep)
// and what titular forgot of the titular.
func eraseSubject(ctx context.Context, x *crm.Executor, tx *store.Tx, plan *crm.AnonymizePlan, key *anonymize.Key,
	m *datamap.Map, r *store.Request) (*store.DeleteOutcome, error) {
	done, err := x.Delete(ctx, tx.CRM(), plan, key, r.Subject)
	if err != nil {
		return nil, err
	}
	return tx.RecordErasure(ctx, r.ID, r.SubjectRef, done, m.ConsentEvidence)
}

// propagateErasure tells sharing recipients what went and what is blocked
// (Art. 18 §6), by entity and hold, never by value.
func propagateErasure(ctx context.Context, t *tenant.Tenant, tx *store.Tx, r *store.Request, res *store.DeleteOutcome) error {
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
