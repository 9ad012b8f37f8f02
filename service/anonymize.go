package service

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// checkAnonymizable refuses an ANONYMIZE at creation when the tenant's data
// map would leave a personal field as it is, or only pseudonymized (Art. 12,
// 13): the caller learns at once which fields to fix, and no request is
// recorded that could only be denied. The worker checks again, in case the
// map changed in between; there a refusal DENIES the request with reasons.
func checkAnonymizable(t *tenant.Tenant) error {
	_, err := crm.PlanAnonymize(t.Map, t.Anonymizers)
	var refused *crm.RefusedError
	if errors.As(err, &refused) {
		return errorf(codes.FailedPrecondition, "MAP_NOT_ANONYMIZING",
			"%s; give each personal field an irreversible anonymizer, or a retention hold with on_delete: block, and reload the data map", refused.Error())
	}
	return err
}

// anonymize runs an ANONYMIZE in one transaction: the titular's rows are
// found in a snapshot and rewritten with the map's anonymizers, except rows
// a retention hold blocks, which the result names with basis and release
// date (Art. 16 I, 18 §4 II) and lgpd_blocks records, so the sweep
// anonymizes them when the hold ends (Sweep).
func (w *Worker) anonymize(ctx context.Context, t *tenant.Tenant, r *store.Request) error {
	plan, err := crm.PlanAnonymize(t.Map, t.Anonymizers)
	var refused *crm.RefusedError
	if errors.As(err, &refused) {
		return w.deny(ctx, t, r, refused.Reasons)
	}
	if err != nil {
		return err
	}
	// The values are derived from a secret drawn for this run and dropped
	// with it: consistent across the titular's tables within the request, so
	// joins hold, but no key titular keeps can recompute them (Art. 12). A
	// retried run draws another; the first run's writes were rolled back.
	key, err := anonymize.NewRequestKey()
	if err != nil {
		return err
	}
	err = w.leased(ctx, t, r, func(ctx context.Context, tx *store.Tx) error {
		// The walk reads a snapshot on its own connection while tx writes:
		// rows stream through in batches instead of piling up in memory.
		// InnoDB's default isolation (REPEATABLE READ) makes it a snapshot,
		// as in extract, without a `SET TRANSACTION` round trip.
		read, err := t.Store.Snapshot(ctx)
		if err != nil {
			return fmt.Errorf("begin snapshot: %w", err)
		}
		defer read.Close()
		res, err := crm.New(t.Store.Now).Anonymize(ctx, read.CRM(), tx.CRM(), plan, key, r.Subject)
		if err != nil {
			return err
		}
		if err := tx.RecordAnonymization(ctx, r.ID, r.SubjectRef, res); err != nil {
			return err
		}
		// Anonymization ends consent (consent_erasure.go).
		if _, err := endConsentsByErasure(ctx, t, tx, r); err != nil {
			return err
		}
		reasons := holdReasons(res.Holds, func(h crm.Hold) string {
			return fmt.Sprintf("%d registro(s) mantidos como estão por retenção legal até o fim do prazo; serão anonimizados automaticamente quando o prazo terminar", h.Rows)
		})
		var entities []string
		for _, e := range res.Entities {
			if e.Rows > 0 {
				entities = append(entities, e.Entity)
			}
		}
		if err := propagate(ctx, t, tx, r, store.EventSubjectAnonymized, map[string]any{"entities": entities}); err != nil {
			return err
		}
		return finish(ctx, tx, r, store.StatusCompleted, &store.Result{Anonymize: res}, reasons)
	})
	if errors.As(err, &refused) {
		return w.deny(ctx, t, r, refused.Reasons)
	}
	return err
}

// deny ends a claimed request as DENIED with its reasons (Art. 18 §4).
func (w *Worker) deny(ctx context.Context, t *tenant.Tenant, r *store.Request, reasons []store.Reason) error {
	return w.leased(ctx, t, r, func(ctx context.Context, tx *store.Tx) error {
		return finish(ctx, tx, r, store.StatusDenied, nil, reasons)
	})
}
