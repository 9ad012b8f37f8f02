package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/ledger"
)

// One writer per table. A single change (a request, its event, a consent,
// an outbox event) and a batch of CONSENTs (WriteConsentBatch) write
// through the same functions: one statement for however many rows, so the
// columns, their encodings and the work a write leaves for the background
// jobs are written in one place.

// insertRequests inserts requests (completed_at NULL unless set). A
// duplicate idempotency key is returned as the driver's error: the caller
// decides what a lost race means (sqlq.IsDuplicate).
func insertRequests(ctx context.Context, tx *sql.Tx, rs []*Request) error {
	args := make([]any, 0, 16*len(rs))
	for _, r := range rs {
		subj, err := json.Marshal(r.Subject)
		if err != nil {
			return fmt.Errorf("encode subject: %w", err)
		}
		var representative any
		if r.Representative != nil {
			b, err := json.Marshal(r.Representative)
			if err != nil {
				return fmt.Errorf("encode representative: %w", err)
			}
			representative = string(b)
		}
		args = append(args, r.ID, r.Kind, r.Status, r.CreatedBy, nullable(r.IdempotencyKey), r.SubjectRef,
			string(subj), r.ReceivedAt, r.DueAt, r.UpdatedAt, r.CompletedAt, r.digest, nullable(r.CreatedRole), representative, nullable(r.LinkedRequestID), nullable(r.MinorBand))
	}
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	if _, err := tx.ExecContext(ctx, `INSERT INTO lgpd_requests
 (id, kind, status, created_by, idempotency_key, subject_ref, subject_json, received_at, due_at, updated_at, completed_at, request_digest, created_role, representative_json, linked_request_id, minor_band)
 VALUES `+sqlq.RowsOf(len(rs), 16), args...); err != nil {
		if sqlq.IsDuplicate(err) {
			return err
		}
		return fmt.Errorf("insert requests: %w", err)
	}
	return nil
}

// eventRow is one row of lgpd_request_events: a request's state change.
type eventRow struct {
	requestID   string
	from, to    Status
	actor, note string
	at          time.Time
}

// insertEvents records request state changes. Their ledger leaves are the
// caller's (insertLeaves), built with requestLeaf.
func insertEvents(ctx context.Context, tx *sql.Tx, evs []eventRow) error {
	args := make([]any, 0, 6*len(evs))
	for _, e := range evs {
		args = append(args, e.requestID, nullable(string(e.from)), e.to, e.actor, nullable(e.note), e.at)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO lgpd_request_events (request_id, from_status, to_status, actor, note, at) VALUES "+ //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
		sqlq.RowsOf(len(evs), 6), args...); err != nil {
		return fmt.Errorf("record request events: %w", err)
	}
	return nil
}

// requestLeaf is the one builder of a request's state-change leaf. A final
// leaf commits to the request's recorded outcome (result and reasons: the
// holds a DELETE names, a denial's reasons) when there is one, and a
// COMPLETED one to every export it delivers, and a first one to who acted
// for a minor (digests, any order: export and minor digests).
func requestLeaf(id string, kind Kind, ref string, from, to Status, at time.Time, result, reasons sql.NullString, digests []ledger.Digest) ledger.Leaf {
	l := ledger.Leaf{Event: ledger.EventRequestStatus, RequestID: id, Kind: string(kind), SubjectRef: ref, From: string(from), To: string(to), At: at}
	if isFinal(to) && (result.Valid || reasons.Valid) {
		// Canonical bytes: the JSON titular itself wrote, never re-read JSON
		// from a column MySQL may have normalized (both are TEXT here).
		l.Digests = append(l.Digests, ledger.Digest{Name: "outcome", SHA256: sha256.Sum256([]byte(result.String + "\n" + reasons.String))})
	}
	l.Digests = append(l.Digests, digests...)
	slices.SortFunc(l.Digests, func(a, b ledger.Digest) int { return strings.Compare(a.Name, b.Name) })
	return l
}

