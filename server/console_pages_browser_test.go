package server

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// pagesWaitFile waits for a finished download in dir.
func pagesWaitFile(t *testing.T, path string) []byte {
	t.Helper()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		if b, err := os.ReadFile(path); err == nil {
			if _, err := os.Stat(path + ".crdownload"); os.IsNotExist(err) {
				return b
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("download %s did not arrive", filepath.Base(path))
	return nil
}

// pagesShown is the status the request page shows.
func pagesShown(ctx context.Context, t *testing.T) string {
	t.Helper()
	step(ctx, t, "page loaded", chromedp.WaitReady(chromedp.ID("request-status")))
	return value(ctx, t, "status", chromedp.Evaluate[string](`document.getElementById('request-status').dataset.status`))
}

// TestConsolePagesInChromium drives the request and titular pages in real
// Chromium as the DPO: from the queue to a held DELETE, approved with a
// note (the timeline shows it, the result its retention holds); another
// held DELETE denied with a reason; an EXTRACT's export downloaded with an
// access reason, byte-equal to DownloadExport over REST and recorded with
// its reason; the titular found by CPF with both DELETEs.
func TestConsolePagesInChromium(t *testing.T) {
	env := newTestEnv(t, 40, withApproval)
	buyer := env.scenario(t, "comprador_2023")
	prospect := env.scenario(t, "lead_com_pessoa_sem_venda")
	approveID := env.createREST(t, keyBackend, map[string]any{"kind": "DELETE", "subject": map[string]any{"cpf": buyer.CPF}}).ID
	denyID := env.createREST(t, keyBackend, map[string]any{"kind": "DELETE", "subject": map[string]any{"cpf": buyer.CPF}, "idempotency_key": "segundo"}).ID
	// The buyer granted, then revoked, e-mail offers.
	loadDemoPurposes(t, env)
	for _, action := range []string{"GRANT", "REVOKE"} {
		if code, _, b := env.rest(t, "POST", "/v1/tenants/demo/requests", keyBackend, consentBody(map[string]any{"cpf": buyer.CPF}, "marketing_email", action, "1", "")); code != http.StatusOK {
			t.Fatalf("%s: %d %s", action, code, b)
		}
	}
	ext := env.waitREST(t, env.createREST(t, keyBackend, map[string]any{"kind": "EXTRACT", "subject": map[string]any{"cpf": prospect.CPF}}).ID)
	if ext.Status != "COMPLETED" {
		t.Fatalf("EXTRACT ended %s", ext.Status)
	}
	shots := screenshots(t)
	downloads := t.TempDir()
	ctx := browser(t)
	step(ctx, t, "downloads", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
		return err
	}))
	step(ctx, t, "sign-in page", chromedp.Navigate(env.baseURL+"/console/entrar"), chromedp.WaitVisible(chromedp.ID("api_key")))
	step(ctx, t, "DPO sign-in", chromedp.SendKeys(chromedp.ID("api_key"), keyDPO), chromedp.Click(chromedp.ID("signin-submit")), chromedp.WaitVisible(chromedp.ID("queue")))

	// The titular, by CPF typed into the form: both DELETEs, and a title
	// and address without the CPF.
	step(ctx, t, "titular form", chromedp.Click(chromedp.CSS(`a[href="/console/t/demo/titular"]`)), chromedp.WaitVisible(chromedp.ID("t-cpf")))
	step(ctx, t, "titular search", chromedp.SendKeys(chromedp.ID("t-cpf"), buyer.CPF), chromedp.Click(chromedp.ID("titular-search")),
		chromedp.WaitVisible(chromedp.ID("titular-requests")))
	ids := value(ctx, t, "titular's requests", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#titular-requests tbody tr')].map(r => r.dataset.id)`))
	if len(ids) != 4 || !slices.Contains(ids, approveID) || !slices.Contains(ids, denyID) {
		t.Fatalf("titular's requests %v, want both DELETEs (%s, %s) and the two CONSENTs", ids, approveID, denyID)
	}
	consents := value(ctx, t, "consents", chromedp.Text(chromedp.CSS("table.consent-history")))
	if cur := value(ctx, t, "current", chromedp.Text(chromedp.ID("purpose-marketing_email"))); !strings.Contains(cur, "Revogado") ||
		!strings.Contains(consents, "Concedido") || !strings.Contains(consents, "Revogado") {
		t.Fatalf("consents: %q, history %q; want marketing_email revoked after a grant", cur, consents)
	}
	title := value(ctx, t, "title", chromedp.Title())
	loc := value(ctx, t, "location", chromedp.Location())
	for _, shape := range []string{buyer.CPF, buyer.Email} {
		if strings.Contains(title, shape) || strings.Contains(loc, shape) {
			t.Fatalf("the titular page's title %q or address %q holds an identifier", title, loc)
		}
	}
	screenshot(ctx, t, shots, "titular.png")

	// From the queue to the first held DELETE: approved with a note.
	step(ctx, t, "queue", chromedp.Click(chromedp.CSS(`a[href="/console/t/demo/fila"]`)), chromedp.WaitVisible(chromedp.ID("queue")))
	step(ctx, t, "open the held DELETE", chromedp.Click(chromedp.CSS(`a[href="/console/t/demo/pedido/`+approveID+`"]`)), chromedp.WaitVisible(chromedp.ID("approve")))
	if st := pagesShown(ctx, t); st != "AWAITING_APPROVAL" {
		t.Fatalf("held DELETE shows status %s", st)
	}
	step(ctx, t, "approve", chromedp.SendKeys(chromedp.ID("approve-note"), "identidade conferida no chamado GED-7"), chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("request-ok")))
	if st := pagesShown(ctx, t); st == "AWAITING_APPROVAL" {
		t.Fatal("the status did not change after the approval")
	}
	if tl := value(ctx, t, "timeline", chromedp.Text(chromedp.ID("timeline"))); !strings.Contains(tl, "identidade conferida no chamado GED-7") || !strings.Contains(tl, "Aguardando aprovação → Recebido") {
		t.Fatalf("timeline after approval: %q", tl)
	}
	// The workers erase what they may; the buyer's contract rows are held.
	if r := env.waitREST(t, approveID); r.Status != "COMPLETED" {
		t.Fatalf("approved DELETE ended %s", r.Status)
	}
	step(ctx, t, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("result")))
	if st := pagesShown(ctx, t); st != "COMPLETED" {
		t.Fatalf("approved DELETE shows %s", st)
	}
	holds := value(ctx, t, "holds", chromedp.Text(chromedp.ID("holds")))
	if !strings.Contains(holds, "LGPD art. 7º") || !strings.Contains(holds, "/20") {
		t.Fatalf("holds %q: want the legal basis with its article and a release date", holds)
	}
	if n := value(ctx, t, "buttons", chromedp.Evaluate[int](`document.querySelectorAll('#approve, #deny, #cancel').length`)); n != 0 {
		t.Fatalf("a completed request offers %d actions", n)
	}
	screenshot(ctx, t, shots, "request.png")

	// The second held DELETE, denied with a reason.
	step(ctx, t, "open the second DELETE", chromedp.Navigate(env.baseURL+"/console/t/demo/pedido/"+denyID), chromedp.WaitVisible(chromedp.ID("deny")))
	step(ctx, t, "deny", chromedp.SetValue(chromedp.ID("deny-code"), "IDENTITY_NOT_CONFIRMED"),
		chromedp.SendKeys(chromedp.ID("deny-message"), "Não foi possível confirmar sua identidade com os documentos enviados."),
		chromedp.Click(chromedp.ID("deny")), chromedp.WaitVisible(chromedp.ID("request-ok")))
	if st := pagesShown(ctx, t); st != "DENIED" {
		t.Fatalf("denied DELETE shows %s", st)
	}
	if rs := value(ctx, t, "reasons", chromedp.Text(chromedp.ID("reasons"))); !strings.Contains(rs, "IDENTITY_NOT_CONFIRMED") || !strings.Contains(rs, "confirmar sua identidade") {
		t.Fatalf("reasons shown: %q", rs)
	}
	if st := pagesStatus(t, env, denyID); st != "DENIED" {
		t.Fatalf("API says the denied DELETE is %s", st)
	}

	// The EXTRACT's JSON export, downloaded with an access reason.
	step(ctx, t, "open the EXTRACT", chromedp.Navigate(env.baseURL+"/console/t/demo/pedido/"+ext.ID), chromedp.WaitVisible(chromedp.ID("download-json")))
	step(ctx, t, "download", chromedp.SendKeys(chromedp.ID("download-reason"), "chamado GED-42"), chromedp.Click(chromedp.ID("download-json")))
	got := pagesWaitFile(t, filepath.Join(downloads, "titular-"+ext.ID+".json"))
	want, _ := env.download(t, ext, "json")
	if !bytes.Equal(got, want) {
		t.Fatalf("the console's download (%d bytes) differs from DownloadExport over REST (%d bytes)", len(got), len(want))
	}
	code, _, b := env.rest(t, "GET", "/v1/tenants/demo/access-log?request_id="+ext.ID, keyDPO, nil)
	if code != http.StatusOK {
		t.Fatalf("access log: %d %s", code, b)
	}
	accessLog := decode[struct {
		Entries []struct {
			Actor, Action, Reason string
		} `json:"entries"`
	}](t, b)
	found := false
	for _, e := range accessLog.Entries {
		found = found || (e.Action == "export.download" && e.Actor == "dpo" && e.Reason == "chamado GED-42")
	}
	if !found {
		t.Fatalf("the access log has no download by dpo with the reason: %+v", accessLog.Entries)
	}

	// The receipt, shown as JSON with the reason given.
	step(ctx, t, "receipt", chromedp.SendKeys(chromedp.ID("receipt-reason"), "chamado GED-42"), chromedp.Click(chromedp.ID("receipt-show")),
		chromedp.WaitVisible(chromedp.ID("receipt")))
	if rc := value(ctx, t, "receipt", chromedp.Text(chromedp.ID("receipt"))); !strings.Contains(rc, `"request_id": "`+ext.ID+`"`) || !strings.Contains(rc, "inclusion_proof") {
		t.Fatalf("receipt shown: %q", rc)
	}
}
