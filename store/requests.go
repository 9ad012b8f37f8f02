package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/internal/sqlq"
)

// Kind is a request's kind, spelled as in the lgpd.v1 contract.
type Kind string

// Status is a request's state, spelled as in the lgpd.v1 contract.
type Status string

// Request kinds.
const (
	KindExtract   Kind = "EXTRACT"
	KindConfirm   Kind = "CONFIRM"
	KindCorrect   Kind = "CORRECT"
	KindDelete    Kind = "DELETE"
	KindAnonymize Kind = "ANONYMIZE"
	KindConsent   Kind = "CONSENT"
	// KindBlock suspends the processing of the titular's rows until the DPO
	// lifts it (Art. 18 IV); nothing is erased or changed.
	KindBlock Kind = "BLOCK"
)

// DestructiveKinds change or suspend a titular's rows: one titular's run
// one after the other (Claim, LockSubject), never at once.
var DestructiveKinds = []Kind{KindDelete, KindAnonymize, KindBlock, KindCorrect}

// Destructive reports whether k is one of DestructiveKinds.
func (k Kind) Destructive() bool { return slices.Contains(DestructiveKinds, k) }

// openStatuses are the states of a request that has not ended.
var openStatuses = []Status{StatusReceived, StatusAwaitingVerification, StatusAwaitingApproval, StatusProcessing}

// Request states.
const (
	StatusReceived         Status = "RECEIVED"
	StatusAwaitingApproval Status = "AWAITING_APPROVAL"
	// StatusAwaitingVerification: the titular's identity must be verified
	// (Art. 18 §3) before the request goes on.
	StatusAwaitingVerification Status = "AWAITING_VERIFICATION"
	StatusProcessing           Status = "PROCESSING"
	StatusCompleted            Status = "COMPLETED"
	StatusDenied               Status = "DENIED"
	StatusFailed               Status = "FAILED"
	StatusCanceled             Status = "CANCELED"
)

// Final reports whether s ends a request: nothing changes it afterwards.
func (s Status) Final() bool {
	return s == StatusCompleted || s == StatusDenied || s == StatusFailed || s == StatusCanceled
}

// The executor's vocabulary, which titular's request records keep as is.
type (
	// Identifiers are a titular's normalized identifiers (crm.Identifiers).
	Identifiers = crm.Identifiers
	// EntityCount is how many rows of one entity a request touched.
	EntityCount = crm.EntityCount
	// Reason explains a denial, partial fulfilment or failure.
	Reason = crm.Reason
)

// Result is a completed request's outcome, per kind.
type Result struct {
	Confirm *ConfirmResult `json:"confirm,omitempty"`
	Extract *ExtractResult `json:"extract,omitempty"`
	Delete  *DeleteOutcome `json:"delete,omitempty"`
	// Anonymize is what an ANONYMIZE changed and which holds kept rows.
	Anonymize *crm.AnonymizeResult `json:"anonymize,omitempty"`
	Correct   *CorrectResult       `json:"correct,omitempty"`
	// Block is what a BLOCK suspended.
	Block *BlockResult `json:"block,omitempty"`
	// Review is the DPO's answer to a REVIEW (Art. 20).
	Review *ReviewResult `json:"review,omitempty"`
}

// BlockResult is how many of the titular's rows a BLOCK suspended, per
// entity; none of them was changed.
type BlockResult struct {
	Entities  []EntityCount `json:"entities"`
	TotalRows int64         `json:"total_rows"`
}

// DeleteOutcome is a DELETE's outcome: what the executor did to the CRM's
// rows and the consent evidence titular kept as proof.
type DeleteOutcome struct {
	crm.DeleteResult
	// EvidenceKept is the consent evidence a complete erasure keeps as proof
	// (the map's consent_evidence retention); nil when none is kept.
	EvidenceKept *EvidenceHold `json:"evidence_kept,omitempty"`
}

// CorrectResult is how many rows a correction changed, per entity.
type CorrectResult struct {
	Entities  []EntityCount `json:"entities"`
	TotalRows int64         `json:"total_rows"`
}

