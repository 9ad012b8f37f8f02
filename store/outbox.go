package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/titular/titular/internal/sqlq"
)

// Propagation event types (LGPD Art. 18 §6): what the tenant's webhook
// endpoints subscribe to.
const (
	EventConsentRevoked    = "consent.revoked"
	EventSubjectCorrected  = "subject.corrected"
	EventSubjectDeleted    = "subject.deleted"
	EventSubjectAnonymized = "subject.anonymized"
	EventSubjectBlocked    = "subject.blocked"
	// EventSubjectUnblocked: the DPO lifted a BLOCK (Art. 18 IV); the
	// titular's rows may be processed again.
	EventSubjectUnblocked = "subject.unblocked"

	// Completion events: a request reached an end (or waits for the DPO),
	// so the CRM and the portal learn of it without polling.
	EventRequestCompleted        = "request.completed"
	EventRequestDenied           = "request.denied"
	EventRequestFailed           = "request.failed"
	EventRequestAwaitingApproval = "request.awaiting_approval"

	// Review of automated decisions (Art. 20): asked by the titular,
	// answered by the DPO, so the CRM's decision process can act.
	EventDecisionReviewRequested = "decision.review_requested"
	EventDecisionReviewCompleted = "decision.review_completed"

	// Security incidents (Art. 48): the controller notifies the titulares
	// affected (the CRM e-mails them); the event names the incident, never
	// the titulares' data.
	EventIncidentNotified = "incident.notified"
)

// EventTypes lists every propagation event type.
func EventTypes() []string {
	return []string{EventConsentRevoked, EventSubjectCorrected, EventSubjectDeleted, EventSubjectAnonymized, EventSubjectBlocked,
		EventSubjectUnblocked, EventSubjectMerged,
		EventRequestCompleted, EventRequestDenied, EventRequestFailed, EventRequestAwaitingApproval,
		EventDecisionReviewRequested, EventDecisionReviewCompleted, EventIncidentNotified}
}

// OutboxEvent is one propagation event (lgpd_outbox).
type OutboxEvent struct {
	// ID and Seq are assigned by EnqueueEvent.
	ID  string
	Seq int64
	// Type is one of EventTypes.
	Type       string
	SubjectRef string
	RequestID  string
	// Data holds the event's details, JSON-encoded (a struct or map). It
	// must never carry personal data: the titular appears only as
	// SubjectRef. For a correction, name the fields changed, not the values.
	Data      any
	CreatedAt time.Time
	// Private is the event's personal part (the request's identifiers, a
	// correction's new values), for endpoints that opted in to it: sealed
	// at rest, and only when some endpoint of the event opted in.
	Private *EventPrivate `json:"-"`
}

// EnqueueEvent records a propagation event in tx, the transaction making the
// change it reports, and one pending delivery per endpoint (the names of the
// tenant's webhooks subscribed to e.Type: tenant.Tenant.Subscribers, which
// also routes by the entities an event is about to the endpoints tied to a
// recipient they are shared with; config.Tenant.WebhooksFor leaves those
// out). A rolled-back change therefore never emits its event and a
// committed one always does; the dispatcher delivers it after commit, at
// least once. Each delivery records the recipient its endpoint stands for
// and the identifier kinds of e.Private it will carry (sealed at rest).
//
// Other kinds call it like this, inside their transaction:
//
//	tx.EnqueueEvent(ctx, store.OutboxEvent{Type: store.EventSubjectDeleted,
//		SubjectRef: r.SubjectRef, RequestID: r.ID, Data: map[string]any{"entities": names}},
//		t.Subscribers(store.EventSubjectDeleted, names))
//
// Completion events (request.completed and the others) are enqueued by the
// store itself on each transition; nobody calls this for them.
func (s *Store) enqueueEvent(ctx context.Context, tx *sql.Tx, e OutboxEvent, endpoints []string) (*OutboxEvent, error) {
	if err := s.insertOutbox(ctx, tx, []outboxRow{{event: &e, endpoints: endpoints}}); err != nil {
		return nil, err
	}
	return &e, nil
}

// Delivery states, as in lgpd.v1.DeliveryState without the prefix.
const (
	DeliveryPending   = "PENDING"
	DeliveryDelivered = "DELIVERED"
	DeliveryFailed    = "FAILED"
)

// Delivery is one event on its way to one endpoint.
type Delivery struct {
	Event         OutboxEvent // Data is a json.RawMessage
	Endpoint      string
	State         string
	Attempts      int
	NextAttemptAt time.Time
	DeliveredAt   *time.Time
	LastError     string
	// Recipient is the shared_with recipient the endpoint stood for when
	// the event was recorded; empty when none.
	Recipient string
	// IdentifiersSent are the identifier kinds (never values) the delivery
	// carries inside its signed body; OpenPrivate reads them.
	IdentifiersSent []string
	// sealed is the event's private part as stored (private_enc).
	sealed []byte
}

