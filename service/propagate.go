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
//
// Endpoints tied to a recipient receive it when one of the entities it
// names (data's "entities", or its "holds"' entity) is shared with that
// recipient. Endpoints that opted in to identifiers also receive, inside
// the signed body, the identifiers the request was made with: they are
// taken here, from the request as the worker read it, because a complete
// erasure clears them from the request in this same transaction and a
// delivery made later would find none. They are sealed in the outbox
// (store.EventPrivate), never stored in plain text.
func propagate(ctx context.Context, t *tenant.Tenant, tx *store.Tx, r *store.Request, event string, data map[string]any) error {
	return propagateWith(ctx, t, tx, r, event, data, nil)
}

// propagateWith is propagate with a correction's new values, which only
// endpoints opted in to identifiers receive.
func propagateWith(ctx context.Context, t *tenant.Tenant, tx *store.Tx, r *store.Request, event string, data map[string]any, newValues map[string]string) error {
	var private *store.EventPrivate
	if !r.Subject.Empty() || len(newValues) > 0 {
		private = &store.EventPrivate{Identifiers: r.Subject, NewValues: newValues}
	}
	_, err := tx.EnqueueEvent(ctx, store.OutboxEvent{
		Type: event, SubjectRef: r.SubjectRef, RequestID: r.ID, Data: data, Private: private,
	}, t.Subscribers(event, eventEntities(data)))
	return err
}

// eventEntities are the entities an event's data names.
func eventEntities(data map[string]any) []string {
	var out []string
	if es, ok := data["entities"].([]string); ok {
		out = append(out, es...)
	}
	if hs, ok := data["holds"].([]map[string]any); ok {
		for _, h := range hs {
			if e, ok := h["entity"].(string); ok {
				out = append(out, e)
			}
		}
	}
	return out
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
