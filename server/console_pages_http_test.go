package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/brdoc"
)

var pagesTitle = regexp.MustCompile(`<title>([^<]*)</title>`)

// pagesStatus is the request's status as the API answers it.
func pagesStatus(t *testing.T, env *testEnv, id string) string {
	t.Helper()
	code, _, b := env.rest(t, "GET", "/v1/tenants/demo/requests/"+id, keyDPO, nil)
	if code != http.StatusOK {
		t.Fatalf("get %s: %d %s", id, code, b)
	}
	return decode[restRequest](t, b).Status
}

// TestConsolePagesHTTP checks the request and titular pages over plain
// HTTP: every new POST is refused without the CSRF token; an auditor sees
// no action and a POSTed action is refused by the API's rules (403); a DPO
// of another tenant gets 404 for the demo's request and finds no one by
// the demo titular's CPF; bad input is a 400 with a pt-BR message; the
// CPF never reaches a Location header or a page title.
func TestConsolePagesHTTP(t *testing.T) {
	env := newTestEnv(t, 20, withApproval)
	buyer := env.scenario(t, "comprador_2023")
	held := env.createREST(t, keyBackend, map[string]any{"kind": "DELETE", "subject": map[string]any{"cpf": buyer.CPF}})
	if held.Status != "AWAITING_APPROVAL" {
		t.Fatalf("DELETE under the approval policy is %s", held.Status)
	}
	page := env.baseURL + "/console/t/demo/pedido/" + held.ID
	cpfShapes := brdoc.CPFShapes(buyer.CPF)
	noCPF := func(what, loc, body string) {
		t.Helper()
		title := ""
		if m := pagesTitle.FindStringSubmatch(body); m != nil {
			title = m[1]
		}
		for _, shape := range cpfShapes {
			if strings.Contains(loc, shape) || strings.Contains(title, shape) {
				t.Fatalf("%s: the CPF is in the Location %q or the title %q", what, loc, title)
			}
		}
	}

	dpo, dpoToken := consoleSignIn(t, env, keyDPO)
	code, _, body := consoleGet(t, dpo, page)
	if code != http.StatusOK || !strings.Contains(body, `id="approve"`) || !strings.Contains(body, `id="deny"`) || !strings.Contains(body, `data-status="AWAITING_APPROVAL"`) {
		t.Fatalf("DPO's request page: %d, approve and deny buttons expected", code)
	}
	noCPF("request page", "", body)

	// Every new POST without the token, or with a forged one, is refused
	// and changes nothing.
	posts := map[string]url.Values{
		page + "/aprovar":                       {"note": {"sem token"}},
		page + "/negar":                         {"code": {"OTHER"}, "message": {"sem token"}},
		page + "/verificar":                     {"method": {"gov.br"}, "evidence_ref": {"GED-1"}},
		page + "/cancelar":                      {},
		page + "/exportacao":                    {"format": {"json"}, "access_reason": {"chamado 1"}},
		page + "/recibo":                        {"as": {"show"}, "access_reason": {"chamado 1"}},
		env.baseURL + "/console/t/demo/titular": {"cpf": {buyer.CPF}},
	}
	for u, form := range posts {
		for _, tok := range []string{"", "forjado"} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if tok != "" {
				f.Set("csrf", tok)
			}
			code, loc, body := consolePost(t, dpo, u, f)
			if code != http.StatusForbidden || !strings.Contains(body, "CSRF") {
				t.Fatalf("POST %s with csrf %q: %d, want 403 naming CSRF", u, tok, code)
			}
			noCPF("refused POST", loc, body)
		}
	}
	if st := pagesStatus(t, env, held.ID); st != "AWAITING_APPROVAL" {
		t.Fatalf("a refused form changed the request to %s", st)
	}

	// The auditor sees the page without any action, and an action POSTed
	// anyway is refused by ApproveRequest's rule.
	aud, audToken := consoleSignIn(t, env, keyAuditor)
	code, _, body = consoleGet(t, aud, page)
	if code != http.StatusOK || !strings.Contains(body, `id="actions-auditor"`) {
		t.Fatalf("auditor's request page: %d", code)
	}
	for _, btn := range []string{`id="approve"`, `id="deny"`, `id="verify"`, `id="cancel"`, `/aprovar"`, `/negar"`, `/cancelar"`} {
		if strings.Contains(body, btn) {
			t.Fatalf("the auditor's page offers %s", btn)
		}
	}
	for _, action := range []string{"aprovar", "negar", "cancelar"} {
		code, _, body := consolePost(t, aud, page+"/"+action, url.Values{"csrf": {audToken}, "note": {"auditor"}, "code": {"OTHER"}, "message": {"auditor"}})
		if code != http.StatusForbidden || !strings.Contains(body, `role="alert"`) {
			t.Fatalf("auditor POST %s: %d, want 403 with an alert", action, code)
		}
	}
	if st := pagesStatus(t, env, held.ID); st != "AWAITING_APPROVAL" {
		t.Fatalf("the auditor's POST changed the request to %s", st)
	}

	// The DPO of "other" does not see the demo's request, by its own
	// tenant's path or the demo's, and finds no one by the demo titular's
	// CPF.
	other, otherToken := consoleSignIn(t, env, keyOther)
	for _, u := range []string{page, env.baseURL + "/console/t/other/pedido/" + held.ID, env.baseURL + "/console/t/other/pedido/nao-e-um-id"} {
		if code, _, body := consoleGet(t, other, u); code != http.StatusNotFound || strings.Contains(body, "data-status") {
			t.Fatalf("other DPO GET %s: %d, want 404", u, code)
		}
	}
	if code, _, _ := consolePost(t, other, env.baseURL+"/console/t/other/pedido/"+held.ID+"/aprovar", url.Values{"csrf": {otherToken}}); code != http.StatusNotFound {
		t.Fatalf("other DPO approving the demo's request through its tenant: %d, want 404", code)
	}
	code, loc, body := consolePost(t, other, env.baseURL+"/console/t/other/titular", url.Values{"csrf": {otherToken}, "cpf": {buyer.CPF}})
	if code != http.StatusOK || !strings.Contains(body, `id="titular-requests-none"`) || strings.Contains(body, held.ID) {
		t.Fatalf("other DPO's titular search: %d, want nothing found", code)
	}
	noCPF("other's titular search", loc, body)
	if code, _, _ := consolePost(t, other, env.baseURL+"/console/t/demo/titular", url.Values{"csrf": {otherToken}, "cpf": {buyer.CPF}}); code != http.StatusNotFound {
		t.Fatalf("other DPO's search in the demo tenant: %d, want 404", code)
	}
	if st := pagesStatus(t, env, held.ID); st != "AWAITING_APPROVAL" {
		t.Fatalf("the other DPO changed the request to %s", st)
	}

	// The DPO finds the titular by CPF, in any shape; a CPF with a wrong
	// check digit is a 400 saying what to fix.
	for _, shape := range cpfShapes {
		start := time.Now()
		code, loc, body := consolePost(t, dpo, env.baseURL+"/console/t/demo/titular", url.Values{"csrf": {dpoToken}, "cpf": {shape}})
		if code != http.StatusOK || !strings.Contains(body, `data-id="`+held.ID+`"`) {
			t.Fatalf("titular search by %d-char CPF: %d, the held DELETE not listed", len(shape), code)
		}
		noCPF("titular search", loc, body)
		t.Logf("titular search answered in %s", time.Since(start))
	}
	bad := buyer.CPF[:10] + string('0'+(buyer.CPF[10]-'0'+1)%10)
	code, loc, body = consolePost(t, dpo, env.baseURL+"/console/t/demo/titular", url.Values{"csrf": {dpoToken}, "cpf": {bad}})
	if code != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "verificadores") {
		t.Fatalf("bad CPF: %d, want 400 explaining the check digits", code)
	}
	noCPF("bad CPF", loc, body)
	if code, _, body := consolePost(t, dpo, env.baseURL+"/console/t/demo/titular", url.Values{"csrf": {dpoToken}}); code != http.StatusBadRequest || !strings.Contains(body, "ao menos um identificador") {
		t.Fatalf("empty search: %d", code)
	}
	if code, _, _ := consoleGet(t, dpo, env.baseURL+"/console/t/demo/titular?cpf="+buyer.CPF); code != http.StatusOK {
		t.Fatalf("titular form: %d", code)
	}

	// A denial without a message is refused with the reason (Art. 18 §4);
	// a download before completion says why; an approval goes through
	// (303 back to the page), and a second one conflicts with the state.
	code, _, body = consolePost(t, dpo, page+"/negar", url.Values{"csrf": {dpoToken}, "code": {"OTHER"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "Art. 18 §4") {
		t.Fatalf("denial without a message: %d", code)
	}
	code, _, body = consolePost(t, dpo, page+"/exportacao", url.Values{"csrf": {dpoToken}, "format": {"json"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "Motivo do acesso") {
		t.Fatalf("download without an access reason: %d", code)
	}
	code, _, _ = consolePost(t, dpo, page+"/exportacao", url.Values{"csrf": {dpoToken}, "format": {"json"}, "access_reason": {"chamado 9"}})
	if code != http.StatusConflict {
		t.Fatalf("download of a pending request: %d, want 409", code)
	}
	code, loc, _ = consolePost(t, dpo, page+"/aprovar", url.Values{"csrf": {dpoToken}, "note": {"identidade conferida no chamado GED-7"}})
	if code != http.StatusSeeOther || loc != "/console/t/demo/pedido/"+held.ID+"?ok=aprovar" {
		t.Fatalf("approve: %d %s", code, loc)
	}
	if code, _, body := consolePost(t, dpo, page+"/aprovar", url.Values{"csrf": {dpoToken}}); code != http.StatusConflict || !strings.Contains(body, `role="alert"`) {
		t.Fatalf("second approval: %d, want 409 with an alert", code)
	}
	// The receipt downloads as JSON, with the reason given.
	resp, err := dpo.PostForm(page+"/recibo", url.Values{"csrf": {dpoToken}, "as": {"download"}, "access_reason": {"chamado GED-7"}})
	if err != nil {
		t.Fatal(err)
	}
	rc := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&rc); err != nil || resp.StatusCode != http.StatusOK ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") || rc["request_id"] != held.ID {
		t.Fatalf("receipt download: %d %q, request_id %v, %v", resp.StatusCode, resp.Header.Get("Content-Disposition"), rc["request_id"], err)
	}
	resp.Body.Close()

	// Another held DELETE, canceled.
	second := env.createREST(t, keyBackend, map[string]any{"kind": "DELETE", "subject": map[string]any{"cpf": buyer.CPF}, "idempotency_key": "cancelar"})
	if code, loc, _ := consolePost(t, dpo, env.baseURL+"/console/t/demo/pedido/"+second.ID+"/cancelar", url.Values{"csrf": {dpoToken}, "note": {"pedido em duplicidade"}}); code != http.StatusSeeOther ||
		loc != "/console/t/demo/pedido/"+second.ID+"?ok=cancelar" || pagesStatus(t, env, second.ID) != "CANCELED" {
		t.Fatalf("cancel: %d %s", code, loc)
	}

	start := time.Now()
	code, _, body = consoleGet(t, dpo, page+"?ok=aprovar")
	t.Logf("request page answered in %s", time.Since(start))
	if code != http.StatusOK || !strings.Contains(body, "identidade conferida no chamado GED-7") || !strings.Contains(body, "Pedido aprovado") {
		t.Fatalf("page after approval: %d, the note or the success message missing", code)
	}
}