const deliveryColumns = `d.seq, o.event_id, o.type, o.subject_ref, o.request_id, o.data_json, o.created_at,
 d.endpoint, d.state, d.attempts, d.next_attempt_at, d.delivered_at, d.last_error, d.recipient, d.identifiers_sent, o.private_enc`

const deliveryFrom = ` FROM lgpd_outbox_deliveries d JOIN lgpd_outbox o ON o.seq = d.seq`

// scanDeliveryRow is scanDelivery for collect.
func scanDeliveryRow(rows *sql.Rows) (Delivery, error) { return scanDelivery(rows) }

func scanDelivery(sc interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var subj, req, lastErr, recipient, kinds sql.NullString
	var data string
	var delivered sql.NullTime
	if err := sc.Scan(&d.Event.Seq, &d.Event.ID, &d.Event.Type, &subj, &req, &data, &d.Event.CreatedAt,
		&d.Endpoint, &d.State, &d.Attempts, &d.NextAttemptAt, &delivered, &lastErr, &recipient, &kinds, &d.sealed); err != nil {
		return d, err
	}
	d.Event.SubjectRef, d.Event.RequestID, d.LastError = subj.String, req.String, lastErr.String
	d.Recipient, d.IdentifiersSent = recipient.String, splitKinds(kinds.String)
	d.Event.Data = json.RawMessage(data)
	d.Event.CreatedAt, d.NextAttemptAt = d.Event.CreatedAt.UTC(), d.NextAttemptAt.UTC()
	if delivered.Valid {
		t := delivered.Time.UTC()
		d.DeliveredAt = &t
	}
	return d, nil
}

// ClaimDeliveries takes up to limit due pending deliveries, oldest first, and
// holds them for lease by moving their next attempt past it and counting the
// attempt. Claims use FOR UPDATE SKIP LOCKED, so replicas never take the same
// row at once; a dispatcher that dies mid-delivery leaves the row due again
// when the lease ends, and it is delivered again (at-least-once).
func (s *Store) ClaimDeliveries(ctx context.Context, limit int, lease time.Duration) ([]Delivery, error) {
	var out []Delivery
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		out, err = s.claimDeliveries(ctx, limit, lease)
		if err == nil || !IsRetryable(err) {
			return out, err
		}
	}
	return out, err
}