// insertLeaves appends leaves to the ledger's pending queue, each with its
// MAC, and tells the commit that the sequencer has work.
func (s *Store) insertLeaves(ctx context.Context, tx *sql.Tx, ls []ledger.Leaf) error {
	now := s.now()
	args := make([]any, 0, 4*len(ls))
	for _, l := range ls {
		b, err := l.Marshal()
		if err != nil {
			return fmt.Errorf("ledger leaf: %w", err)
		}
		args = append(args, b, ledger.MAC(s.ledgerKey, b), nullable(l.RequestID), now)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO lgpd_ledger_pending (leaf, mac, request_id, created_at) VALUES "+ //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
		sqlq.RowsOf(len(ls), 4), args...); err != nil {
		return fmt.Errorf("append ledger leaves: %w", err)
	}
	leaveWork(ctx, WorkLedger)
	return nil
}

// insertConsents appends consent records and keeps lgpd_consent_current.
// A single record gets its id back (rec.ID); a multi-row insert's ids are
// not set on the records (InnoDB promises nothing about their order under
// concurrent inserts).
func insertConsents(ctx context.Context, tx *sql.Tx, recs []*ConsentRecord) error {
	args := make([]any, 0, 12*len(recs))
	for _, rec := range recs {
		ev := rec.Evidence
		args = append(args, rec.SubjectRef, rec.PurposeID, rec.Action, nullable(rec.TermVersion), nullable(rec.TermSHA256), rec.At,
			rec.Channel, rec.RequestID, nullable(ev.IP), nullable(ev.UserAgent), nullable(ev.CapturedBy), nil)
		if ev.Representative != nil {
			b, err := json.Marshal(ev.Representative)
			if err != nil {
				return fmt.Errorf("encode consent representative: %w", err)
			}
			args[len(args)-1] = string(b)
		}
	}
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	res, err := tx.ExecContext(ctx, `INSERT INTO lgpd_consents (subject_ref, purpose_id, action, term_version, term_sha256, at,
 channel, request_id, evidence_ip, evidence_user_agent, evidence_captured_by, evidence_representative_json) VALUES `+sqlq.RowsOf(len(recs), 12), args...)
	if err != nil {
		return fmt.Errorf("record consents: %w", err)
	}
	if len(recs) == 1 {
		if recs[0].ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("record consent: %w", err)
		}
	}
	return keepConsentCurrent(ctx, tx, recs)
}

// keepConsentCurrent moves lgpd_consent_current to the records just
// appended, in their transaction. A single record's id is known; a batch's
// are read back by request id (nothing is assumed of AUTO_INCREMENT). A row
// moves only to a newer id, so transactions committing out of order leave
// the latest record.
func keepConsentCurrent(ctx context.Context, tx *sql.Tx, recs []*ConsentRecord) error {
	var args [][4]any
	if len(recs) == 1 {
		args = [][4]any{{recs[0].SubjectRef, recs[0].PurposeID, recs[0].Action, recs[0].ID}}
	} else {
		ids := make([]any, len(recs))
		for i, rec := range recs {
			ids[i] = rec.RequestID
		}
		//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
		rows, err := tx.QueryContext(ctx, `SELECT subject_ref, purpose_id, action, id FROM lgpd_consents WHERE request_id IN (`+sqlq.Placeholders(len(ids))+`)`, ids...)
		if err != nil {
			return fmt.Errorf("read back consents: %w", err)
		}
		if args, err = collect(rows, "read back consents", func(rows *sql.Rows) ([4]any, error) {
			var ref, purpose, action string
			var id int64
			err := rows.Scan(&ref, &purpose, &action, &id)
			return [4]any{ref, purpose, action, id}, err
		}); err != nil {
			return err
		}
	}
	flat := make([]any, 0, 4*len(args))
	for _, a := range args {
		flat = append(flat, a[:]...)
	}
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	if _, err := tx.ExecContext(ctx, `INSERT INTO lgpd_consent_current (subject_ref, purpose_id, action, consent_id) VALUES `+sqlq.RowsOf(len(args), 4)+`
 ON DUPLICATE KEY UPDATE action = IF(VALUES(consent_id) > consent_id, VALUES(action), action), consent_id = GREATEST(consent_id, VALUES(consent_id))`, flat...); err != nil {
		return fmt.Errorf("keep current consent: %w", err)
	}
	return nil
}

// outboxRow is an event to enqueue and the endpoints to deliver it to.
type outboxRow struct {
	event     *OutboxEvent
	endpoints []string
}