// ConfirmResult answers a CONFIRM.
type ConfirmResult struct {
	HasPersonalData bool     `json:"has_personal_data"`
	Categories      []string `json:"categories"`
	Entities        []string `json:"entities"`
}

// ExtractResult summarizes an EXTRACT.
type ExtractResult struct {
	Entities  []EntityCount `json:"entities"`
	TotalRows int64         `json:"total_rows"`
}

// Representative is who asks for a titular who does not ask in person.
type Representative struct {
	Relation    string `json:"relation"`
	Name        string `json:"name"`
	DocumentRef string `json:"document_ref"`
}

// Request is one row of lgpd_requests.
type Request struct {
	ID        string
	Kind      Kind
	Status    Status
	CreatedBy string
	// CreatedRole is the creator's role; empty for requests recorded
	// before roles were.
	CreatedRole string
	// Representative is who asked for the titular, when not in person.
	Representative *Representative
	// MinorBand is MinorChild or MinorAdolescent when the titular was under
	// 18 when the request arrived (Art. 14); empty otherwise.
	MinorBand      string
	IdempotencyKey string
	SubjectRef     string
	Subject        Identifiers
	Result         *Result
	Reasons        []Reason
	ReceivedAt     time.Time
	DueAt          time.Time
	UpdatedAt      time.Time
	CompletedAt    *time.Time
	Attempts       int
	LastError      string
	LeaseOwner     string
	// LinkedRequestID is the open request of the same kind for the same
	// titular this one found when it was created; empty when none.
	LinkedRequestID string
	// digest is what the request asks beyond kind and titular, keyed
	// (NewRequest.Payload); nil when it asks nothing more, or was recorded
	// before digests were.
	digest []byte
}

// NewRequest is what CreateRequest needs.
type NewRequest struct {
	Kind           Kind
	CreatedBy      string
	CreatedRole    string
	Representative *Representative
	// MinorBand is the titular's age band when under 18 (Request.MinorBand).
	MinorBand      string
	IdempotencyKey string
	Subject        Identifiers
	// Linked are the person's other identifiers, found where Subject's
	// lead (the CRM's rows, crm.Linked): indexed under the titular's
	// reference so every identifier of one person resolves to one, never
	// stored with the request.
	Linked Identifiers
	// MergeEndpoints are the webhooks a merge this request causes is
	// announced to (subject.merged).
	MergeEndpoints []string
	Deadline       time.Duration
	// Payload is what the request asks beyond its kind and titular, in a
	// canonical form (a CONSENT's purpose, action and term; a CORRECT's new
	// values): a later request under the same idempotency key must ask the
	// same. Only its keyed digest is stored.
	Payload string
}

const requestColumns = `id, kind, status, created_by, idempotency_key, subject_ref, subject_json,
 result_json, reasons_json, received_at, due_at, updated_at, completed_at, attempts, last_error, lease_owner, request_digest, created_role, representative_json, linked_request_id, minor_band`

