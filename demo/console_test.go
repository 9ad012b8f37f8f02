package demo_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var demoCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestDemoConsole: every console page answers on the demo's embedded
// engine (go-mysql-server), as `titular demo` serves it, after an EXTRACT
// and a CONSENT: the queries behind the queue, the report, the consent
// counts, the record and a verify run are ones that engine runs too.
func TestDemoConsole(t *testing.T) {
	api, d := startDemoAPI(t)
	cpf := d.Scenarios[0].CPF
	var ext, con demoRequest
	var purpose, term map[string]any
	api.call(t, "POST", "/purposes", map[string]any{"id": "marketing_email", "name": "Ofertas por e-mail", "description": "Ofertas de imóveis por e-mail.",
		"legal_basis": "consentimento", "consent_required": true, "refusal_consequences": "Nenhuma."}, &purpose)
	api.call(t, "POST", "/purposes/marketing_email/terms", map[string]any{"version": "1", "text": "Aceito receber ofertas por e-mail."}, &term)
	api.call(t, "POST", "/requests", map[string]any{"kind": "EXTRACT", "subject": map[string]any{"cpf": cpf}}, &ext)
	api.call(t, "POST", "/requests", map[string]any{"kind": "CONSENT", "subject": map[string]any{"cpf": cpf},
		"consent": map[string]any{"purpose": "marketing_email", "action": "GRANT", "term_version": "1", "evidence": map[string]any{"channel": "portal"}}}, &con)
	waitDone(t, api, ext.ID)
	waitDone(t, api, con.ID)

	root := strings.TrimSuffix(api.base, "/v1/tenants/demo")
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values) (int, string) {
		t.Helper()
		var resp *http.Response
		var err error
		if method == http.MethodPost {
			resp, err = c.PostForm(root+path, form)
		} else {
			resp, err = c.Get(root + path)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, page := do("GET", "/console/entrar", nil)
	csrf := demoCSRF.FindStringSubmatch(page)[1]
	if code, _ := do("POST", "/console/entrar", url.Values{"api_key": {api.key}, "csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("sign-in with the demo's key: %d", code)
	}
	_, page = do("GET", "/console/t/demo/fila", nil)
	csrf = demoCSRF.FindStringSubmatch(page)[1]
	for _, p := range []struct {
		method, path string
		form         url.Values
		want         string
	}{
		{"GET", "/console/t/demo/fila", nil, ext.ID},
		{"GET", "/console/t/demo/pedido/" + ext.ID, nil, "timeline"},
		{"GET", "/console/t/demo/titular", nil, `name="cpf"`},
		{"POST", "/console/t/demo/titular", url.Values{"cpf": {cpf}, "access_reason": {"chamado 7"}}, con.ID},
		{"GET", "/console/t/demo/propagacao", nil, "<h1"},
		{"GET", "/console/t/demo/consentimento", nil, `data-count="marketing_email.GRANT">1<`},
		{"POST", "/console/t/demo/consentimento/historico", url.Values{"cpf": {cpf}}, "marketing_email"},
		{"GET", "/console/t/demo/registro", nil, "ledger-state"},
		{"GET", "/console/t/demo/relatorio", nil, "<svg"},
		{"GET", "/console/t/demo/relatorio.csv", nil, "EXTRACT"},
		{"POST", "/console/t/demo/registro/verificar", url.Values{}, ""},
	} {
		if p.form != nil {
			p.form.Set("csrf", csrf)
		}
		code, body := do(p.method, p.path, p.form)
		if (code != http.StatusOK && code != http.StatusSeeOther) || !strings.Contains(body, p.want) {
			t.Errorf("%s %s on the demo engine: HTTP %d, %q not in the page:\n%.400s", p.method, p.path, code, p.want, body)
		}
	}
	// The verify run started last ends OK on the demo's ledger too.
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		_, body := do("GET", "/console/t/demo/registro", nil)
		if strings.Contains(body, `id="verify-outcome"`) {
			if !strings.Contains(body, `id="verify-result">OK<`) {
				i := strings.Index(body, `id="verify-outcome"`)
				t.Fatalf("the verify run on the demo did not end OK:\n%.600s", body[i:])
			}
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatal("the verify run on the demo did not end in 20 s")
		}
	}
}
