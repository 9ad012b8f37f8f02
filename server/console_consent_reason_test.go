package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsoleConsentHistoryNeedsReason: on a tenant that records why staff
// read consent evidence, the consent page's lookup asks for the reason,
// as the titular's page does, and passes it to the service.
func TestConsoleConsentHistoryNeedsReason(t *testing.T) {
	env := newTestEnv(t, 20, withAccessReasonRequired)
	loadDemoPurposes(t, env)
	lead := env.scenario(t, "lead_somente_consentimento")
	dpo, token := consoleSignIn(t, env, keyDPO)
	u := env.baseURL + "/console/t/demo/consentimento/historico"
	code, _, body := consolePost(t, dpo, u, url.Values{"csrf": {token}, "email": {lead.Email}})
	if code != http.StatusBadRequest || !strings.Contains(body, "Motivo do acesso (ex.: número do chamado)") {
		t.Fatalf("a lookup without the reason the tenant requires: %d", code)
	}
	if code, _, _ := consolePost(t, dpo, u, url.Values{"csrf": {token}, "email": {lead.Email}, "access_reason": {"chamado 42"}}); code != http.StatusOK {
		t.Fatalf("a lookup with the reason: %d", code)
	}
}
