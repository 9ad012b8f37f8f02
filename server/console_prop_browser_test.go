package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/titular/titular/seed"
)

// propFailedDelivery sets up the demo tenant with a webhook endpoint "crm"
// that is down (500) and gives up after two attempts; a titular grants and
// then revokes partner_sharing, so one consent.revoked delivery fails for
// good. It returns the receiver, the titular and the failed event's id.
func propFailedDelivery(t *testing.T) (*testEnv, *receiver, seed.Scenario, string) {
	t.Helper()
	rc := newReceiver(t)
	rc.fail.Store(-1) // down
	withHook := withWebhook(t, rc)
	env := newTestEnv(t, 30, func(y string) string {
		return strings.Replace(withHook(y), "max_attempts: 8", "max_attempts: 2", 1)
	})
	loadDemoPurposes(t, env)
	lead := env.scenario(t, "lead_somente_consentimento")
	env.createREST(t, keyBackend, consentBody(map[string]any{"cpf": lead.CPF}, "partner_sharing", "GRANT", "1", ""))
	env.revoke(t, lead.CPF, "partner_sharing")
	type listed struct {
		Deliveries []struct {
			EventID string `json:"event_id"`
		} `json:"deliveries"`
	}
	var failed listed
	waitFor(t, "the delivery to be given up", func() bool {
		_, _, b := env.rest(t, "GET", "/v1/tenants/demo/deliveries?state=DELIVERY_FAILED", keyDPO, nil)
		failed = decode[listed](t, b)
		return len(failed.Deliveries) == 1
	})
	return env, rc, lead, failed.Deliveries[0].EventID
}

