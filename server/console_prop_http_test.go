package server

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/seed"
)

// propFailedCount is how many of the demo tenant's deliveries are FAILED,
// through the API.
func propFailedCount(t *testing.T, env *testEnv) int {
	t.Helper()
	_, _, b := env.rest(t, "GET", "/v1/tenants/demo/deliveries?state=DELIVERY_FAILED", keyDPO, nil)
	return len(decode[struct {
		Deliveries []struct{} `json:"deliveries"`
	}](t, b).Deliveries)
}

var propTitle = regexp.MustCompile(`<title>([^<]*)</title>`)

// TestConsolePropagationHTTP checks the propagation and consent pages over
// plain HTTP: their POSTs need the CSRF token; the auditor sees no requeue
// button and is refused a requeue, as by the API; another tenant's DPO gets
// 404; a CPF posted to the history form reaches neither a Location header,
// the page title nor the log; bad input is answered in pt-BR; pages are fast.
func TestConsolePropagationHTTP(t *testing.T) {
	env, _, lead, eventID := propFailedDelivery(t)
	base := env.baseURL + "/console/t/demo"
	dpo, dpoToken := consoleSignIn(t, env, keyDPO)

	code, _, body := consoleGet(t, dpo, base+"/propagacao")
	if code != http.StatusOK || !strings.Contains(body, `data-requeue="`+eventID+`"`) || !strings.Contains(body, `data-requeue-all="crm"`) {
		t.Fatalf("DPO's propagation page: %d, requeue buttons present: %v", code, strings.Contains(body, "data-requeue"))
	}
	if strings.Contains(body, "/lgpd") {
		t.Error("the page shows the endpoint's URL path; only its host is shown")
	}

	// No token, or a forged one: refused before anything is requeued.
	requeue := url.Values{"endpoint": {"crm"}, "event": {eventID}}
	for _, tok := range []string{"", "forjado"} {
		form := url.Values{"endpoint": requeue["endpoint"], "event": requeue["event"]}
		if tok != "" {
			form.Set("csrf", tok)
		}
		if code, _, body := consolePost(t, dpo, base+"/propagacao/reenviar", form); code != http.StatusForbidden || !strings.Contains(body, "CSRF") {
			t.Errorf("requeue with csrf %q: %d, want 403 naming CSRF", tok, code)
		}
		if code, _, _ := consolePost(t, dpo, base+"/consentimento/historico", url.Values{"cpf": {lead.CPF}, "csrf": {tok}}); code != http.StatusForbidden {
			t.Errorf("history with csrf %q: %d, want 403", tok, code)
		}
	}
	if n := propFailedCount(t, env); n != 1 {
		t.Fatalf("%d failed deliveries after refused requeues, want 1 untouched", n)
	}

	// The auditor: no button, and the API's answer to a requeue.
	aud, audToken := consoleSignIn(t, env, keyAuditor)
	code, _, body = consoleGet(t, aud, base+"/propagacao")
	if code != http.StatusForbidden || strings.Contains(body, "data-requeue") || strings.Contains(body, "/propagacao/reenviar") ||
		!strings.Contains(body, "auditor") || !strings.Contains(body, `role="alert"`) {
		t.Fatalf("auditor's propagation page: %d; want 403 saying why, with no requeue form", code)
	}
	requeue.Set("csrf", audToken)
	if code, _, body := consolePost(t, aud, base+"/propagacao/reenviar", requeue); code != http.StatusForbidden || !strings.Contains(body, "dpo") {
		t.Fatalf("auditor's requeue: %d, want 403", code)
	}
	if n := propFailedCount(t, env); n != 1 {
		t.Fatalf("%d failed deliveries after the auditor's requeue, want 1 untouched", n)
	}
	code, _, body = consoleGet(t, aud, base+"/consentimento")
	if code != http.StatusOK || !strings.Contains(body, `data-purpose="partner_sharing"`) || strings.Contains(body, "consentimento/historico") ||
		!strings.Contains(body, `id="search-refused"`) || !strings.Contains(body, `id="counts-refused"`) {
		t.Fatalf("auditor's consent page: %d; want the purposes, without the history form nor counts", code)
	}
	if code, _, _ := consolePost(t, aud, base+"/consentimento/historico", url.Values{"cpf": {lead.CPF}, "csrf": {audToken}}); code != http.StatusForbidden {
		t.Fatalf("auditor's history search: %d, want 403", code)
	}

	// The other tenant's DPO: the demo tenant's pages do not exist.
	other, otherToken := consoleSignIn(t, env, keyOther)
	for _, p := range []string{"/propagacao", "/consentimento"} {
		if code, _, body := consoleGet(t, other, base+p); code != http.StatusNotFound || strings.Contains(body, eventID) || strings.Contains(body, "partner_sharing") {
			t.Errorf("other DPO GET %s: %d, want 404 showing nothing", p, code)
		}
	}
	for p, form := range map[string]url.Values{"/propagacao/reenviar": {"endpoint": {"crm"}, "csrf": {otherToken}},
		"/consentimento/historico": {"cpf": {lead.CPF}, "csrf": {otherToken}}} {
		if code, _, body := consolePost(t, other, base+p, form); code != http.StatusNotFound || strings.Contains(body, "partner_sharing") {
			t.Errorf("other DPO POST %s: %d, want 404", p, code)
		}
	}
	if n := propFailedCount(t, env); n != 1 {
		t.Fatalf("%d failed deliveries after the other tenant's requeue, want 1 untouched", n)
	}

	// Bad input, in pt-BR with how to fix it.
	for _, c := range []struct {
		path string
		form url.Values
		code int
		want string
	}{
		{"/consentimento/historico", url.Values{"cpf": {"  "}}, http.StatusBadRequest, "Informe o CPF, o e-mail ou o telefone"},
		{"/consentimento/historico", url.Values{"cpf": {"123.456.789-00"}}, http.StatusBadRequest, "confira o CPF"},
		{"/propagacao/reenviar", url.Values{"endpoint": {"nao-existe"}}, http.StatusNotFound, "não está na configuração"},
		{"/propagacao/reenviar", url.Values{"endpoint": {"crm"}, "event": {"nao-e-um-id"}}, http.StatusBadRequest, "recarregue a página"},
		{"/propagacao/reenviar", url.Values{}, http.StatusBadRequest, "recarregue a página"},
	} {
		c.form.Set("csrf", dpoToken)
		code, _, body := consolePost(t, dpo, base+c.path, c.form)
		if code != c.code || !strings.Contains(body, c.want) || !strings.Contains(body, `role="alert"`) {
			t.Errorf("POST %s %v: %d; want %d saying %q", c.path, c.form, code, c.code, c.want)
		}
	}
	if code, _, body := consoleGet(t, dpo, base+"/propagacao?page=%21%21"); code != http.StatusBadRequest || !strings.Contains(body, "primeira página") {
		t.Errorf("bad page token: %d", code)
	}

	// A titular's history by CPF: the page answers in place, the CPF in
	// neither a Location, the title nor the log.
	for _, shape := range []string{lead.CPF, brdoc.CPFShapes(lead.CPF)[len(brdoc.CPFShapes(lead.CPF))-1]} {
		start := time.Now()
		code, loc, body := consolePost(t, dpo, base+"/consentimento/historico", url.Values{"cpf": {shape}, "csrf": {dpoToken}})
		took := time.Since(start)
		title := propTitle.FindStringSubmatch(body)
		if code != http.StatusOK || loc != "" || title == nil || !strings.Contains(body, `table class="consent-history" data-purpose="partner_sharing"`) {
			t.Fatalf("history by CPF %q: %d Location %q; want 200 in place with the partner_sharing history", shape, code, loc)
		}
		for _, n := range brdoc.CPFShapes(lead.CPF) {
			if strings.Contains(title[1], n) || strings.Contains(loc, n) {
				t.Errorf("the CPF reached the title %q or Location %q", title[1], loc)
			}
			if strings.Contains(body, n) {
				t.Error("the history page echoes the CPF typed")
			}
		}
		if took > 300*time.Millisecond {
			t.Errorf("history answered in %s, want well under 300 ms", took)
		}
		t.Logf("history by CPF: %s", took)
	}

	// The DPO requeues every failed delivery of the endpoint: 303 back
	// with how many.
	start := time.Now()
	code, _, _ = consoleGet(t, dpo, base+"/propagacao")
	t.Logf("propagation page: %s", time.Since(start))
	start = time.Now()
	code2, _, _ := consoleGet(t, dpo, base+"/consentimento")
	t.Logf("consent page: %s", time.Since(start))
	if code != http.StatusOK || code2 != http.StatusOK {
		t.Fatalf("pages: %d %d", code, code2)
	}
	code, loc, _ := consolePost(t, dpo, base+"/propagacao/reenviar", url.Values{"endpoint": {"crm"}, "csrf": {dpoToken}})
	if code != http.StatusSeeOther || loc != "/console/t/demo/propagacao?reenviadas=1" {
		t.Fatalf("requeue all of crm: %d %s", code, loc)
	}
	if _, _, body := consoleGet(t, dpo, env.baseURL+loc); !strings.Contains(body, "1 entrega(s) voltaram para a fila") {
		t.Error("the page after requeue does not say how many were requeued")
	}
	if n := propFailedCount(t, env); n != 0 {
		t.Errorf("%d failed deliveries after the DPO's requeue, want 0", n)
	}
	assertNoPersonalData(t, env.logs.String(), []seed.Scenario{lead})
}
