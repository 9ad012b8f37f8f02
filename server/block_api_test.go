package server

import (
	"net/http"
	"testing"
)

// restBlock is the part of a BLOCK request's JSON this test reads.
type restBlock struct {
	ID              string `json:"id"`
	Status          string `json:"status"`
	LinkedRequestID string `json:"linked_request_id"`
	Result          *struct {
		Block *struct {
			TotalRows string `json:"total_rows"` // int64: a JSON string
			LiftedAt  string `json:"lifted_at"`
		} `json:"block"`
	} `json:"result"`
}

// TestRESTBlockAndLift: over REST, the backend records a BLOCK, the workers
// complete it, subject.blocked is in the outbox, and only the DPO lifts it
// (POST …:lift with a reason); a reused idempotency key for another body is
// 409 IDEMPOTENCY_KEY_REUSED.
func TestRESTBlockAndLift(t *testing.T) {
	env := newTestEnv(t, 50)
	s := env.scenario(t, "lead_com_pessoa_sem_venda")
	body := map[string]any{"kind": "BLOCK", "subject": map[string]any{"cpf": s.CPF}, "idempotency_key": "crm-block-1"}
	b := env.createREST(t, keyBackend, body)
	if b.Kind != "BLOCK" {
		t.Fatalf("created %+v", b)
	}
	if done := env.waitREST(t, b.ID); done.Status != "COMPLETED" {
		t.Fatalf("BLOCK ended %s", done.Status)
	}
	code, _, raw := env.rest(t, "GET", "/v1/tenants/demo/requests/"+b.ID, keyDPO, nil)
	got := decode[restBlock](t, raw)
	if code != http.StatusOK || got.Result == nil || got.Result.Block == nil || got.Result.Block.TotalRows == "" || got.Result.Block.TotalRows == "0" {
		t.Fatalf("GET the BLOCK: HTTP %d: %s", code, raw)
	}
	var events int
	if err := env.demoDB(t).QueryRow("SELECT COUNT(*) FROM lgpd_outbox WHERE request_id = ? AND type = 'subject.blocked'", b.ID).Scan(&events); err != nil || events != 1 {
		t.Errorf("subject.blocked in the outbox: %d, %v", events, err)
	}

	// The same key for another body.
	code, _, raw = env.rest(t, "POST", "/v1/tenants/demo/requests", keyBackend,
		map[string]any{"kind": "DELETE", "subject": map[string]any{"cpf": s.CPF}, "idempotency_key": "crm-block-1"})
	if e := decode[restError](t, raw); code != http.StatusConflict || e.reason() != "IDEMPOTENCY_KEY_REUSED" {
		t.Errorf("reused key: HTTP %d: %s; want 409 IDEMPOTENCY_KEY_REUSED", code, raw)
	}

	lift := "/v1/tenants/demo/requests/" + b.ID + ":lift"
	for _, c := range []struct {
		key    string
		body   map[string]any
		code   int
		reason string
	}{
		{keyBackend, map[string]any{"reason": "pedido do titular"}, http.StatusForbidden, "ROLE_NOT_ALLOWED"},
		{keyAuditor, map[string]any{"reason": "pedido do titular"}, http.StatusForbidden, "ROLE_NOT_ALLOWED"},
		{keyDPO, map[string]any{}, http.StatusBadRequest, "REASON_REQUIRED"},
	} {
		code, _, raw := env.rest(t, "POST", lift, c.key, c.body)
		if e := decode[restError](t, raw); code != c.code || e.reason() != c.reason {
			t.Errorf("lift: HTTP %d: %s; want %d %s", code, raw, c.code, c.reason)
		}
	}
	code, _, raw = env.rest(t, "POST", lift, keyDPO, map[string]any{"reason": "titular pediu o desbloqueio, chamado GED-12"})
	lifted := decode[restBlock](t, raw)
	if code != http.StatusOK || lifted.Result == nil || lifted.Result.Block == nil || lifted.Result.Block.LiftedAt == "" {
		t.Fatalf("lift as the DPO: HTTP %d: %s", code, raw)
	}
	if err := env.demoDB(t).QueryRow("SELECT COUNT(*) FROM lgpd_outbox WHERE request_id = ? AND type = 'subject.unblocked'", b.ID).Scan(&events); err != nil || events != 1 {
		t.Errorf("subject.unblocked in the outbox: %d, %v", events, err)
	}
	if code, _, raw := env.rest(t, "POST", lift, keyDPO, map[string]any{"reason": "de novo"}); code != http.StatusBadRequest {
		t.Errorf("second lift: HTTP %d: %s; want 400 (FAILED_PRECONDITION)", code, raw)
	}
}
