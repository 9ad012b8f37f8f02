package service

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
)

const completeReviewMethod = lgpdv1.RequestService_CompleteReview_FullMethodName

// leavesOf returns request id's ledger leaves (pending or integrated) with
// event, in order.
func (f *fixture) leavesOf(id, event string) []ledger.Leaf {
	f.t.Helper()
	rows, err := f.db.Query(`SELECT leaf FROM (SELECT id AS n, 0 AS src, leaf FROM lgpd_ledger_pending
 UNION ALL SELECT seq AS n, 1 AS src, leaf FROM lgpd_ledger_entries) x ORDER BY src DESC, n`)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []ledger.Leaf
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			f.t.Fatal(err)
		}
		l, err := ledger.Unmarshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		if l.RequestID == id && l.Event == event {
			out = append(out, l)
		}
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// outboxData returns the payload of request id's event of type typ.
func (f *fixture) outboxData(id, typ string) map[string]any {
	f.t.Helper()
	var raw string
	if err := f.db.QueryRow("SELECT data_json FROM lgpd_outbox WHERE request_id = ? AND type = ?", id, typ).Scan(&raw); err != nil {
		f.t.Fatalf("%s of %s: %v", typ, id, err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func reviewOf(s seed.Scenario, purpose, ref string, at time.Time) *lgpdv1.CreateRequestRequest {
	return &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_REVIEW, Subject: &lgpdv1.Subject{Cpf: s.CPF},
		Decision: &lgpdv1.Decision{Purpose: purpose, Reference: ref, DecidedAt: timestamppb.New(at)}}
}

// TestReviewThroughQueue (Art. 20): the backend asks, for a titular, for the
// review of an automated credit decision; it waits in the DPO's queue with
// its deadline (never taken by a worker, never sent on by ApproveRequest);
// only the DPO answers, with a person's name and the criteria used; the
// request completes with result.review, the ledger holds leaves committing
// to the decision and the answer (never the reviewer's name), and
// decision.review_requested and …_completed are in the outbox with purpose,
// reference and outcome only, beside request.awaiting_approval and
// request.completed. A second review answered with a trade-secret
// reason, and both reach the titular's copy.
func TestReviewThroughQueue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioBuyer2023)
	decided := time.Date(2026, 11, 20, 14, 30, 0, 0, time.UTC)

	ask := reviewOf(s, "credit_analysis", "ANALISE-CRED-7731", decided)
	ask.IdempotencyKey = "crm-review-7731"
	r := f.create(f.backend, ask)
	if r.GetKind() != lgpdv1.RequestKind_REVIEW || r.GetStatus() != lgpdv1.RequestStatus_AWAITING_APPROVAL {
		t.Fatalf("REVIEW must wait for the DPO: %v", r)
	}
	if d := r.GetDecision(); d.GetPurpose() != "credit_analysis" || d.GetReference() != "ANALISE-CRED-7731" || !d.GetDecidedAt().AsTime().Equal(decided) {
		t.Fatalf("decision echoed %v", d)
	}
	due := r.GetDueAt().AsTime().Sub(r.GetReceivedAt().AsTime())
	if want := f.tenant().Config.Policy.Deadline(); due != want {
		t.Errorf("due_at is received_at + %v, want the tenant's deadline %v", due, want)
	}
	// The same call again (same key) is the same request; the same key
	// naming another decision is refused.
	if again := f.create(f.backend, ask); again.GetId() != r.GetId() || again.GetDecision().GetReference() != "ANALISE-CRED-7731" {
		t.Fatalf("repeated REVIEW: %v", again)
	}
	other := reviewOf(s, "credit_analysis", "ANALISE-CRED-9999", decided)
	other.Tenant, other.IdempotencyKey = "demo", ask.IdempotencyKey
	_, err := call[*lgpdv1.Request](f.backend, f, lgpdv1.RequestService_CreateRequest_FullMethodName, other)
	wantCode(t, err, codes.AlreadyExists, "IDEMPOTENCY_KEY_REUSED")
	if n := f.work(); n != 0 {
		t.Fatalf("a worker took %d requests; a REVIEW is the DPO's", n)
	}

	// The DPO's queue: status AWAITING_APPROVAL, kind REVIEW.
	list := must[*lgpdv1.ListRequestsResponse](f.dpo, f, lgpdv1.RequestService_ListRequests_FullMethodName,
		&lgpdv1.ListRequestsRequest{Tenant: "demo", Status: lgpdv1.RequestStatus_AWAITING_APPROVAL, Kind: lgpdv1.RequestKind_REVIEW})
	if len(list.GetRequests()) != 1 || list.GetRequests()[0].GetId() != r.GetId() || list.GetRequests()[0].GetDueAt() == nil ||
		list.GetRequests()[0].GetDecision().GetReference() != "ANALISE-CRED-7731" {
		t.Fatalf("the DPO's queue: %v", list)
	}

	// Refused inputs.
	good := func() *lgpdv1.CompleteReviewRequest {
		return &lgpdv1.CompleteReviewRequest{Tenant: "demo", Id: r.GetId(), Outcome: lgpdv1.ReviewResult_UPHELD,
			Reviewer: "Analista Revisora Sintética", Criteria: "Renda comprovada inferior a 30% da parcela; política de crédito v3, revisada manualmente."}
	}
	for _, c := range []struct {
		name string
		ctx  context.Context
		edit func(*lgpdv1.CompleteReviewRequest)
		code codes.Code
		want string
	}{
		{"the backend may not answer", f.backend, func(*lgpdv1.CompleteReviewRequest) {}, codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"the auditor may not answer", f.auditor, func(*lgpdv1.CompleteReviewRequest) {}, codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"no outcome", f.dpo, func(in *lgpdv1.CompleteReviewRequest) { in.Outcome = 0 }, codes.InvalidArgument, "OUTCOME_REQUIRED"},
		{"no reviewer", f.dpo, func(in *lgpdv1.CompleteReviewRequest) { in.Reviewer = "  " }, codes.InvalidArgument, "REVIEWER_REQUIRED"},
		{"neither criteria nor trade secret", f.dpo, func(in *lgpdv1.CompleteReviewRequest) { in.Criteria = "" }, codes.InvalidArgument, "CRITERIA_OR_TRADE_SECRET_REQUIRED"},
		{"both criteria and trade secret", f.dpo, func(in *lgpdv1.CompleteReviewRequest) { in.TradeSecretReason = "segredo" }, codes.InvalidArgument, "CRITERIA_AND_TRADE_SECRET"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := good()
			c.edit(in)
			_, err := call[*lgpdv1.Request](c.ctx, f, completeReviewMethod, in)
			wantCode(t, err, c.code, c.want)
		})
	}
	_, err = call[*lgpdv1.Request](f.dpo, f, lgpdv1.RequestService_ApproveRequest_FullMethodName, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: r.GetId()})
	wantCode(t, err, codes.FailedPrecondition, "USE_COMPLETE_REVIEW")
	if got := f.get(r.GetId()); got.GetStatus() != lgpdv1.RequestStatus_AWAITING_APPROVAL {
		t.Fatalf("a refused approval moved the REVIEW to %s", got.GetStatus())
	}
	// Each state a request announces (request.awaiting_approval) beside the
	// review's own event, in the order their transaction wrote them.
	if got := f.outbox(r.GetId()); !slices.Equal(got, []string{store.EventRequestAwaitingApproval, store.EventDecisionReviewRequested}) {
		t.Errorf("outbox before the answer %v, want request.awaiting_approval and decision.review_requested", got)
	}

	// The DPO answers.
	done := must[*lgpdv1.Request](f.dpo, f, completeReviewMethod, good())
	rv := done.GetResult().GetReview()
	if done.GetStatus() != lgpdv1.RequestStatus_COMPLETED || rv.GetOutcome() != lgpdv1.ReviewResult_UPHELD ||
		rv.GetReviewer() != "Analista Revisora Sintética" || rv.GetRecordedBy() != "dpo" || rv.GetReviewedAt() == nil ||
		!strings.HasPrefix(rv.GetCriteria(), "Renda comprovada") || rv.GetTradeSecretReason() != "" || done.GetDecision().GetPurpose() != "credit_analysis" {
		t.Fatalf("completed REVIEW: %v", done)
	}
	if got := f.get(r.GetId()).GetResult().GetReview(); got.GetOutcome() != lgpdv1.ReviewResult_UPHELD || got.GetCriteria() != rv.GetCriteria() {
		t.Errorf("GetRequest after the answer: %v", got)
	}
	_, err = call[*lgpdv1.Request](f.dpo, f, completeReviewMethod, good())
	wantCode(t, err, codes.FailedPrecondition, "CONFLICT")
	notReview := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
	in := good()
	in.Id = notReview.GetId()
	_, err = call[*lgpdv1.Request](f.dpo, f, completeReviewMethod, in)
	wantCode(t, err, codes.FailedPrecondition, "CONFLICT")

	// History, ledger and events.
	if got := f.events(r.GetId()); !slices.Equal(got, []string{">RECEIVED", "RECEIVED>AWAITING_APPROVAL", "AWAITING_APPROVAL>COMPLETED"}) {
		t.Errorf("history %v", got)
	}
	decisionDigest := store.Decision{Purpose: "credit_analysis", Reference: "ANALISE-CRED-7731", DecidedAt: decided}.Digest()
	asked := f.leavesOf(r.GetId(), store.EventReviewRequested)
	if len(asked) != 1 || asked[0].Kind != "REVIEW" || asked[0].SubjectRef != r.GetSubjectRef() ||
		len(asked[0].Digests) != 1 || asked[0].Digests[0].SHA256 != decisionDigest {
		t.Errorf("decision.review_requested leaves %+v", asked)
	}
	answered := f.leavesOf(r.GetId(), store.EventReviewCompleted)
	if len(answered) != 1 || answered[0].To != "UPHELD" || len(answered[0].Digests) != 2 ||
		answered[0].Digests[0].Name != "criteria" || answered[0].Digests[1].SHA256 != decisionDigest {
		t.Fatalf("decision.review_completed leaves %+v", answered)
	}
	if len(f.leavesOf(r.GetId(), ledger.EventRequestStatus)) != 3 {
		t.Error("every state change of the REVIEW must have its request.status leaf")
	}
	for _, l := range append(asked, answered...) {
		b, _ := l.Marshal()
		if strings.Contains(string(b), "Analista") || strings.Contains(string(b), s.CPF) {
			t.Errorf("a review leaf holds personal data: %+v", l)
		}
	}
	if got := f.outbox(r.GetId()); !slices.Equal(got, []string{store.EventRequestAwaitingApproval, store.EventDecisionReviewRequested,
		store.EventRequestCompleted, store.EventDecisionReviewCompleted}) {
		t.Errorf("outbox %v, want the queue's and the answer's request and decision events", got)
	}
	want := map[string]any{"purpose": "credit_analysis", "reference": "ANALISE-CRED-7731", "decided_at": "2026-11-20T14:30:00Z", "outcome": "UPHELD"}
	if got := f.outboxData(r.GetId(), store.EventDecisionReviewCompleted); !mapsEqual(got, want) {
		t.Errorf("decision.review_completed data %v, want %v", got, want)
	}
	delete(want, "outcome")
	if got := f.outboxData(r.GetId(), store.EventDecisionReviewRequested); !mapsEqual(got, want) {
		t.Errorf("decision.review_requested data %v, want %v", got, want)
	}

	// A second decision, answered with the criteria withheld.
	// Asked by the titular through the portal (a titular-bound token).
	in2 := reviewOf(s, "credit_analysis", "ANALISE-CRED-7790", decided.Add(48*time.Hour))
	in2.Tenant, in2.Subject = "demo", nil
	second, err := f.reqs.CreateRequest(asTitular(s), in2)
	if err != nil || second.GetStatus() != lgpdv1.RequestStatus_AWAITING_APPROVAL {
		t.Fatalf("the titular's REVIEW: %v %v", second, err)
	}
	secret := &lgpdv1.CompleteReviewRequest{Tenant: "demo", Id: second.GetId(), Outcome: lgpdv1.ReviewResult_CHANGED,
		Reviewer: "Gerente de Crédito Sintético", TradeSecretReason: "O modelo de pontuação é segredo comercial do banco parceiro (art. 20 §1).",
		Note: "A pré-aprovação foi concedida após a revisão."}
	got := must[*lgpdv1.Request](f.dpo, f, completeReviewMethod, secret).GetResult().GetReview()
	if got.GetOutcome() != lgpdv1.ReviewResult_CHANGED || got.GetCriteria() != "" || !strings.HasPrefix(got.GetTradeSecretReason(), "O modelo") {
		t.Fatalf("trade-secret answer: %v", got)
	}
	if l := f.leavesOf(second.GetId(), store.EventReviewCompleted); len(l) != 1 || l[0].To != "CHANGED" || l[0].Digests[1].Name != "trade_secret_reason" {
		t.Errorf("trade-secret leaf %+v", l)
	}
	// A third, still pending, and a canceled one that the copy leaves out.
	pending := f.create(f.backend, reviewOf(s, "credit_analysis", "ANALISE-CRED-7802", decided.Add(72*time.Hour)))
	canceled := f.create(f.backend, reviewOf(s, "credit_analysis", "ANALISE-CRED-7803", decided.Add(96*time.Hour)))
	must[*lgpdv1.Request](f.backend, f, lgpdv1.RequestService_CancelRequest_FullMethodName, &lgpdv1.CancelRequestRequest{Tenant: "demo", Id: canceled.GetId()})

	// The titular's copy lists them, oldest first, with the answers.
	ctx := context.Background()
	tn := f.tenant()
	sr, err := tn.Store.GetRequest(ctx, r.GetId())
	if err != nil {
		t.Fatal(err)
	}
	read, err := tn.Store.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer read.Close()
	meta, err := exportMeta(ctx, read, tn, sr)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range meta.Reviews {
		ids = append(ids, v.RequestID)
	}
	if !slices.Equal(ids, []string{r.GetId(), second.GetId(), pending.GetId()}) {
		t.Fatalf("copy's reviews %v, want the answered two and the pending one", ids)
	}
	first, two, open := meta.Reviews[0], meta.Reviews[1], meta.Reviews[2]
	if first.Outcome != "mantida" || first.ReviewedBy != "Analista Revisora Sintética" || first.Criteria != rv.GetCriteria() ||
		first.Purpose != "credit_analysis" || first.Reference != "ANALISE-CRED-7731" || !first.DecidedAt.Equal(decided) ||
		first.RequestedAt.IsZero() || first.ReviewedAt.IsZero() || first.TradeSecret != "" {
		t.Errorf("first review in the copy: %+v", first)
	}
	if two.Outcome != "alterada" || two.Criteria != "" || two.TradeSecret != secret.GetTradeSecretReason() {
		t.Errorf("trade-secret review in the copy: %+v", two)
	}
	if open.Outcome != "" || open.ReviewedBy != "" || !open.ReviewedAt.IsZero() {
		t.Errorf("pending review in the copy: %+v", open)
	}
	f.assertNoPersonalData([]seed.Scenario{s})
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestReviewRefusals: a REVIEW names a decision of a purpose marked
// automated_decisions, with a reference free of personal data and a date
// not in the future; anything else is refused with a reason saying how to
// fix it, and nothing is recorded.
func TestReviewRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioProspect)
	past := time.Now().Add(-24 * time.Hour)
	for _, c := range []struct {
		name string
		in   *lgpdv1.CreateRequestRequest
		want string
	}{
		{"no decision", &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_REVIEW, Subject: &lgpdv1.Subject{Cpf: s.CPF}}, "DECISION_REQUIRED"},
		{"unknown purpose", reviewOf(s, "score_magico", "REF-1", past), "UNKNOWN_PURPOSE"},
		{"purpose not automated", reviewOf(s, "marketing_email", "REF-1", past), "PURPOSE_NOT_AUTOMATED"},
		{"malformed purpose", reviewOf(s, "Credit Analysis", "REF-1", past), "BAD_PURPOSE"},
		{"no reference", reviewOf(s, "credit_analysis", " ", past), "BAD_DECISION_REFERENCE"},
		{"a CPF as reference", reviewOf(s, "credit_analysis", "cliente "+s.CPF, past), "PERSONAL_DATA_IN_TEXT"},
		{"reference too long", reviewOf(s, "credit_analysis", strings.Repeat("R", 201), past), "BAD_TEXT"},
		{"no date", reviewOf(s, "credit_analysis", "REF-1", past), "BAD_DECIDED_AT"},
		{"date in the future", reviewOf(s, "credit_analysis", "REF-1", time.Now().Add(48*time.Hour)), "BAD_DECIDED_AT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.in.Tenant = "demo"
			if c.name == "no date" {
				c.in.Decision.DecidedAt = nil
			}
			_, err := call[*lgpdv1.Request](f.backend, f, lgpdv1.RequestService_CreateRequest_FullMethodName, c.in)
			wantCode(t, err, codes.InvalidArgument, c.want, s.CPF)
		})
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_requests WHERE kind = 'REVIEW'") + f.count("SELECT COUNT(*) FROM lgpd_decision_reviews"); n != 0 {
		t.Errorf("refused REVIEWs left %d rows", n)
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_outbox WHERE type = ?", store.EventDecisionReviewRequested); n != 0 {
		t.Errorf("refused REVIEWs left %d events", n)
	}
}
