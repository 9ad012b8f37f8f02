package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/titular/titular/ledger"
)

// ConsentWrite is one CONSENT the caller validated, ready for
// WriteConsentBatch: the request it creates, the history row, the note of
// its final event and, for a revocation, its propagation event.
type ConsentWrite struct {
	New    NewRequest
	Record ConsentRecord // SubjectRef, RequestID and At are filled in
	Note   string
	// Event is nil when the change emits none; SubjectRef and RequestID are
	// filled in.
	Event     *OutboxEvent
	Endpoints []string
}

// errBatchRace is a concurrent writer taking an identifier or key the batch
// meant to insert: the caller reruns the jobs one by one.
var errBatchRace = errors.New("consent batch: a concurrent request took an identifier or key; rerun alone")

// PurposesForConsent returns purposes and their current terms under a
// shared lock in tx: consents recorded in tx see the terms in force when they
// commit, since PublishTerm takes the same rows exclusively. Unknown ids are
// absent from the map.
func (s *Store) PurposesForConsent(ctx context.Context, tx *sql.Tx, ids []string) (map[string]*Purpose, error) {
	out := map[string]*Purpose{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+purposeColumns+purposeFrom+" WHERE p.id IN ("+placeholders(len(ids))+") LOCK IN SHARE MODE", args...)
	if err != nil {
		return nil, fmt.Errorf("read purposes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPurpose(rows)
		if err != nil {
			return nil, fmt.Errorf("read purposes: %w", err)
		}
		out[p.ID] = p
	}
	return out, rows.Err()
}

// IdemKey names a request by its creator and idempotency key.
type IdemKey struct{ CreatedBy, Key string }

// RequestsByIdempotencyKeys returns the requests already recorded under
// any of keys, locking them, as InsertRequest's check does one by one.
func (s *Store) RequestsByIdempotencyKeys(ctx context.Context, tx *sql.Tx, keys []IdemKey) (map[IdemKey]*Request, error) {
	out := map[IdemKey]*Request{}
	if len(keys) == 0 {
		return out, nil
	}
	conds := make([]string, len(keys))
	args := make([]any, 0, 2*len(keys))
	for i, k := range keys {
		conds[i] = "(created_by = ? AND idempotency_key = ?)"
		args = append(args, k.CreatedBy, k.Key)
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+requestColumns+" FROM lgpd_requests WHERE "+strings.Join(conds, " OR ")+" FOR UPDATE", args...)
	if err != nil {
		return nil, fmt.Errorf("find requests by idempotency key: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("find requests by idempotency key: %w", err)
		}
		out[IdemKey{r.CreatedBy, r.IdempotencyKey}] = r
	}
	return out, rows.Err()
}

// IdempotentMatch is InsertRequest's rule for a key already used: the
// existing request when it is the same request, ErrConflict otherwise.
func IdempotentMatch(existing *Request, n NewRequest) (*Request, error) {
	if existing.Kind != n.Kind || (existing.Subject != n.Subject && existing.Subject != Identifiers{}) {
		return nil, fmt.Errorf("%w: idempotency key was already used for a different request; send a new key", ErrConflict)
	}
	return existing, nil
}

// subjectRefs resolves every write's subject reference with one read of the
// index and one multi-row insert of the identifiers seen first here, with
// subjectRef's rules (the first kind found decides). Writes naming the same
// new identifier share a reference.
func (s *Store) subjectRefs(ctx context.Context, tx *sql.Tx, ws []ConsentWrite) ([]string, error) {
	macs := make([][][]byte, len(ws))
	var all []any
	for i, w := range ws {
		for _, k := range subjectKinds {
			if v := w.New.Subject.Get(k); v != "" {
				m := s.subjectHMAC(k, v)
				macs[i] = append(macs[i], m)
				all = append(all, m)
			}
		}
	}
	known, err := lookupSubjects(ctx, tx, all)
	if err != nil {
		return nil, err
	}
	refs := make([]string, len(ws))
	var ins []any
	now := s.now()
	for i := range ws {
		ref := ""
		for _, m := range macs[i] {
			if r := known[string(m)]; r != "" {
				ref = r
				break
			}
		}
		if ref == "" {
			ref = uuid.NewString()
		}
		for _, m := range macs[i] {
			if known[string(m)] == "" {
				known[string(m)] = ref
				ins = append(ins, m, ref, now)
			}
		}
		refs[i] = ref
	}
	if len(ins) > 0 {
		res, err := tx.ExecContext(ctx, "INSERT IGNORE INTO lgpd_subject_index (id_hmac, subject_ref, created_at) VALUES "+rowsOf(len(ins)/3, 3), ins...)
		if err != nil {
			return nil, fmt.Errorf("index subjects: %w", err)
		}
		if n, _ := res.RowsAffected(); n != int64(len(ins)/3) {
			return nil, errBatchRace
		}
	}
	return refs, nil
}

// WriteConsentBatch records every write in tx, in a few multi-row
// statements. A CONSENT completes in the transaction that creates it, so
// its request is inserted COMPLETED with one event and one ledger leaf for
// that single step (received and completed at the same instant; no
// RECEIVED or PROCESSING state ever existed to record), its consent record,
// and its outbox event and deliveries. The writes must carry no idempotency
// key already recorded. Any error fails the whole batch.
func (s *Store) WriteConsentBatch(ctx context.Context, tx *sql.Tx, ws []ConsentWrite) ([]*Request, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	refs, err := s.subjectRefs(ctx, tx, ws)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]*Request, len(ws))
	reqArgs := make([]any, 0, 12*len(ws))
	evArgs := make([]any, 0, 6*len(ws))
	leafArgs := make([]any, 0, 4*len(ws))
	for i, w := range ws {
		subj, err := json.Marshal(w.New.Subject)
		if err != nil {
			return nil, fmt.Errorf("encode subject: %w", err)
		}
		done := now
		r := &Request{ID: uuid.NewString(), Kind: w.New.Kind, Status: StatusCompleted, CreatedBy: w.New.CreatedBy,
			IdempotencyKey: w.New.IdempotencyKey, SubjectRef: refs[i], Subject: w.New.Subject,
			ReceivedAt: now, DueAt: now.Add(w.New.Deadline), UpdatedAt: now, CompletedAt: &done}
		out[i] = r
		reqArgs = append(reqArgs, r.ID, r.Kind, r.Status, r.CreatedBy, nullable(r.IdempotencyKey), r.SubjectRef,
			string(subj), r.ReceivedAt, r.DueAt, r.UpdatedAt, done)
		// The note binds what was recorded to the event and its leaf; it
		// carries no personal data.
		evArgs = append(evArgs, r.ID, nil, StatusCompleted, w.New.CreatedBy, nullable(w.Note), now)
		b, err := requestLeaf(r.ID, r.Kind, r.SubjectRef, "", StatusCompleted, now, sql.NullString{}, sql.NullString{}).Marshal()
		if err != nil {
			return nil, fmt.Errorf("ledger leaf: %w", err)
		}
		leafArgs = append(leafArgs, b, ledger.MAC(s.ledgerKey, b), r.ID, now)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lgpd_requests
 (id, kind, status, created_by, idempotency_key, subject_ref, subject_json, received_at, due_at, updated_at, completed_at)
 VALUES `+rowsOf(len(ws), 11), reqArgs...); err != nil {
		if isDuplicate(err) {
			return nil, errBatchRace
		}
		return nil, fmt.Errorf("insert requests: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO lgpd_request_events (request_id, from_status, to_status, actor, note, at) VALUES "+
		rowsOf(len(ws), 6), evArgs...); err != nil {
		return nil, fmt.Errorf("record request events: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO lgpd_ledger_pending (leaf, mac, request_id, created_at) VALUES "+
		rowsOf(len(ws), 4), leafArgs...); err != nil {
		return nil, fmt.Errorf("append ledger leaves: %w", err)
	}
	leaveWork(ctx, WorkLedger)
	if err := s.writeConsentRows(ctx, tx, ws, out, now); err != nil {
		return nil, err
	}
	return out, s.writeOutboxRows(ctx, tx, ws, out, now)
}

// requestLeaf is the leaf appendRequestLeaf builds for a request's state
// change that has no exports: a final leaf commits to the outcome when one
// is recorded.
func requestLeaf(id, kind, ref, from, to string, at time.Time, result, reasons sql.NullString) ledger.Leaf {
	l := ledger.Leaf{Event: ledger.EventRequestStatus, RequestID: id, Kind: kind, SubjectRef: ref, From: from, To: to, At: at}
	if isFinal(to) && (result.Valid || reasons.Valid) {
		l.Digests = append(l.Digests, ledger.Digest{Name: "outcome", SHA256: sha256.Sum256([]byte(result.String + "\n" + reasons.String))})
	}
	return l
}

func (s *Store) writeConsentRows(ctx context.Context, tx *sql.Tx, ws []ConsentWrite, reqs []*Request, now time.Time) error {
	args := make([]any, 0, 11*len(ws))
	for i := range ws {
		rec := &ws[i].Record
		rec.SubjectRef, rec.RequestID, rec.At = reqs[i].SubjectRef, reqs[i].ID, now
		ev := rec.Evidence
		args = append(args, rec.SubjectRef, rec.PurposeID, rec.Action, nullable(rec.TermVersion), nullable(rec.TermSHA256), rec.At,
			rec.Channel, rec.RequestID, nullable(ev.IP), nullable(ev.UserAgent), nullable(ev.CapturedBy))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lgpd_consents (subject_ref, purpose_id, action, term_version, term_sha256, at,
 channel, request_id, evidence_ip, evidence_user_agent, evidence_captured_by) VALUES `+rowsOf(len(ws), 11), args...); err != nil {
		return fmt.Errorf("record consents: %w", err)
	}
	return nil
}

