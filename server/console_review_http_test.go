package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsoleReviewAndLift: from the request page, the DPO answers a
// REVIEW of an automated decision (Art. 20) through CompleteReview —
// refused with a message when neither the criteria nor the trade-secret
// reason is given — and ends a completed BLOCK through LiftBlock; an
// auditor sees neither form and a forged POST is refused by the API's rule.
func TestConsoleReviewAndLift(t *testing.T) {
	env := newTestEnv(t, 50)
	loadDemoPurposes(t, env)
	buyer := env.scenario(t, "comprador_2023")
	review := env.createREST(t, keyBackend, map[string]any{"kind": "REVIEW", "subject": map[string]any{"cpf": buyer.CPF},
		"decision": map[string]any{"purpose": "credit_analysis", "reference": "ANALISE-CRED-42", "decided_at": "2026-11-20T14:30:00Z"}})
	block := env.createREST(t, keyBackend, map[string]any{"kind": "BLOCK", "subject": map[string]any{"cpf": env.scenario(t, "lead_com_pessoa_sem_venda").CPF}})
	if done := env.waitREST(t, block.ID); done.Status != "COMPLETED" {
		t.Fatalf("BLOCK ended %s", done.Status)
	}
	dpo, token := consoleSignIn(t, env, keyDPO)
	aud, audToken := consoleSignIn(t, env, keyAuditor)
	page := env.baseURL + "/console/t/demo/pedido/"

	_, _, body := consoleGet(t, aud, page+review.ID)
	if strings.Contains(body, "/revisar") {
		t.Error("the auditor is offered the review form")
	}
	if code, _, _ := consolePost(t, aud, page+review.ID+"/revisar", url.Values{"csrf": {audToken}, "outcome": {"UPHELD"}, "reviewer": {"Auditoria"}, "criteria": {"x"}}); code != http.StatusForbidden {
		t.Errorf("the auditor's review POST: %d, want 403", code)
	}
	_, _, body = consoleGet(t, dpo, page+review.ID)
	if !strings.Contains(body, `action="/console/t/demo/pedido/`+review.ID+`/revisar"`) || strings.Contains(body, `/aprovar"`) {
		t.Fatal("a REVIEW awaiting the DPO offers the review form, not approval")
	}
	if p := a11yProblems(body); len(p) > 0 {
		t.Errorf("the review form: %v", p)
	}
	code, _, body := consolePost(t, dpo, page+review.ID+"/revisar", url.Values{"csrf": {token}, "outcome": {"UPHELD"}, "reviewer": {"Dra. Revisora"}})
	if code != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, `value="Dra. Revisora"`) {
		t.Fatalf("a review with neither criteria nor a trade-secret reason: %d, want 400 with the form kept", code)
	}
	code, loc, _ := consolePost(t, dpo, page+review.ID+"/revisar", url.Values{"csrf": {token}, "outcome": {"UPHELD"}, "reviewer": {"Dra. Revisora"},
		"criteria": {"Renda declarada e histórico de pagamentos; a decisão foi revista por uma analista."}})
	if code != http.StatusSeeOther || !strings.HasSuffix(loc, review.ID+"?ok=revisar") {
		t.Fatalf("review: %d %s", code, loc)
	}
	if r := env.waitREST(t, review.ID); r.Status != "COMPLETED" {
		t.Fatalf("the answered REVIEW is %s", r.Status)
	}

	_, _, body = consoleGet(t, dpo, page+block.ID)
	if !strings.Contains(body, `/desbloquear"`) {
		t.Fatal("a completed BLOCK offers no lift")
	}
	if p := a11yProblems(body); len(p) > 0 {
		t.Errorf("the lift form: %v", p)
	}
	if code, _, _ := consolePost(t, dpo, page+block.ID+"/desbloquear", url.Values{"csrf": {token}}); code != http.StatusBadRequest {
		t.Errorf("a lift without a reason: %d, want 400", code)
	}
	code, loc, _ = consolePost(t, dpo, page+block.ID+"/desbloquear", url.Values{"csrf": {token}, "reason": {"titular pediu o desbloqueio, chamado GED-12"}})
	if code != http.StatusSeeOther || !strings.HasSuffix(loc, block.ID+"?ok=desbloquear") {
		t.Fatalf("lift: %d %s", code, loc)
	}
	_, _, raw := env.rest(t, "GET", "/v1/tenants/demo/requests/"+block.ID, keyDPO, nil)
	if !strings.Contains(string(raw), `"lifted_at"`) || strings.Contains(string(raw), `"lifted_at":null`) {
		t.Fatalf("the BLOCK has no lifted_at after the console lifted it: %s", raw)
	}
	if _, _, body = consoleGet(t, dpo, page+block.ID); strings.Contains(body, `/desbloquear"`) {
		t.Error("a lifted BLOCK still offers the lift")
	}
	if code, _, _ := consolePost(t, dpo, page+block.ID+"/desbloquear", url.Values{"csrf": {token}, "reason": {"de novo"}}); code == http.StatusSeeOther {
		t.Error("a second lift succeeded")
	}
}
