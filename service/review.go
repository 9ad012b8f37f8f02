package service

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// decisionSkew is how far in the future a decision's date may be, for
// clocks that disagree a little.
const decisionSkew = 5 * time.Minute

// decisionOf checks the decision a REVIEW names (Art. 20): a purpose id,
// the CRM's reference for the decision (it reaches webhooks and the
// request's record: no personal data) and when it was taken. Whether the
// purpose is known and automated is checked in the transaction.
func decisionOf(in *lgpdv1.Decision, now time.Time) (store.Decision, error) {
	if in == nil {
		return store.Decision{}, invalid("DECISION_REQUIRED", "a REVIEW needs decision: the purpose under which the automated decision was taken (e.g. credit_analysis), its reference in the CRM and decided_at")
	}
	d := store.Decision{Purpose: in.GetPurpose(), Reference: strings.TrimSpace(in.GetReference())}
	if !purposeIDPattern.MatchString(d.Purpose) {
		return d, invalid("BAD_PURPOSE", "decision.purpose must be a purpose id of the tenant's catalog (lower-case letters, digits and '_', e.g. credit_analysis)")
	}
	if d.Reference == "" {
		return d, invalid("BAD_DECISION_REFERENCE", "decision.reference is required: the decision's id in the CRM (e.g. the credit analysis number)")
	}
	if err := historyText("decision.reference", d.Reference, 200, true); err != nil {
		return d, err
	}
	if in.GetDecidedAt() == nil || !in.GetDecidedAt().IsValid() {
		return d, invalid("BAD_DECIDED_AT", "decision.decided_at is required: when the automated decision was taken")
	}
	d.DecidedAt = in.GetDecidedAt().AsTime().UTC().Truncate(time.Microsecond)
	if d.DecidedAt.After(now.Add(decisionSkew)) {
		return d, invalid("BAD_DECIDED_AT", "decision.decided_at is in the future; give the date the decision was taken")
	}
	return d, nil
}

// reviewRunner records a REVIEW within the call that creates it: the
// decision (refused unless its purpose is in the catalog and marked
// automated_decisions), the wait in the DPO's queue (AWAITING_APPROVAL, or
// AWAITING_VERIFICATION first when the policy asks), and the
// decision.review_requested event, in the transaction that creates it.
// Workers never take a REVIEW: only the DPO answers it (CompleteReview).
func reviewRunner(in *lgpdv1.CreateRequestRequest, t *tenant.Tenant, actor string) (inlineFunc, string, error) {
	d, err := decisionOf(in.GetDecision(), time.Now())
	if err != nil {
		return nil, "", err
	}
	payload := d.Purpose + "\n" + d.Reference + "\n" + d.DecidedAt.Format(time.RFC3339Nano)
	return func(ctx context.Context, tx *store.Tx, r *store.Request) (*store.Request, error) {
		found, automated, err := tx.AutomatedPurpose(ctx, d.Purpose)
		switch {
		case err != nil:
			return nil, err
		case !found:
			return nil, invalid("UNKNOWN_PURPOSE", "decision.purpose %s is not in the tenant's purpose catalog; name the purpose under which the decision was taken (ListPurposes)", d.Purpose)
		case !automated:
			return nil, invalid("PURPOSE_NOT_AUTOMATED", "decision.purpose %s is not marked automated_decisions in the tenant's catalog: Art. 20 covers decisions taken solely by automated processing; ask for another kind of request, or have the DPO mark the purpose in the purposes file", d.Purpose)
		}
		if err := tx.RecordDecision(ctx, r.ID, r.SubjectRef, d); err != nil {
			return nil, err
		}
		next, note := store.StatusAwaitingApproval, "waiting for the DPO's review of the automated decision (Art. 20)"
		if needsVerification(ctx, t, r) {
			next, note = store.StatusAwaitingVerification, "waiting for the titular's identity to be verified (tenant policy, Art. 18 §3)"
		}
		out, err := tx.Transition(ctx, r.ID, []store.Status{store.StatusReceived}, next, actor, note)
		if err != nil {
			return nil, err
		}
		if err := propagate(ctx, t, tx, out, store.EventDecisionReviewRequested, decisionEvent(d, "")); err != nil {
			return nil, err
		}
		return out, nil
	}, payload, nil
}

// decisionEvent is a review event's payload: the decision and, once
// answered, the outcome; never the titular's data or the reviewer.
func decisionEvent(d store.Decision, outcome string) map[string]any {
	data := map[string]any{"purpose": d.Purpose, "reference": d.Reference, "decided_at": d.DecidedAt.Format(time.RFC3339Nano)}
	if outcome != "" {
		data["outcome"] = outcome
	}
	return data
}

// Limits of a review's answer.
const (
	maxReviewer    = 200
	maxCriteria    = 4000
	maxTradeSecret = 2000
	maxReviewNote  = 2000
)

