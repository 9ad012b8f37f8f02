package server

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestConsoleByKeyboard uses the console in Chromium with the keyboard
// alone: the first Tab reaches the skip link and Enter moves to the
// content; Tab reaches the API key field, the key is typed and Enter signs
// in; Tab reaches a request in the queue and Enter opens it; Tab reaches
// the nav and Enter opens the report.
func TestConsoleByKeyboard(t *testing.T) {
	env := newTestEnv(t, 20, withApproval)
	lead := env.scenario(t, "lead_somente_consentimento")
	held := env.createREST(t, keyBackend, map[string]any{"kind": "DELETE", "subject": map[string]any{"email": lead.Email}})
	ctx := browser(t)
	focused := func() string {
		return value(ctx, t, "focus", chromedp.Evaluate[string](`(e => e ? (e.id || e.getAttribute('href') || e.className || e.tagName) : '')(document.activeElement)`))
	}
	// tabTo presses Tab until the focused element's id or href matches,
	// failing after 40 presses (the element is unreachable by keyboard).
	tabTo := func(what string, match func(string) bool) {
		t.Helper()
		var seen []string
		for range 40 {
			step(ctx, t, "tab", chromedp.KeyEvent(kb.Tab))
			f := focused()
			if match(f) {
				return
			}
			seen = append(seen, f)
		}
		t.Fatalf("%s not reached by Tab; focus went %v", what, seen)
	}

	step(ctx, t, "open sign-in", chromedp.Navigate(env.baseURL+"/console/entrar"), chromedp.WaitVisible(chromedp.ID("api_key")))
	tabTo("the skip link", func(f string) bool { return f == "#conteudo" })
	step(ctx, t, "follow skip", chromedp.KeyEvent(kb.Enter))
	if f := focused(); f != "conteudo" {
		t.Fatalf("after the skip link the focus is on %q, want the content", f)
	}
	tabTo("the API key field", func(f string) bool { return f == "api_key" })
	step(ctx, t, "type key and submit", chromedp.KeyEvent(keyDPO), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("queue")))

	tabTo("the held request", func(f string) bool { return strings.HasSuffix(f, "/pedido/"+held.ID) })
	step(ctx, t, "open it", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("timeline")))
	if loc := value(ctx, t, "location", chromedp.Location()); !strings.HasSuffix(loc, "/pedido/"+held.ID) {
		t.Fatalf("Enter on the request's link led to %s", loc)
	}

	tabTo("the report in the nav", func(f string) bool { return f == "/console/t/demo/relatorio" })
	step(ctx, t, "open the report", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("svg")))
	if cur := value(ctx, t, "current", chromedp.Text(chromedp.CSS(`a[aria-current="page"]`))); cur != "Relatório" {
		t.Fatalf("current nav entry %q after opening the report by keyboard", cur)
	}
}
