package service

import (
	"context"

	"github.com/titular/titular/export"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// reviewOutcomes are a review's outcomes as the titular reads them (pt-BR).
var reviewOutcomes = map[string]string{store.ReviewUpheld: "mantida", store.ReviewChanged: "alterada"}

// exportReviews fills Meta.Reviews of the titular's copy of r (see
// exportMeta): every review of an automated decision the titular asked for
// (Art. 20) that was not canceled, denied or failed, oldest first, with the
// DPO's answer once given — the outcome, who reviewed it, and the criteria
// used or why they are withheld (Art. 20 §1). A pending one has no outcome.
// Read in the copy's snapshot, so it agrees with the rest of the copy.
func exportReviews(ctx context.Context, read *store.Snapshot, _ *tenant.Tenant, r *store.Request) ([]export.DecisionReview, error) {
	list, err := read.DecisionReviews(ctx, r.SubjectRef)
	if err != nil {
		return nil, err
	}
	var out []export.DecisionReview
	for _, d := range list {
		e := export.DecisionReview{RequestID: d.RequestID, Purpose: d.Decision.Purpose, Reference: d.Decision.Reference,
			DecidedAt: d.Decision.DecidedAt, RequestedAt: d.ReceivedAt}
		if a := d.Answer; a != nil {
			e.Outcome, e.ReviewedBy, e.ReviewedAt = reviewOutcomes[a.Outcome], a.Reviewer, a.ReviewedAt
			e.Criteria, e.TradeSecret = a.Criteria, a.TradeSecretReason
		}
		out = append(out, e)
	}
	return out, nil
}