// reviewAnswer checks the DPO's answer to a REVIEW.
func reviewAnswer(in *lgpdv1.CompleteReviewRequest, by string) (store.ReviewResult, error) {
	a := store.ReviewResult{Reviewer: strings.TrimSpace(in.GetReviewer()), RecordedBy: by,
		Criteria: strings.TrimSpace(in.GetCriteria()), TradeSecretReason: strings.TrimSpace(in.GetTradeSecretReason()),
		Note: strings.TrimSpace(in.GetNote())}
	switch in.GetOutcome() {
	case lgpdv1.ReviewResult_UPHELD:
		a.Outcome = store.ReviewUpheld
	case lgpdv1.ReviewResult_CHANGED:
		a.Outcome = store.ReviewChanged
	default:
		return a, invalid("OUTCOME_REQUIRED", "outcome is required: UPHELD when the decision stands, CHANGED when the review changed it")
	}
	switch {
	case a.Reviewer == "":
		return a, invalid("REVIEWER_REQUIRED", "reviewer is required: the name of the person who reviewed the decision (Art. 20 asks for a review, not another automated pass)")
	case len(a.Reviewer) > maxReviewer || !utf8.ValidString(a.Reviewer):
		return a, invalid("BAD_REVIEWER", "reviewer must be UTF-8 of at most %d bytes", maxReviewer)
	case a.Criteria == "" && a.TradeSecretReason == "":
		return a, invalid("CRITERIA_OR_TRADE_SECRET_REQUIRED", "give criteria (the criteria and procedures used for the decision, Art. 20 §1) or, when they are withheld, trade_secret_reason (why: commercial or industrial secret)")
	case a.Criteria != "" && a.TradeSecretReason != "":
		return a, invalid("CRITERIA_AND_TRADE_SECRET", "give either criteria or trade_secret_reason, not both: the criteria are disclosed, or withheld with the reason")
	case len(a.Criteria) > maxCriteria || !utf8.ValidString(a.Criteria):
		return a, invalid("BAD_CRITERIA", "criteria must be UTF-8 of at most %d bytes", maxCriteria)
	case len(a.TradeSecretReason) > maxTradeSecret || !utf8.ValidString(a.TradeSecretReason):
		return a, invalid("BAD_TRADE_SECRET_REASON", "trade_secret_reason must be UTF-8 of at most %d bytes", maxTradeSecret)
	case len(a.Note) > maxReviewNote || !utf8.ValidString(a.Note):
		return a, invalid("BAD_NOTE", "note must be UTF-8 of at most %d bytes", maxReviewNote)
	}
	return a, nil
}

// CompleteReview records the DPO's answer to a REVIEW waiting in the queue
// (Art. 20): outcome, reviewer (a person; the caller's credential is
// recorded beside the name) and the criteria used or the trade-secret
// reason. The answer, the COMPLETED transition, the ledger leaves and the
// decision.review_completed event commit in one transaction.
func (s *Requests) CompleteReview(ctx context.Context, in *lgpdv1.CompleteReviewRequest) (*lgpdv1.Request, error) {
	p, _ := PrincipalFrom(ctx)
	a, err := reviewAnswer(in, p.Name)
	if err != nil {
		return nil, err
	}
	return s.transition(ctx, in.GetTenant(), in.GetId(), func(ctx context.Context, t *tenant.Tenant, tx *store.Tx) (*store.Request, error) {
		r, d, err := tx.CompleteReview(ctx, in.GetId(), a)
		if err != nil {
			return nil, err
		}
		if err := propagate(ctx, t, tx, r, store.EventDecisionReviewCompleted, decisionEvent(d.Decision, a.Outcome)); err != nil {
			return nil, err
		}
		return r, nil
	})
}

// notReview refuses to let ApproveRequest send a REVIEW to the workers:
// only the DPO's answer (CompleteReview) ends it.
func notReview(r *store.Request) error {
	if r.Kind == store.KindReview {
		return errorf(codes.FailedPrecondition, "USE_COMPLETE_REVIEW", "a REVIEW is not approved: record the review's outcome with CompleteReview (or DenyRequest it)")
	}
	return nil
}

// withDecision adds, to a REVIEW, the decision it names.
func withDecision(ctx context.Context, t *tenant.Tenant, r *store.Request, out *lgpdv1.Request) error {
	if r.Kind != store.KindReview {
		return nil
	}
	d, err := t.Store.DecisionReview(ctx, r.ID)
	if err != nil {
		return err
	}
	out.Decision = decisionProto(d.Decision)
	return nil
}

// withDecisions is withDecision for a page of ListRequests, in one query.
func withDecisions(ctx context.Context, t *tenant.Tenant, out []*lgpdv1.Request) error {
	var ids []string
	for _, r := range out {
		if r.GetKind() == lgpdv1.RequestKind_REVIEW {
			ids = append(ids, r.GetId())
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ds, err := t.Store.DecisionsOf(ctx, ids)
	if err != nil {
		return err
	}
	for _, r := range out {
		if d, ok := ds[r.GetId()]; ok {
			r.Decision = decisionProto(d.Decision)
		}
	}
	return nil
}

func decisionProto(d store.Decision) *lgpdv1.Decision {
	return &lgpdv1.Decision{Purpose: d.Purpose, Reference: d.Reference, DecidedAt: ts(d.DecidedAt)}
}

// reviewProto is a REVIEW's result as the API shows it.
func reviewProto(a *store.ReviewResult) *lgpdv1.ReviewResult {
	out := &lgpdv1.ReviewResult{Reviewer: a.Reviewer, RecordedBy: a.RecordedBy, ReviewedAt: ts(a.ReviewedAt),
		Criteria: a.Criteria, TradeSecretReason: a.TradeSecretReason, Note: a.Note}
	out.Outcome = lgpdv1.ReviewResult_Outcome(lgpdv1.ReviewResult_Outcome_value[a.Outcome])
	return out
}
