package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/ledger"
)

// KindReview asks for the review of a decision taken solely by automated
// processing (Art. 20). It is never run by a worker: it waits in the DPO's
// queue (AWAITING_APPROVAL) until the DPO answers it (CompleteReview).
const KindReview Kind = "REVIEW"

// Review outcomes, spelled as in lgpd.v1.ReviewResult.Outcome.
const (
	ReviewUpheld  = "UPHELD"
	ReviewChanged = "CHANGED"
)

// Ledger events of a REVIEW, beside its request.status leaves.
const (
	// EventReviewRequested commits to the decision a REVIEW names.
	EventReviewRequested = "decision.review_requested"
	// EventReviewCompleted commits to the DPO's answer; To is the outcome.
	EventReviewCompleted = "decision.review_completed"
)

// Decision is the automated decision a REVIEW names.
type Decision struct {
	Purpose   string
	Reference string
	DecidedAt time.Time
}

// Digest is the SHA-256 the ledger keeps of the decision: purpose,
// reference and date (RFC 3339, UTC, microseconds), one per line.
func (d Decision) Digest() [32]byte {
	return sha256.Sum256([]byte(d.Purpose + "\n" + d.Reference + "\n" + d.DecidedAt.UTC().Format("2006-01-02T15:04:05.000000Z")))
}

// ReviewResult is the DPO's answer to a REVIEW (Result.Review).
type ReviewResult struct {
	Outcome string `json:"outcome"`
	// Reviewer is the person who reviewed (staff's personal data: kept in
	// the request's record, never in the ledger or events).
	Reviewer string `json:"reviewer"`
	// RecordedBy is the credential that recorded the answer.
	RecordedBy string    `json:"recorded_by"`
	ReviewedAt time.Time `json:"reviewed_at"`
	// Exactly one of Criteria (Art. 20 §1) and TradeSecretReason is set.
	Criteria          string `json:"criteria,omitempty"`
	TradeSecretReason string `json:"trade_secret_reason,omitempty"`
	Note              string `json:"note,omitempty"`
}

// DecisionReview is a REVIEW's record (lgpd_decision_reviews) with its
// request's state.
type DecisionReview struct {
	RequestID  string
	SubjectRef string
	Decision   Decision
	// Status and ReceivedAt are the request's.
	Status     Status
	ReceivedAt time.Time
	// Answer is nil until the DPO answers.
	Answer *ReviewResult
}

// AutomatedPurpose reports whether purpose id is in the tenant's catalog
// and whether it is marked as taking automated decisions.
func (r Reads) AutomatedPurpose(ctx context.Context, id string) (found, automated bool, err error) {
	err = r.q.QueryRowContext(ctx, "SELECT automated_decisions FROM lgpd_purposes WHERE id = ?", id).Scan(&automated)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("read purpose: %w", err)
	}
	return true, automated, nil
}

// MarkAutomatedDecisions sets whether purpose id's decisions are taken by
// automated processing (a purposes file's automated_decisions). An unknown
// purpose is ErrNotFound.
func (r Reads) MarkAutomatedDecisions(ctx context.Context, id string, automated bool) error {
	res, err := r.q.ExecContext(ctx, "UPDATE lgpd_purposes SET automated_decisions = ? WHERE id = ?", automated, id)
	if err != nil {
		return fmt.Errorf("mark purpose: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		if found, _, err := r.AutomatedPurpose(ctx, id); err != nil || !found {
			return errors.Join(ErrNotFound, err)
		}
	}
	return nil
}

// RecordDecision records the decision REVIEW request requestID names, and a
// ledger leaf committing to it, in this transaction.
func (x *Tx) RecordDecision(ctx context.Context, requestID, subjectRef string, d Decision) error {
	if _, err := x.tx.ExecContext(ctx, `INSERT INTO lgpd_decision_reviews (request_id, subject_ref, purpose_id, reference, decided_at)
 VALUES (?, ?, ?, ?, ?)`, requestID, subjectRef, d.Purpose, d.Reference, d.DecidedAt.UTC()); err != nil {
		return fmt.Errorf("record decision: %w", err)
	}
	return x.s.appendLeaf(ctx, x.tx, ledger.Leaf{Event: EventReviewRequested, Kind: string(KindReview), RequestID: requestID,
		SubjectRef: subjectRef, To: "REQUESTED", At: x.s.now(), Digests: []ledger.Digest{{Name: "decision", SHA256: d.Digest()}}})
}

