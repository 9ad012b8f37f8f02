package store

import (
	"context"
	"database/sql"
	"time"
)

// completionEvents are the states a request announces on entering them, so
// the CRM and the portal learn of results without polling.
var completionEvents = map[Status]string{
	StatusCompleted:        EventRequestCompleted,
	StatusDenied:           EventRequestDenied,
	StatusFailed:           EventRequestFailed,
	StatusAwaitingApproval: EventRequestAwaitingApproval,
}

// CompletionData is the data of a completion event: what the request was
// and how it ended, in counts and codes. It holds no personal data: the
// titular is the event's subject_ref, reasons are their codes (a reason's
// message is for the titular, in the request), entities are names.
type CompletionData struct {
	Kind        Kind       `json:"kind"`
	Status      Status     `json:"status"`
	ReceivedAt  time.Time  `json:"received_at"`
	DueAt       time.Time  `json:"due_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	// Reasons are the codes of a denial's, failure's or partial
	// fulfilment's reasons (e.g. RETENTION_HOLD).
	Reasons []string `json:"reasons,omitempty"`
	// Entities are the rows the request read or changed, per entity, and
	// TotalRows their sum; absent for kinds that touch no rows.
	Entities  []EntityCount `json:"entities,omitempty"`
	TotalRows int64         `json:"total_rows"`
}

// completion returns r's completion event on entering `to`, or nil when
// `to` is not announced. r carries the outcome recorded in the transaction.
func completion(r *Request, to Status, at time.Time) *OutboxEvent {
	typ, ok := completionEvents[to]
	if !ok {
		return nil
	}
	d := CompletionData{Kind: r.Kind, Status: to, ReceivedAt: r.ReceivedAt, DueAt: r.DueAt}
	if to.Final() {
		d.CompletedAt = &at
	}
	for _, rs := range r.Reasons {
		d.Reasons = append(d.Reasons, rs.Code)
	}
	d.Entities = resultCounts(r.Result)
	for _, c := range d.Entities {
		d.TotalRows += c.Rows
	}
	return &OutboxEvent{Type: typ, SubjectRef: r.SubjectRef, RequestID: r.ID, Data: d}
}

// resultCounts is how many rows each entity's part of a result counts: read
// (EXTRACT), changed, blocked or held (DELETE, ANONYMIZE, CORRECT, BLOCK).
func resultCounts(res *Result) []EntityCount {
	if res == nil {
		return nil
	}
	switch {
	case res.Extract != nil:
		return res.Extract.Entities
	case res.Correct != nil:
		return res.Correct.Entities
	case res.Block != nil:
		return res.Block.Entities
	case res.Delete != nil:
		out := make([]EntityCount, 0, len(res.Delete.Entities))
		for _, c := range res.Delete.Entities {
			out = append(out, EntityCount{Entity: c.Entity, Rows: c.Deleted + c.Blocked + c.Anonymized})
		}
		return out
	case res.Anonymize != nil:
		out := make([]EntityCount, 0, len(res.Anonymize.Entities))
		for _, c := range res.Anonymize.Entities {
			out = append(out, EntityCount{Entity: c.Entity, Rows: c.Rows + c.Held})
		}
		return out
	}
	return nil
}

// completionRow is the outbox row announcing r's state `to`, routed to the
// endpoints subscribed to it for the entities the request touched; ok is
// false when `to` is not announced.
func (s *Store) completionRow(r *Request, to Status, at time.Time) (outboxRow, bool) {
	e := completion(r, to, at)
	if e == nil {
		return outboxRow{}, false
	}
	var entities []string
	for _, c := range e.Data.(CompletionData).Entities {
		if c.Rows > 0 {
			entities = append(entities, c.Entity)
		}
	}
	return outboxRow{event: e, endpoints: s.subscribers(e.Type, entities)}, true
}

// announce enqueues, in tx, the completion event of r entering `to`, if
// it has one: the one hook every transition goes through (Transition,
// Release's FAILED, the CONSENT batch), so a new kind gets it for free.
func (s *Store) announce(ctx context.Context, tx *sql.Tx, r *Request, to Status, at time.Time) error {
	row, ok := s.completionRow(r, to, at)
	if !ok {
		return nil
	}
	return s.insertOutbox(ctx, tx, []outboxRow{row})
}
