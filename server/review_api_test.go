package server

import (
	"database/sql"
	"net/http"
	"slices"
	"testing"

	"github.com/titular/titular/ledger"
)

// restReview is the part of a REVIEW request's JSON this test reads.
type restReview struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Status   string `json:"status"`
	DueAt    string `json:"due_at"`
	Decision *struct {
		Purpose   string `json:"purpose"`
		Reference string `json:"reference"`
		DecidedAt string `json:"decided_at"`
	} `json:"decision"`
	Result *struct {
		Review *struct {
			Outcome           string `json:"outcome"`
			Reviewer          string `json:"reviewer"`
			RecordedBy        string `json:"recorded_by"`
			ReviewedAt        string `json:"reviewed_at"`
			Criteria          string `json:"criteria"`
			TradeSecretReason string `json:"trade_secret_reason"`
		} `json:"review"`
	} `json:"result"`
}

// TestRESTReviewThroughQueue (Art. 20) over REST: the backend asks for the
// review of the demo's automated credit decision (credit_analysis, marked
// automated_decisions in the purposes file); the DPO finds it in the queue
// (status AWAITING_APPROVAL, kind REVIEW) with its deadline and answers it
// with POST …:completeReview; the backend may not; the outbox and the
// ledger hold the review's events and leaves.
func TestRESTReviewThroughQueue(t *testing.T) {
	env := newTestEnv(t, 50)
	loadDemoPurposes(t, env)
	s := env.scenario(t, "comprador_2023")
	decision := map[string]any{"purpose": "credit_analysis", "reference": "ANALISE-CRED-7731", "decided_at": "2026-11-20T14:30:00Z"}
	code, _, raw := env.rest(t, "POST", "/v1/tenants/demo/requests", keyBackend,
		map[string]any{"kind": "REVIEW", "subject": map[string]any{"cpf": s.CPF}, "idempotency_key": "crm-review-1", "decision": decision})
	r := decode[restReview](t, raw)
	if code != http.StatusOK || r.Kind != "REVIEW" || r.Status != "AWAITING_APPROVAL" || r.DueAt == "" || r.Decision == nil ||
		r.Decision.Reference != "ANALISE-CRED-7731" || r.Decision.DecidedAt != "2026-11-20T14:30:00Z" {
		t.Fatalf("create REVIEW: HTTP %d: %s", code, raw)
	}

	code, _, raw = env.rest(t, "GET", "/v1/tenants/demo/requests?status=AWAITING_APPROVAL&kind=REVIEW", keyDPO, nil)
	queue := decode[struct {
		Requests []restReview `json:"requests"`
	}](t, raw)
	if code != http.StatusOK || len(queue.Requests) != 1 || queue.Requests[0].ID != r.ID || queue.Requests[0].DueAt != r.DueAt ||
		queue.Requests[0].Decision == nil || queue.Requests[0].Decision.Purpose != "credit_analysis" {
		t.Fatalf("the DPO's queue: HTTP %d: %s", code, raw)
	}

	// Refused: a purpose that takes no automated decision, the backend
	// answering, an answer with both criteria and a trade-secret reason.
	code, _, raw = env.rest(t, "POST", "/v1/tenants/demo/requests", keyBackend, map[string]any{"kind": "REVIEW",
		"subject": map[string]any{"cpf": s.CPF}, "decision": map[string]any{"purpose": "marketing_email", "reference": "X-1", "decided_at": "2026-11-20T14:30:00Z"}})
	if e := decode[restError](t, raw); code != http.StatusBadRequest || e.reason() != "PURPOSE_NOT_AUTOMATED" {
		t.Errorf("REVIEW of marketing_email: HTTP %d: %s; want 400 PURPOSE_NOT_AUTOMATED", code, raw)
	}
	answer := "/v1/tenants/demo/requests/" + r.ID + ":completeReview"
	body := map[string]any{"outcome": "UPHELD", "reviewer": "Analista Revisora Sintética",
		"criteria": "Renda comprovada inferior a 30% da parcela; política de crédito v3."}
	for _, c := range []struct {
		key    string
		body   map[string]any
		code   int
		reason string
	}{
		{keyBackend, body, http.StatusForbidden, "ROLE_NOT_ALLOWED"},
		{keyDPO, map[string]any{"outcome": "UPHELD", "reviewer": "Analista", "criteria": "c", "trade_secret_reason": "s"}, http.StatusBadRequest, "CRITERIA_AND_TRADE_SECRET"},
		{keyDPO, map[string]any{"outcome": "UPHELD", "reviewer": "Analista"}, http.StatusBadRequest, "CRITERIA_OR_TRADE_SECRET_REQUIRED"},
	} {
		code, _, raw := env.rest(t, "POST", answer, c.key, c.body)
		if e := decode[restError](t, raw); code != c.code || e.reason() != c.reason {
			t.Errorf("completeReview: HTTP %d: %s; want %d %s", code, raw, c.code, c.reason)
		}
	}

	code, _, raw = env.rest(t, "POST", answer, keyDPO, body)
	done := decode[restReview](t, raw)
	if code != http.StatusOK || done.Status != "COMPLETED" || done.Result == nil || done.Result.Review == nil ||
		done.Result.Review.Outcome != "UPHELD" || done.Result.Review.Reviewer != "Analista Revisora Sintética" ||
		done.Result.Review.RecordedBy != "dpo" || done.Result.Review.ReviewedAt == "" || done.Result.Review.Criteria == "" {
		t.Fatalf("completeReview as the DPO: HTTP %d: %s", code, raw)
	}

	db := env.demoDB(t)
	types := reviewColumn[string](t, db, "SELECT type FROM lgpd_outbox WHERE request_id = ? ORDER BY seq", r.ID)
	if !slices.Contains(types, "decision.review_requested") || !slices.Contains(types, "decision.review_completed") {
		t.Errorf("outbox of the REVIEW: %v", types)
	}
	var events []string
	for _, b := range reviewColumn[[]byte](t, db, "SELECT leaf FROM lgpd_ledger_pending UNION ALL SELECT leaf FROM lgpd_ledger_entries") {
		l, err := ledger.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if l.RequestID == r.ID && l.Event != ledger.EventRequestStatus {
			events = append(events, l.Event+":"+l.To)
		}
	}
	slices.Sort(events)
	if !slices.Equal(events, []string{"decision.review_completed:UPHELD", "decision.review_requested:REQUESTED"}) {
		t.Errorf("review leaves in the ledger: %v", events)
	}
}

// reviewColumn returns the single column of query's rows.
func reviewColumn[T any](t *testing.T, db *sql.DB, query string, args ...any) []T {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