// claimDeliveries runs one claim in READ COMMITTED: a locking read in
// REPEATABLE READ would also lock the gaps of the index it scans, and every
// change enqueueing an event would wait for the claim to commit.
func (s *Store) claimDeliveries(ctx context.Context, limit int, lease time.Duration) ([]Delivery, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	now := s.now()
	// Only delivery rows are locked: MariaDB has no FOR UPDATE OF, and the
	// shared event row must stay free for its other endpoints.
	rows, err := tx.QueryContext(ctx, `SELECT seq, endpoint FROM lgpd_outbox_deliveries
 WHERE state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ? FOR UPDATE SKIP LOCKED`,
		DeliveryPending, now, limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	type key struct {
		seq int64
		ep  string
	}
	claimed, err := collect(rows, "claim deliveries", func(rows *sql.Rows) (key, error) {
		var k key
		return k, rows.Scan(&k.seq, &k.ep)
	})
	if err != nil {
		return nil, err
	}
	keys := make([]any, 0, 2*len(claimed))
	for _, k := range claimed {
		keys = append(keys, k.seq, k.ep)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	pairs := sqlq.RowsOf(len(keys)/2, 2)
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	if _, err := tx.ExecContext(ctx, `UPDATE lgpd_outbox_deliveries SET attempts = attempts + 1, next_attempt_at = ?
 WHERE (seq, endpoint) IN (`+pairs+`)`, append([]any{now.Add(lease)}, keys...)...); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	rows, err = tx.QueryContext(ctx, "SELECT "+deliveryColumns+deliveryFrom+ //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
		" WHERE (d.seq, d.endpoint) IN ("+pairs+") ORDER BY d.seq, d.endpoint", keys...)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out, err := collect(rows, "claim deliveries", scanDeliveryRow)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim deliveries: commit: %w", err)
	}
	return out, nil
}

// DeliveryKey names one delivery: an event and an endpoint.
type DeliveryKey struct {
	Seq      int64
	Endpoint string
}

// DeliveriesSucceeded marks claimed deliveries delivered, in one statement.
func (s *Store) DeliveriesSucceeded(ctx context.Context, keys []DeliveryKey) error {
	if len(keys) == 0 {
		return nil
	}
	args := make([]any, 0, 3+2*len(keys))
	args = append(args, DeliveryDelivered, s.now(), DeliveryPending)
	for _, k := range keys {
		args = append(args, k.Seq, k.Endpoint)
	}
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	_, err := s.db.ExecContext(ctx, `UPDATE lgpd_outbox_deliveries SET state = ?, delivered_at = ?, last_error = NULL
 WHERE state = ? AND (seq, endpoint) IN (`+sqlq.RowsOf(len(keys), 2)+")", args...)
	if err != nil {
		return fmt.Errorf("mark deliveries delivered: %w", err)
	}
	return s.dropDeliveredPrivate(ctx, keys)
}

// dropDeliveredPrivate clears the sealed identifiers of the events whose
// every delivery is now DELIVERED: nothing will send them again, so they
// are not kept (a FAILED delivery keeps them for the DPO's retry).
func (s *Store) dropDeliveredPrivate(ctx context.Context, keys []DeliveryKey) error {
	seqs := make([]any, 0, len(keys)+1)
	seqs = append(seqs, DeliveryDelivered)
	for _, k := range keys {
		seqs = append(seqs, k.Seq)
	}
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	_, err := s.db.ExecContext(ctx, `UPDATE lgpd_outbox o SET o.private_enc = NULL
 WHERE o.private_enc IS NOT NULL AND NOT EXISTS (SELECT 1 FROM lgpd_outbox_deliveries d WHERE d.seq = o.seq AND d.state <> ?)
 AND o.seq IN (`+sqlq.Placeholders(len(keys))+")", seqs...)
	if err != nil {
		return fmt.Errorf("clear delivered identifiers: %w", err)
	}
	return nil
}

// DeliveryFailed records a failed attempt: the delivery is due again at
// retryAt, or FAILED when giveUp. attempt is the count the claim returned;
// when another dispatcher has claimed the row since (its lease ran out), the
// row is left to that one.
func (s *Store) DeliveryFailed(ctx context.Context, seq int64, endpoint string, attempt int, reason string, retryAt time.Time, giveUp bool) error {
	state := DeliveryPending
	if giveUp {
		state = DeliveryFailed
	}
	if len(reason) > 500 {
		reason = reason[:500]
	}
	_, err := s.db.ExecContext(ctx, `UPDATE lgpd_outbox_deliveries SET state = ?, next_attempt_at = ?, last_error = ?
 WHERE seq = ? AND endpoint = ? AND state = ? AND attempts = ?`, state, retryAt, reason, seq, endpoint, DeliveryPending, attempt)
	if err != nil {
		return fmt.Errorf("record failed delivery: %w", err)
	}
	return nil
}

// RetryFailedDeliveries puts FAILED deliveries back in the queue, due now
// with their attempts restarted; endpoint and eventIDs narrow which (empty:
// any). The last error stays until the next attempt replaces it. It returns
// how many were requeued.
func (s *Store) RetryFailedDeliveries(ctx context.Context, endpoint string, eventIDs []string) (int64, error) {
	q := `UPDATE lgpd_outbox_deliveries d JOIN lgpd_outbox o ON o.seq = d.seq
 SET d.state = ?, d.attempts = 0, d.next_attempt_at = ? WHERE d.state = ?`
	args := []any{DeliveryPending, s.now(), DeliveryFailed}
	if endpoint != "" {
		q += " AND d.endpoint = ?"
		args = append(args, endpoint)
	}
	if len(eventIDs) > 0 {
		q += " AND o.event_id IN (" + sqlq.Placeholders(len(eventIDs)) + ")" //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
		for _, id := range eventIDs {
			args = append(args, id)
		}
	}
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("requeue failed deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("requeue failed deliveries: %w", err)
	}
	if n > 0 {
		s.notify(WorkOutbox)
	}
	return n, nil
}

// DefaultPageSize is the page a list returns when asked for none.
const DefaultPageSize = 50

// ListDeliveries pages through deliveries in the given states, newest event
// first.
func (s *Store) ListDeliveries(ctx context.Context, states []string, pageSize int, pageToken string) ([]Delivery, string, error) {
	if len(states) == 0 {
		return nil, "", errors.New("list deliveries: name at least one state")
	}
	if pageSize < 1 {
		pageSize = DefaultPageSize
	}
	args := make([]any, 0, len(states)+3)
	for _, st := range states {
		args = append(args, st)
	}
	where := "d.state IN (" + sqlq.Placeholders(len(states)) + ")"
	if pageToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(pageToken)
		num, ep, ok := strings.Cut(string(b), "|")
		seq, perr := strconv.ParseInt(num, 10, 64)
		if err != nil || !ok || perr != nil || ep == "" {
			return nil, "", ErrBadPageToken
		}
		where += " AND (d.seq < ? OR (d.seq = ? AND d.endpoint < ?))"
		args = append(args, seq, seq, ep)
	}
	args = append(args, pageSize+1)
	rows, err := s.db.QueryContext(ctx, "SELECT "+deliveryColumns+deliveryFrom+" WHERE "+where+ //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
		" ORDER BY d.seq DESC, d.endpoint DESC LIMIT ?", args...)
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	out, err := collect(rows, "list deliveries", scanDeliveryRow)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > pageSize {
		out = out[:pageSize]
		last := out[pageSize-1]
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.Event.Seq, 10) + "|" + last.Endpoint))
	}
	return out, next, nil
}