// CompleteReview records the DPO's answer to REVIEW request id, waiting in
// AWAITING_APPROVAL: the review row, the request's result, the COMPLETED
// transition and a decision.review_completed leaf, in this transaction. The
// leaf holds the outcome and digests of the decision and of the Art. 20 §1
// answer, never the reviewer's name (the request.status leaf's outcome
// digest covers the whole result, reviewer included). A request that is
// not a REVIEW waiting for its answer is ErrConflict.
func (x *Tx) CompleteReview(ctx context.Context, id string, a ReviewResult) (*Request, *DecisionReview, error) {
	r, err := x.s.getRequest(ctx, x.tx, id, true)
	if err != nil {
		return nil, nil, err
	}
	if r.Kind != KindReview {
		return nil, nil, fmt.Errorf("%w: only a REVIEW request is answered with CompleteReview (this one is a %s)", ErrConflict, r.Kind)
	}
	if r.Status != StatusAwaitingApproval {
		return nil, nil, fmt.Errorf("%w: this REVIEW is %s; only one waiting in the DPO's queue (AWAITING_APPROVAL) can be answered", ErrConflict, r.Status)
	}
	d, err := x.DecisionReview(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	a.ReviewedAt = x.s.now().UTC()
	if _, err := x.tx.ExecContext(ctx, `UPDATE lgpd_decision_reviews SET outcome = ?, reviewer = ?, recorded_by = ?, reviewed_at = ?,
 criteria = ?, trade_secret_reason = ?, note = ? WHERE request_id = ?`, a.Outcome, a.Reviewer, a.RecordedBy, a.ReviewedAt,
		nullable(a.Criteria), nullable(a.TradeSecretReason), nullable(a.Note), id); err != nil {
		return nil, nil, fmt.Errorf("record review: %w", err)
	}
	res := &Result{Review: &a}
	if err := x.s.setOutcome(ctx, x.tx, id, res, nil); err != nil {
		return nil, nil, err
	}
	answer := ledger.Digest{Name: "criteria", SHA256: sha256.Sum256([]byte(a.Criteria))}
	if a.TradeSecretReason != "" {
		answer = ledger.Digest{Name: "trade_secret_reason", SHA256: sha256.Sum256([]byte(a.TradeSecretReason))}
	}
	digests := []ledger.Digest{answer, {Name: "decision", SHA256: d.Decision.Digest()}}
	if strings.Compare(digests[0].Name, digests[1].Name) > 0 {
		digests[0], digests[1] = digests[1], digests[0]
	}
	if err := x.s.appendLeaf(ctx, x.tx, ledger.Leaf{Event: EventReviewCompleted, Kind: string(KindReview), RequestID: id,
		SubjectRef: r.SubjectRef, From: "REQUESTED", To: a.Outcome, At: a.ReviewedAt, Digests: digests}); err != nil {
		return nil, nil, err
	}
	r, err = x.s.transition(ctx, x.tx, r, []Status{StatusAwaitingApproval}, StatusCompleted, a.RecordedBy,
		sqlq.Truncate("review "+strings.ToLower(a.Outcome), 500))
	if err != nil {
		return nil, nil, err
	}
	r.Result = res
	d.Status, d.Answer = r.Status, &a
	return r, d, nil
}

const reviewColumns = `v.request_id, v.subject_ref, v.purpose_id, v.reference, v.decided_at, q.status, q.received_at,
 v.outcome, v.reviewer, v.recorded_by, v.reviewed_at, v.criteria, v.trade_secret_reason, v.note`

const reviewFrom = ` FROM lgpd_decision_reviews v JOIN lgpd_requests q ON q.id = v.request_id`

func scanReview(sc interface{ Scan(...any) error }) (*DecisionReview, error) {
	var d DecisionReview
	var outcome, reviewer, by, criteria, secret, note sql.NullString
	var reviewed sql.NullTime
	if err := sc.Scan(&d.RequestID, &d.SubjectRef, &d.Decision.Purpose, &d.Decision.Reference, &d.Decision.DecidedAt, &d.Status, &d.ReceivedAt,
		&outcome, &reviewer, &by, &reviewed, &criteria, &secret, &note); err != nil {
		return nil, err
	}
	d.Decision.DecidedAt, d.ReceivedAt = d.Decision.DecidedAt.UTC(), d.ReceivedAt.UTC()
	if outcome.Valid {
		d.Answer = &ReviewResult{Outcome: outcome.String, Reviewer: reviewer.String, RecordedBy: by.String,
			ReviewedAt: reviewed.Time.UTC(), Criteria: criteria.String, TradeSecretReason: secret.String, Note: note.String}
	}
	return &d, nil
}

// DecisionReview returns REVIEW request requestID's record.
func (r Reads) DecisionReview(ctx context.Context, requestID string) (*DecisionReview, error) {
	d, err := scanReview(r.q.QueryRowContext(ctx, "SELECT "+reviewColumns+reviewFrom+" WHERE v.request_id = ?", requestID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read decision review: %w", err)
	}
	return d, nil
}

// DecisionsOf returns the records of those of requests ids that are
// REVIEWs, by request id (one query for a page of ListRequests).
func (r Reads) DecisionsOf(ctx context.Context, ids []string) (map[string]*DecisionReview, error) {
	out := map[string]*DecisionReview{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	rows, err := r.q.QueryContext(ctx, "SELECT "+reviewColumns+reviewFrom+" WHERE v.request_id IN ("+sqlq.Placeholders(len(ids))+")", args...)
	if err != nil {
		return nil, fmt.Errorf("read decision reviews: %w", err)
	}
	list, err := collect(rows, "read decision reviews", func(rows *sql.Rows) (*DecisionReview, error) { return scanReview(rows) })
	for _, d := range list {
		out[d.RequestID] = d
	}
	return out, err
}

// DecisionReviews returns titular subjectRef's REVIEWs that were not
// canceled, denied or failed, oldest first: the ones pending and the ones
// answered, for the titular's copy.
func (r Reads) DecisionReviews(ctx context.Context, subjectRef string) ([]*DecisionReview, error) {
	rows, err := r.q.QueryContext(ctx, "SELECT "+reviewColumns+reviewFrom+
		" WHERE v.subject_ref = ? AND q.status NOT IN (?, ?, ?) ORDER BY q.received_at, v.request_id",
		subjectRef, StatusCanceled, StatusDenied, StatusFailed)
	if err != nil {
		return nil, fmt.Errorf("read decision reviews: %w", err)
	}
	return collect(rows, "read decision reviews", func(rows *sql.Rows) (*DecisionReview, error) { return scanReview(rows) })
}