// TestConsolePropagationInChromium: a DPO sees a delivery that failed
// under its endpoint, requeues it once the endpoint is back, and sees it
// delivered; the consent page shows the purposes with their counts and a
// titular's history found by CPF, typed into a form (never in the URL).
func TestConsolePropagationInChromium(t *testing.T) {
	env, rc, lead, eventID := propFailedDelivery(t)
	// Another titular's grant, so the counts differ per action.
	other := env.scenario(t, "lead_com_pessoa_sem_venda")
	env.createREST(t, keyBackend, consentBody(map[string]any{"cpf": other.CPF}, "partner_sharing", "GRANT", "1", ""))
	shots := screenshots(t)
	ctx := browser(t)

	step(ctx, t, "sign in", chromedp.Navigate(env.baseURL+"/console/entrar"), chromedp.WaitVisible(chromedp.ID("api_key")),
		chromedp.SendKeys(chromedp.ID("api_key"), keyDPO), chromedp.Click(chromedp.ID("signin-submit")), chromedp.WaitVisible(chromedp.CSS(`a[href="/console/t/demo/propagacao"]`)))
	step(ctx, t, "open Propagação", chromedp.Click(chromedp.CSS(`a[href="/console/t/demo/propagacao"]`)), chromedp.WaitVisible(chromedp.ID("prop-title")))
	if cur := value(ctx, t, "current", chromedp.Text(chromedp.CSS(`a[aria-current="page"]`))); cur != "Propagação" {
		t.Fatalf("current nav entry %q", cur)
	}
	crm := `section[data-endpoint="crm"] `
	count := func(what string) string {
		return value(ctx, t, what, chromedp.Text(chromedp.CSS(crm+`[data-count="`+what+`"]`)))
	}
	if f, d := count("failed"), count("delivered"); f != "1" || d != "0" {
		t.Fatalf("crm counts: %s failed, %s delivered; want 1 and 0", f, d)
	}
	row := value(ctx, t, "failed row", chromedp.Text(chromedp.CSS(crm+`tr.FAILED[data-event="`+eventID+`"]`)))
	for _, want := range []string{"Consentimento revogado", "Falhou", "500", "nenhum (só a referência)"} {
		if !strings.Contains(row, want) {
			t.Errorf("failed row %q lacks %q", row, want)
		}
	}
	if host := value(ctx, t, "host", chromedp.Text(chromedp.CSS(crm+`dd code`))); !strings.HasPrefix(host, "127.0.0.1:") {
		t.Errorf("endpoint host %q, want the receiver's host:port", host)
	}
	screenshot(ctx, t, shots, "propagation-failed.png")

	// The endpoint is back; the DPO requeues the one delivery.
	rc.fail.Store(0)
	before := len(rc.got())
	step(ctx, t, "requeue", chromedp.Click(chromedp.CSS(`button[data-requeue="`+eventID+`"]`)), chromedp.WaitVisible(chromedp.ID("prop-message")))
	if msg := value(ctx, t, "message", chromedp.Text(chromedp.ID("prop-message"))); !strings.HasPrefix(msg, "1 entrega") {
		t.Fatalf("after requeue: %q, want how many were requeued", msg)
	}
	waitFor(t, "the requeued delivery to arrive", func() bool {
		hs := rc.got()
		return len(hs) > before && hs[len(hs)-1].status == http.StatusOK
	})
	if last := rc.got()[len(rc.got())-1]; last.id != eventID || !last.signed || last.attempt != "1" {
		t.Fatalf("receiver got event %s attempt %s signed %v; want %s, attempt 1 (restarted), signed", last.id, last.attempt, last.signed, eventID)
	}
	waitFor(t, "the page to show it delivered", func() bool {
		step(ctx, t, "reload", chromedp.Navigate(env.baseURL+"/console/t/demo/propagacao"), chromedp.WaitVisible(chromedp.ID("prop-title")))
		return count("delivered") == "1"
	})
	if f := count("failed"); f != "0" {
		t.Fatalf("after delivery: %s failed, want 0", f)
	}
	if n := value(ctx, t, "delivered row", chromedp.Evaluate[int](`document.querySelectorAll('section[data-endpoint="crm"] table.done tr[data-event="`+eventID+`"]').length`)); n != 1 {
		t.Fatalf("delivered rows for the event: %d, want 1", n)
	}
	screenshot(ctx, t, shots, "propagation.png")

	// Consent: the purposes with their terms and counts.
	step(ctx, t, "open Consentimento", chromedp.Click(chromedp.CSS(`a[href="/console/t/demo/consentimento"]`)), chromedp.WaitVisible(chromedp.ID("consent-title")))
	purposes := value(ctx, t, "purposes", chromedp.Evaluate[[]string](`[...document.querySelectorAll('section.purpose')].map(s => s.dataset.purpose)`))
	if len(purposes) != 5 {
		t.Fatalf("purposes %v, want the 5 of the example catalog", purposes)
	}
	for sel, want := range map[string]string{`[data-count="partner_sharing.GRANT"]`: "1", `[data-count="partner_sharing.REVOKE"]`: "1",
		`[data-count="partner_sharing.REFUSE"]`: "0", `[data-version="partner_sharing"]`: "1"} {
		if got := value(ctx, t, sel, chromedp.Text(chromedp.CSS(sel))); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	screenshot(ctx, t, shots, "consent.png")
	// A titular's history, by CPF typed into the form (the lookup page
	// leaves the counts out, which read every consent record).
	step(ctx, t, "search by CPF", chromedp.SendKeys(chromedp.ID("c-cpf"), lead.CPF), chromedp.Click(chromedp.ID("consent-search")),
		chromedp.WaitVisible(chromedp.ID("history")))
	actions := value(ctx, t, "history", chromedp.Evaluate[[]string](`[...document.querySelectorAll('table[data-purpose="partner_sharing"] tbody tr')].map(r => r.dataset.action)`))
	if len(actions) != 2 || actions[0] != "GRANT" || actions[1] != "REVOKE" {
		t.Fatalf("partner_sharing history %v, want GRANT then REVOKE", actions)
	}
	if cur := value(ctx, t, "current", chromedp.Text(chromedp.CSS(`[data-current="partner_sharing"]`))); cur != "Revogou" {
		t.Errorf("current status %q, want Revogou", cur)
	}
	loc := value(ctx, t, "location", chromedp.Location())
	title := value(ctx, t, "title", chromedp.Title())
	if !strings.HasSuffix(loc, "/console/t/demo/consentimento/historico") || strings.Contains(loc+title, lead.CPF) {
		t.Fatalf("history at %s titled %q; want the form's address, no CPF", loc, title)
	}
	if n := value(ctx, t, "counts link", chromedp.Evaluate[int](`document.querySelectorAll('#counts-link').length`)); n != 1 {
		t.Errorf("the lookup page has %d links to the counts, want 1", n)
	}
	screenshot(ctx, t, shots, "consent-history.png")
	assertNoPersonalData(t, env.logs.String(), []seed.Scenario{lead, other})
}
