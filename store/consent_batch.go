package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/titular/titular/internal/sqlq"
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
	// SubjectRef, when set, is the reference to record under instead of
	// New.Subject's: a revocation by erasure acts on a person whose
	// identifiers are being forgotten.
	SubjectRef string
}

// errBatchRace is a concurrent writer taking an identifier or key the batch
// meant to insert: the caller reruns the jobs one by one.
var errBatchRace = errors.New("consent batch: a concurrent request took an identifier or key; rerun alone")

// PurposesForConsent returns purposes and their current terms under a
// shared lock in tx: consents recorded in tx see the terms in force when they
// commit, since PublishTerm takes the same rows exclusively. Unknown ids are
// absent from the map.
func (s *Store) purposesForConsent(ctx context.Context, tx *sql.Tx, ids []string) (map[string]*Purpose, error) {
	out := map[string]*Purpose{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+purposeColumns+purposeFrom+" WHERE p.id IN ("+sqlq.Placeholders(len(ids))+") LOCK IN SHARE MODE", args...) //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
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
func (s *Store) requestsByIdempotencyKeys(ctx context.Context, tx *sql.Tx, keys []IdemKey) (map[IdemKey]*Request, error) {
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
	rows, err := tx.QueryContext(ctx, "SELECT "+requestColumns+" FROM lgpd_requests WHERE "+strings.Join(conds, " OR ")+" FOR UPDATE", args...) //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
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
// existing request when it is the same request (kind, titular and what it
// asks: NewRequest.Payload), ErrIdempotencyKeyReused otherwise.
func (s *Store) IdempotentMatch(existing *Request, n NewRequest) (*Request, error) {
	return s.idempotentMatch(existing, n)
}

func (s *Store) idempotentMatch(existing *Request, n NewRequest) (*Request, error) {
	same := existing.Kind == n.Kind && (existing.Subject == n.Subject || existing.Subject == Identifiers{})
	// A request recorded before digests were has none: kind and titular decide.
	if same && existing.digest != nil {
		same = hmac.Equal(existing.digest, s.requestDigest(n))
	}
	if !same {
		return nil, fmt.Errorf("%w: it names request %s, of another kind, titular or body; send a new key for a new request", ErrIdempotencyKeyReused, existing.ID)
	}
	return existing, nil
}

// requestDigest is the keyed digest of what n asks beyond kind and titular,
// nil when it asks nothing more. Keyed with the subject key: a CORRECT's
// payload holds personal data.
func (s *Store) requestDigest(n NewRequest) []byte {
	if n.Payload == "" {
		return nil
	}
	m := hmac.New(sha256.New, s.subjectKey)
	m.Write([]byte("request\x00" + string(n.Kind) + "\x00" + n.Payload))
	return m.Sum(nil)
}

// subjectRefs resolves every write's subject reference with one read of the
// index and one multi-row insert of the identifiers seen first here, with
// subjectRef's rules (the first kind found decides; linked identifiers join
// the reference). Writes naming the same new identifier share a reference.
// A write whose identifiers sit under two references (one person known apart
// until now) is merged by linkPerson, under row locks: that is rare, and the
// batch's fast path takes no locks.
func (s *Store) subjectRefs(ctx context.Context, tx *sql.Tx, ws []ConsentWrite) ([]string, error) {
	type job struct{ sent, all []subjectMAC }
	jobs := make([]job, len(ws))
	var macs []any
	for i, w := range ws {
		if w.SubjectRef != "" {
			continue
		}
		jobs[i].sent, jobs[i].all = s.personMACs(w.New.Subject, w.New.Linked)
		macs = append(macs, macArgs(jobs[i].all)...)
	}
	known, err := lookupSubjects(ctx, tx, macs)
	if err != nil {
		return nil, err
	}
	refs := make([]string, len(ws))
	var ins []any
	now := s.now()
	flush := func() error {
		if len(ins) == 0 {
			return nil
		}
		n, err := insertSubjectIndex(ctx, tx, ins)
		if err != nil {
			return err
		}
		if n != int64(len(ins)/3) {
			return errBatchRace
		}
		ins = nil
		return nil
	}
	for i, w := range ws {
		if w.SubjectRef != "" {
			refs[i] = w.SubjectRef
			continue
		}
		j := jobs[i]
		if len(distinctRefs(j.all, known)) > 1 {
			if err := flush(); err != nil {
				return nil, err
			}
			if refs[i], err = s.linkPerson(ctx, tx, j.sent, j.all, w.New.MergeEndpoints); err != nil {
				return nil, err
			}
			// The merge moved identifiers of the batch's other writes too.
			if known, err = lookupSubjects(ctx, tx, macs); err != nil {
				return nil, err
			}
			continue
		}
		ref := ""
		for _, m := range j.all {
			if r := known[string(m.mac)]; r != "" {
				ref = r
				break
			}
		}
		if ref == "" {
			ref = uuid.NewString()
		}
		for _, m := range j.all {
			if known[string(m.mac)] == "" {
				known[string(m.mac)] = ref
				ins = append(ins, m.mac, ref, now)
			}
		}
		refs[i] = ref
	}
	if err := flush(); err != nil {
		return nil, err
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
func (s *Store) writeConsentBatch(ctx context.Context, tx *sql.Tx, ws []ConsentWrite) ([]*Request, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	refs, err := s.subjectRefs(ctx, tx, ws)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]*Request, len(ws))
	events := make([]eventRow, len(ws))
	leaves := make([]ledger.Leaf, len(ws))
	recs := make([]*ConsentRecord, len(ws))
	var outbox []outboxRow
	for i := range ws {
		w := &ws[i]
		done := now
		r := &Request{ID: uuid.NewString(), Kind: w.New.Kind, Status: StatusCompleted, CreatedBy: w.New.CreatedBy, CreatedRole: w.New.CreatedRole,
			Representative: w.New.Representative, MinorBand: w.New.MinorBand, IdempotencyKey: w.New.IdempotencyKey, SubjectRef: refs[i], Subject: w.New.Subject,
			ReceivedAt: now, DueAt: now.Add(w.New.Deadline), UpdatedAt: now, CompletedAt: &done, digest: s.requestDigest(w.New)}
		out[i] = r
		// The note binds what was recorded to the event and its leaf; it
		// carries no personal data.
		events[i] = eventRow{requestID: r.ID, to: StatusCompleted, actor: w.New.CreatedBy, note: w.Note, at: now}
		leaves[i] = requestLeaf(r.ID, r.Kind, r.SubjectRef, "", StatusCompleted, now, sql.NullString{}, sql.NullString{},
			s.representationDigests(r.MinorBand, r.Representative))
		rec := &w.Record
		rec.SubjectRef, rec.RequestID, rec.At = r.SubjectRef, r.ID, now
		recs[i] = rec
		if w.Event != nil {
			w.Event.SubjectRef, w.Event.RequestID = r.SubjectRef, r.ID
			outbox = append(outbox, outboxRow{event: w.Event, endpoints: w.Endpoints})
		}
		if row, ok := s.completionRow(r, StatusCompleted, now); ok {
			outbox = append(outbox, row)
		}
	}
	if err := insertRequests(ctx, tx, out); err != nil {
		if sqlq.IsDuplicate(err) {
			return nil, errBatchRace
		}
		return nil, err
	}
	if err := insertEvents(ctx, tx, events); err != nil {
		return nil, err
	}
	if err := s.insertLeaves(ctx, tx, leaves); err != nil {
		return nil, err
	}
	if err := insertConsents(ctx, tx, recs); err != nil {
		return nil, err
	}
	return out, s.insertOutbox(ctx, tx, outbox)
}

// IsBatchRace reports an error after which a batch's jobs should rerun one
// by one rather than fail.
func IsBatchRace(err error) bool { return errors.Is(err, errBatchRace) }
