package service

import (
	"context"

	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// propagate records, in the transaction making the change, the event that
// tells the tenant's sharing recipients to repeat it (LGPD art. 18 §6). The
// payload names entities and fields, never values: the titular is only the
// subject reference.
func propagate(ctx context.Context, t *tenant.Tenant, tx *store.Tx, r *store.Request, event string, data map[string]any) error {
	_, err := tx.EnqueueEvent(ctx, store.OutboxEvent{
		Type: event, SubjectRef: r.SubjectRef, RequestID: r.ID, Data: data,
	}, t.Config.WebhooksFor(event))
	return err
}

// touched lists the entities with a non-zero count.
func touched(counts []store.EntityCount) []string {
	var out []string
	for _, c := range counts {
		if c.Rows > 0 {
			out = append(out, c.Entity)
		}
	}
	return out
}