// writeOutboxRows inserts the events in one statement, reads their
// sequence numbers back by event id (no assumption on how the server hands
// out AUTO_INCREMENT values) and inserts every delivery in one statement.
func (s *Store) writeOutboxRows(ctx context.Context, tx *sql.Tx, ws []ConsentWrite, reqs []*Request, now time.Time) error {
	var evArgs, ids []any
	endpoints := map[string][]string{}
	for i, w := range ws {
		if w.Event == nil {
			continue
		}
		data := w.Event.Data
		if data == nil {
			data = struct{}{}
		}
		b, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("encode event data: %w", err)
		}
		id := uuid.NewString()
		evArgs = append(evArgs, id, w.Event.Type, nullable(reqs[i].SubjectRef), reqs[i].ID, string(b), now)
		ids = append(ids, id)
		endpoints[id] = w.Endpoints
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO lgpd_outbox (event_id, type, subject_ref, request_id, data_json, created_at) VALUES "+
		rowsOf(len(ids), 6), evArgs...); err != nil {
		return fmt.Errorf("enqueue events: %w", err)
	}
	want := 0
	for _, eps := range endpoints {
		want += len(eps)
	}
	if want == 0 {
		return nil
	}
	delArgs := make([]any, 0, 4*want)
	rows, err := tx.QueryContext(ctx, "SELECT seq, event_id FROM lgpd_outbox WHERE event_id IN ("+placeholders(len(ids))+")", ids...)
	if err != nil {
		return fmt.Errorf("enqueue deliveries: %w", err)
	}
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			rows.Close()
			return fmt.Errorf("enqueue deliveries: %w", err)
		}
		for _, ep := range endpoints[id] {
			delArgs = append(delArgs, seq, ep, DeliveryPending, now)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("enqueue deliveries: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO lgpd_outbox_deliveries (seq, endpoint, state, next_attempt_at) VALUES "+
		rowsOf(len(delArgs)/4, 4), delArgs...); err != nil {
		return fmt.Errorf("enqueue deliveries: %w", err)
	}
	leaveWork(ctx, WorkOutbox)
	return nil
}

// IsBatchRace reports an error after which a batch's jobs should rerun one
// by one rather than fail.
func IsBatchRace(err error) bool { return errors.Is(err, errBatchRace) }