// insertOutbox enqueues events (ID, CreatedAt and Seq filled in, Data
// replaced by its JSON) and a PENDING delivery per endpoint. One event's
// sequence number is its insert id; several events' are read back by event
// id, with no assumption on how the server hands out AUTO_INCREMENT values.
func (s *Store) insertOutbox(ctx context.Context, tx *sql.Tx, rows []outboxRow) error {
	if len(rows) == 0 {
		return nil
	}
	now := s.now()
	args := make([]any, 0, 7*len(rows))
	ids := make([]any, 0, len(rows))
	// What each delivery carries beyond the subject reference, decided now
	// and recorded with it, so the DPO sees what each recipient was told.
	type told struct {
		recipient string
		kinds     []string
	}
	tells := make([][]told, len(rows))
	byID := make(map[string]*OutboxEvent, len(rows))
	for i, r := range rows {
		e := r.event
		data := e.Data
		if data == nil {
			data = struct{}{}
		}
		b, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("encode event data: %w", err)
		}
		e.ID, e.CreatedAt, e.Data = uuid.NewString(), now, json.RawMessage(b)
		var sealed any
		for _, ep := range r.endpoints {
			kinds, recipient := s.privateKinds(e.Private, ep)
			tells[i] = append(tells[i], told{recipient, kinds})
			if len(kinds) > 0 && sealed == nil {
				if sealed, err = s.sealPrivate(e.ID, e.Private); err != nil {
					return err
				}
			}
		}
		args = append(args, e.ID, e.Type, nullable(e.SubjectRef), nullable(e.RequestID), string(b), e.CreatedAt, sealed)
		ids = append(ids, e.ID)
		byID[e.ID] = e
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO lgpd_outbox (event_id, type, subject_ref, request_id, data_json, created_at, private_enc) VALUES "+ //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
		sqlq.RowsOf(len(rows), 7), args...)
	if err != nil {
		return fmt.Errorf("enqueue events: %w", err)
	}
	if len(rows) == 1 {
		if rows[0].event.Seq, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("enqueue event: %w", err)
		}
	} else {
		seqs, err := tx.QueryContext(ctx, "SELECT seq, event_id FROM lgpd_outbox WHERE event_id IN ("+sqlq.Placeholders(len(ids))+")", ids...) //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
		if err != nil {
			return fmt.Errorf("enqueue events: %w", err)
		}
		if _, err := collect(seqs, "enqueue events", func(rows *sql.Rows) (struct{}, error) {
			var seq int64
			var id string
			if err := rows.Scan(&seq, &id); err != nil {
				return struct{}{}, err
			}
			if e := byID[id]; e != nil {
				e.Seq = seq
			}
			return struct{}{}, nil
		}); err != nil {
			return err
		}
	}
	var dels []any
	for i, r := range rows {
		for j, ep := range r.endpoints {
			dels = append(dels, r.event.Seq, ep, DeliveryPending, now, nullable(tells[i][j].recipient), joinKinds(tells[i][j].kinds))
		}
	}
	if len(dels) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO lgpd_outbox_deliveries (seq, endpoint, state, next_attempt_at, recipient, identifiers_sent) VALUES "+ //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
		sqlq.RowsOf(len(dels)/6, 6), dels...); err != nil {
		return fmt.Errorf("enqueue deliveries: %w", err)
	}
	leaveWork(ctx, WorkOutbox)
	return nil
}

// insertSubjectIndex indexes identifier HMACs under their subject
// references: rows of (id_hmac, subject_ref, created_at). INSERT IGNORE
// takes no gap locks, unlike a locking read, so first requests of different
// titulares never deadlock on the index; the caller compares the rows
// inserted with those it asked for to learn of a concurrent writer.
func insertSubjectIndex(ctx context.Context, tx *sql.Tx, rows []any) (int64, error) {
	res, err := tx.ExecContext(ctx, "INSERT IGNORE INTO lgpd_subject_index (id_hmac, subject_ref, created_at) VALUES "+sqlq.RowsOf(len(rows)/3, 3), rows...) //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
	if err != nil {
		return 0, fmt.Errorf("index subjects: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