func scanRequest(sc interface{ Scan(...any) error }) (*Request, error) {
	var (
		r                        Request
		idem, subj, res, reasons sql.NullString
		lastErr, owner, role     sql.NullString
		representative, linked   sql.NullString
		minor                    sql.NullString
		completed                sql.NullTime
	)
	if err := sc.Scan(&r.ID, &r.Kind, &r.Status, &r.CreatedBy, &idem, &r.SubjectRef, &subj,
		&res, &reasons, &r.ReceivedAt, &r.DueAt, &r.UpdatedAt, &completed, &r.Attempts, &lastErr, &owner, &r.digest, &role, &representative, &linked, &minor); err != nil {
		return nil, err
	}
	r.IdempotencyKey, r.LastError, r.LeaseOwner, r.CreatedRole = idem.String, lastErr.String, owner.String, role.String
	r.LinkedRequestID, r.MinorBand = linked.String, minor.String
	if completed.Valid {
		t := completed.Time.UTC()
		r.CompletedAt = &t
	}
	r.ReceivedAt, r.DueAt, r.UpdatedAt = r.ReceivedAt.UTC(), r.DueAt.UTC(), r.UpdatedAt.UTC()
	if representative.Valid && representative.String != "" {
		r.Representative = &Representative{}
		if err := json.Unmarshal([]byte(representative.String), r.Representative); err != nil {
			return nil, fmt.Errorf("request %s: decode representative: %w", r.ID, err)
		}
	}
	if subj.Valid && subj.String != "" {
		if err := json.Unmarshal([]byte(subj.String), &r.Subject); err != nil {
			return nil, fmt.Errorf("request %s: decode subject: %w", r.ID, err)
		}
	}
	if res.Valid && res.String != "" {
		r.Result = new(Result)
		if err := json.Unmarshal([]byte(res.String), r.Result); err != nil {
			return nil, fmt.Errorf("request %s: decode result: %w", r.ID, err)
		}
	}
	if reasons.Valid && reasons.String != "" {
		if err := json.Unmarshal([]byte(reasons.String), &r.Reasons); err != nil {
			return nil, fmt.Errorf("request %s: decode reasons: %w", r.ID, err)
		}
	}
	return &r, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// InsertRequest writes a new RECEIVED request and its first event in tx. When
// (CreatedBy, IdempotencyKey) already exists it returns the existing request
// and created=false; a key reused for a different kind or titular is
// ErrConflict.
func (s *Store) insertRequest(ctx context.Context, tx *sql.Tx, n NewRequest) (req *Request, created bool, err error) {
	if n.IdempotencyKey != "" {
		existing, err := s.requestByIdempotencyKey(ctx, tx, n.CreatedBy, n.IdempotencyKey)
		switch {
		case err == nil:
			r, err := s.idempotentMatch(existing, n)
			return r, false, err
		case !errors.Is(err, ErrNotFound):
			return nil, false, err
		}
	}
	now := s.now()
	ref, err := s.subjectRef(ctx, tx, n)
	if err != nil {
		return nil, false, err
	}
	r := &Request{
		ID: uuid.NewString(), Kind: n.Kind, Status: StatusReceived, CreatedBy: n.CreatedBy, CreatedRole: n.CreatedRole, Representative: n.Representative,
		MinorBand: n.MinorBand, IdempotencyKey: n.IdempotencyKey, SubjectRef: ref, Subject: n.Subject,
		ReceivedAt: now, DueAt: now.Add(n.Deadline), UpdatedAt: now, digest: s.requestDigest(n),
	}
	if r.LinkedRequestID, err = openRequestOf(ctx, tx, ref, n.Kind); err != nil {
		return nil, false, err
	}
	if err := insertRequests(ctx, tx, []*Request{r}); err != nil {
		if sqlq.IsDuplicate(err) {
			// A concurrent create with the same key won; the caller retries
			// and gets that request back.
			return nil, false, fmt.Errorf("%w: concurrent create with the same idempotency key; retry", ErrConflict)
		}
		return nil, false, err
	}
	if err := s.addEvent(ctx, tx, r.ID, "", StatusReceived, n.CreatedBy, "", now); err != nil {
		return nil, false, err
	}
	return r, true, nil
}

// openRequestOf returns the oldest request of kind for the titular ref that
// has not ended, or "" when there is none: a new request links to it.
func openRequestOf(ctx context.Context, q Querier, ref string, kind Kind) (string, error) {
	args := []any{ref, kind}
	for _, st := range openStatuses {
		args = append(args, st)
	}
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM lgpd_requests WHERE subject_ref = ? AND kind = ?
 AND status IN (`+sqlq.Placeholders(len(openStatuses))+`) ORDER BY received_at, id LIMIT 1`, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find an open request of the titular: %w", err)
	}
	return id, nil
}

func (s *Store) requestByIdempotencyKey(ctx context.Context, q Querier, createdBy, key string) (*Request, error) {
	r, err := scanRequest(q.QueryRowContext(ctx, "SELECT "+requestColumns+
		" FROM lgpd_requests WHERE created_by = ? AND idempotency_key = ? FOR UPDATE", createdBy, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find request by idempotency key: %w", err)
	}
	return r, nil
}

func (s *Store) addEvent(ctx context.Context, tx *sql.Tx, id string, from, to Status, actor, note string, at time.Time) error {
	if err := insertEvents(ctx, tx, []eventRow{{requestID: id, from: from, to: to, actor: actor, note: note, at: at}}); err != nil {
		return err
	}
	// Every state change is a ledger leaf, committed with the change.
	return s.appendRequestLeaf(ctx, tx, id, from, to, at)
}

// GetRequest returns a request by id.
func (s *Store) GetRequest(ctx context.Context, id string) (*Request, error) {
	return s.getRequest(ctx, s.db, id, false)
}

func (s *Store) getRequest(ctx context.Context, q Querier, id string, forUpdate bool) (*Request, error) {
	query := "SELECT " + requestColumns + " FROM lgpd_requests WHERE id = ?"
	if forUpdate {
		query += " FOR UPDATE"
	}
	r, err := scanRequest(q.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get request: %w", err)
	}
	return r, nil
}

// transition is Transition for a request already read FOR UPDATE in tx.
func (s *Store) transition(ctx context.Context, tx *sql.Tx, r *Request, allowed []Status, to Status, actor, note string) (*Request, error) {
	id := r.ID
	ok := false
	for _, a := range allowed {
		ok = ok || r.Status == a
	}
	if !ok {
		return nil, fmt.Errorf("%w: request is %s", ErrConflict, r.Status)
	}
	now := s.now()
	var completed any
	if isFinal(to) {
		completed = now
	}
	if _, err := tx.ExecContext(ctx, `UPDATE lgpd_requests SET status = ?, updated_at = ?, completed_at = ?, lease_owner = NULL, lease_until = NULL
 WHERE id = ?`, to, now, completed, id); err != nil {
		return nil, fmt.Errorf("update request status: %w", err)
	}
	if err := s.addEvent(ctx, tx, id, r.Status, to, actor, note, now); err != nil {
		return nil, err
	}
	// The completion event commits with the state it announces.
	if err := s.announce(ctx, tx, r, to, now); err != nil {
		return nil, err
	}
	r.Status, r.UpdatedAt, r.LeaseOwner = to, now, ""
	if to == StatusReceived {
		leaveWork(ctx, WorkRequests)
	}
	if isFinal(to) {
		r.CompletedAt = &now
	}
	return r, nil
}

// SetOutcome stores a request's result and reasons in tx.
func (s *Store) setOutcome(ctx context.Context, tx *sql.Tx, id string, res *Result, reasons []Reason) error {
	var resJSON, reasonsJSON any
	if res != nil {
		b, err := json.Marshal(res)
		if err != nil {
			return fmt.Errorf("encode result: %w", err)
		}
		resJSON = string(b)
	}
	if len(reasons) > 0 {
		b, err := json.Marshal(reasons)
		if err != nil {
			return fmt.Errorf("encode reasons: %w", err)
		}
		reasonsJSON = string(b)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE lgpd_requests SET result_json = ?, reasons_json = ? WHERE id = ?", resJSON, reasonsJSON, id); err != nil {
		return fmt.Errorf("store request outcome: %w", err)
	}
	return nil
}

func isFinal(status Status) bool { return status.Final() }

// Events returns a request's state changes, oldest first.
func (s *Store) Events(ctx context.Context, id string) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT from_status, to_status, actor, note, at FROM lgpd_request_events
 WHERE request_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("list request events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var from, note sql.NullString
		if err := rows.Scan(&from, &e.To, &e.Actor, &note, &e.At); err != nil {
			return nil, fmt.Errorf("list request events: %w", err)
		}
		e.From, e.Note = Status(from.String), note.String
		out = append(out, e)
	}
	return out, rows.Err()
}

// Event is one state change of a request.
type Event struct {
	From, To    Status
	Actor, Note string
	At          time.Time
}
