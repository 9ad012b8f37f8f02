package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/titular/titular/seed"
)

// TestAccessReasonREST: the gateway carries X-Access-Reason to the
// service, a tenant requiring one refuses a staff read without it, and the
// DPO lists the access log over REST.
func TestAccessReasonREST(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, 20, withAccessReasonRequired)
	buyer := e.scenarios[seed.ScenarioBuyer2023]
	c := e.createREST(t, keyBackend, map[string]any{"kind": "CONFIRM", "subject": map[string]any{"cpf": buyer.CPF}})
	if c.Status != "COMPLETED" {
		t.Fatalf("CONFIRM: %+v", c)
	}
	get := func(path, key string, header map[string]string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest("GET", e.baseURL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}
	receipt := "/v1/tenants/demo/requests/" + c.ID + "/receipt"
	code, b := get(receipt, keyAuditor, nil)
	if r := decode[restError](t, b).reason(); code != http.StatusBadRequest || r != "ACCESS_REASON_REQUIRED" || !strings.Contains(string(b), "X-Access-Reason") {
		t.Fatalf("receipt without a reason: HTTP %d %s", code, b)
	}
	code, b = get(receipt, keyAuditor, map[string]string{"X-Access-Reason": "auditoria anual %E2%80%94 ANPD", "X-Request-Id": "audit-2026-1"})
	if code != http.StatusOK {
		t.Fatalf("receipt with a reason: HTTP %d %s", code, b)
	}
	code, _ = get("/v1/tenants/demo/access-log", keyBackend, nil)
	if code != http.StatusForbidden {
		t.Errorf("the backend listing the access log: HTTP %d, want 403", code)
	}
	code, b = get("/v1/tenants/demo/access-log?request_id="+c.ID+"&page_size=10", keyDPO, nil)
	if code != http.StatusOK {
		t.Fatalf("access log: HTTP %d %s", code, b)
	}
	type entry struct {
		Actor, Role, Action, Reason string
		RequestID                   string `json:"request_id"`
		CallRequestID               string `json:"call_request_id"`
	}
	got := decode[struct {
		Entries []entry `json:"entries"`
	}](t, b)
	want := entry{Actor: "auditor", Role: "auditor", Action: "receipt.read", Reason: "auditoria anual — ANPD", RequestID: c.ID, CallRequestID: "audit-2026-1"}
	if len(got.Entries) != 1 || got.Entries[0] != want {
		t.Errorf("access log %s\nwant one entry %+v", b, want)
	}
}

// withAccessReasonRequired makes the demo tenant record why staff read
// exports, receipts, ledger entries and consent evidence.
func withAccessReasonRequired(y string) string {
	return strings.Replace(y, `name: "Incorporadora Teste Ltda",`, `name: "Incorporadora Teste Ltda", policy: {access_reason_required: true},`, 1)
}
