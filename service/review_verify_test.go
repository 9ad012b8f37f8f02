package service

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
)

// TestReviewWaitsForVerification: a tenant may hold REVIEW for identity
// verification (policy.verification_required), since its answer tells the
// criteria of a decision about the titular (Art. 20 §1) and must reach
// only the titular. A REVIEW from the backend then waits in
// AWAITING_VERIFICATION, out of the DPO's review queue: it cannot be
// answered, approved, or taken by a worker. Once the DPO records how the
// identity was verified it reaches the queue (AWAITING_APPROVAL, with the
// request.awaiting_approval event) — never the workers — and
// CompleteReview answers it. A REVIEW through the titular's own portal
// was verified there and goes straight to the queue.
func TestReviewWaitsForVerification(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withVerification("REVIEW"), withWebhook("http://127.0.0.1:9/hook"))
	s := f.scenario(seed.ScenarioBuyer2023)
	decided := time.Date(2026, 10, 2, 9, 15, 0, 0, time.UTC)

	r := f.create(f.backend, reviewOf(s, "credit_analysis", "ANALISE-CRED-8101", decided))
	if r.GetStatus() != lgpdv1.RequestStatus_AWAITING_VERIFICATION || r.GetDecision().GetReference() != "ANALISE-CRED-8101" {
		t.Fatalf("REVIEW under verification: %v", r)
	}
	if got := f.events(r.GetId()); !slices.Equal(got, []string{">RECEIVED", "RECEIVED>AWAITING_VERIFICATION"}) {
		t.Errorf("history before verification %v", got)
	}
	queue := func() []string {
		list := must[*lgpdv1.ListRequestsResponse](f.dpo, f, lgpdv1.RequestService_ListRequests_FullMethodName,
			&lgpdv1.ListRequestsRequest{Tenant: "demo", Status: lgpdv1.RequestStatus_AWAITING_APPROVAL, Kind: lgpdv1.RequestKind_REVIEW})
		var ids []string
		for _, q := range list.GetRequests() {
			ids = append(ids, q.GetId())
		}
		return ids
	}
	if q := queue(); len(q) != 0 {
		t.Errorf("an unverified REVIEW is in the DPO's review queue: %v", q)
	}

	// Unverified, it cannot be answered nor approved, and no worker takes it.
	answer := &lgpdv1.CompleteReviewRequest{Tenant: "demo", Id: r.GetId(), Outcome: lgpdv1.ReviewResult_CHANGED,
		Reviewer: "Revisor Humano Sintético", Criteria: "Comprometimento de renda recalculado com o comprovante anexado; política de crédito v3."}
	_, err := call[*lgpdv1.Request](f.dpo, f, completeReviewMethod, answer)
	wantCode(t, err, codes.FailedPrecondition, "CONFLICT", s.CPF)
	_, err = call[*lgpdv1.Request](f.dpo, f, lgpdv1.RequestService_ApproveRequest_FullMethodName,
		&lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: r.GetId()})
	wantCode(t, err, codes.FailedPrecondition, "CONFLICT")
	if n := f.work(); n != 0 {
		t.Fatalf("a worker took %d requests; a REVIEW is the DPO's", n)
	}
	if got := f.outbox(r.GetId()); slices.Contains(got, store.EventRequestAwaitingApproval) {
		t.Errorf("request.awaiting_approval announced before verification: %v", got)
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_decision_reviews WHERE request_id = ? AND outcome IS NULL", r.GetId()); n != 1 {
		t.Errorf("the refused answer left the review row changed (%d unanswered rows)", n)
	}

	// The DPO verifies: the REVIEW reaches the queue, not the workers.
	v := must[*lgpdv1.Request](f.dpo, f, verifyMethod, &lgpdv1.VerifyRequestRequest{Tenant: "demo", Id: r.GetId(),
		Method: "gov.br", EvidenceRef: "GED-2026-0815", Note: "selo prata conferido"})
	if v.GetStatus() != lgpdv1.RequestStatus_AWAITING_APPROVAL || v.GetDecision().GetPurpose() != "credit_analysis" {
		t.Fatalf("verified REVIEW: %v", v)
	}
	if w := f.wakes(); len(w) != 0 {
		t.Errorf("a verified REVIEW woke the workers: %v", w)
	}
	if n := f.work(); n != 0 {
		t.Fatalf("a worker took %d requests after verification", n)
	}
	if q := queue(); !slices.Equal(q, []string{r.GetId()}) {
		t.Fatalf("the DPO's review queue after verification: %v", q)
	}
	if got := f.outbox(r.GetId()); !slices.Equal(got, []string{store.EventDecisionReviewRequested, store.EventRequestAwaitingApproval}) {
		t.Errorf("outbox after verification %v", got)
	}

	done := must[*lgpdv1.Request](f.dpo, f, completeReviewMethod, answer)
	if rv := done.GetResult().GetReview(); done.GetStatus() != lgpdv1.RequestStatus_COMPLETED || rv.GetOutcome() != lgpdv1.ReviewResult_CHANGED ||
		rv.GetReviewer() != answer.GetReviewer() || rv.GetCriteria() != answer.GetCriteria() {
		t.Fatalf("answered REVIEW: %v", done)
	}
	if got := f.events(r.GetId()); !slices.Equal(got, []string{">RECEIVED", "RECEIVED>AWAITING_VERIFICATION",
		"AWAITING_VERIFICATION>AWAITING_APPROVAL", "AWAITING_APPROVAL>COMPLETED"}) {
		t.Errorf("history %v", got)
	}
	var note, actor string
	if err := f.db.QueryRow("SELECT note, actor FROM lgpd_request_events WHERE request_id = ? AND from_status = 'AWAITING_VERIFICATION'",
		r.GetId()).Scan(&note, &actor); err != nil || note != "identity verified: gov.br; evidence: GED-2026-0815; selo prata conferido" || actor != "dpo" {
		t.Errorf("verification event: note %q actor %q (%v)", note, actor, err)
	}
	if l := f.leavesOf(r.GetId(), store.EventReviewCompleted); len(l) != 1 || l[0].To != "CHANGED" {
		t.Errorf("decision.review_completed leaves %+v", l)
	}
	if got := f.outbox(r.GetId()); !slices.Contains(got, store.EventDecisionReviewCompleted) || !slices.Contains(got, store.EventRequestCompleted) {
		t.Errorf("outbox after the answer %v", got)
	}

	// Through the titular's own portal the identity was verified already.
	in := reviewOf(s, "credit_analysis", "ANALISE-CRED-8102", decided.Add(24*time.Hour))
	in.Tenant, in.Subject = "demo", nil
	own, err := f.reqs.CreateRequest(asTitular(s), in)
	if err != nil || own.GetStatus() != lgpdv1.RequestStatus_AWAITING_APPROVAL {
		t.Fatalf("the titular's own REVIEW: %v (%v), want AWAITING_APPROVAL", own, err)
	}
	f.assertNoPersonalData([]seed.Scenario{s})
}
