package server

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"google.golang.org/grpc/metadata"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
)

// browser starts Debian's chromium, headless with a fresh profile, for the
// console's tests; scripts/test.sh installs it when missing.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed (apt-get install chromium, or run scripts/test.sh): %v", err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 860))
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser under a context with no deadline
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshots is where the console's screenshots go: TITULAR_SCREENSHOTS,
// else the test's temporary directory.
func screenshots(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("TITULAR_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func screenshot(ctx context.Context, t *testing.T, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// step runs browser actions with a bound, so a page that never comes does
// not hang the test.
func step(ctx context.Context, t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func value[T any](ctx context.Context, t *testing.T, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// navigate loads a page and returns its HTTP status.
func navigate(ctx context.Context, t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(sctx, actions...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return resp.Status
}

// TestConsoleInChromium drives the console in real Chromium against a
// running titular: / leads to sign-in; a backend key is refused; a form
// without its CSRF token is refused; a DPO signs in with an API key and
// sees the tenant's queue, overdue first; filters; another tenant's pages
// are not found; the nav marks the page shown; sign-out ends the session.
func TestConsoleInChromium(t *testing.T) {
	env := newTestEnv(t, 40, withApproval)
	lead := env.scenario(t, "lead_somente_consentimento")
	dels := []string{
		env.createREST(t, keyBackend, map[string]any{"kind": "DELETE", "subject": map[string]any{"email": lead.Email}}).ID,
		env.createREST(t, keyBackend, map[string]any{"kind": "DELETE", "subject": map[string]any{"email": lead.Email}, "idempotency_key": "second"}).ID,
	}
	// The second held DELETE has waited past its deadline: the test moves
	// its due date back, as time passing would.
	if _, err := env.demoDB(t).Exec("UPDATE lgpd_requests SET due_at = ? WHERE id = ?", time.Now().UTC().Add(-48*time.Hour), dels[1]); err != nil {
		t.Fatal(err)
	}
	otherCtx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyOther)
	otherReq, err := lgpdv1.NewRequestServiceClient(env.grpc).CreateRequest(otherCtx, &lgpdv1.CreateRequestRequest{Tenant: "other",
		Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Email: "ninguem@exemplo.invalid"}})
	if err != nil {
		t.Fatal(err)
	}
	shots := screenshots(t)
	ctx := browser(t)

	// / on the HTTP port leads to the console's sign-in.
	step(ctx, t, "open /", chromedp.Navigate(env.baseURL+"/"), chromedp.WaitVisible(chromedp.ID("api_key")))
	if loc := value(ctx, t, "location", chromedp.Location()); loc != env.baseURL+"/console/entrar" {
		t.Fatalf("/ led to %s, want the sign-in page", loc)
	}
	if lang := value(ctx, t, "lang", chromedp.Evaluate[string]("document.documentElement.lang")); lang != "pt-BR" {
		t.Fatalf("lang = %q, want pt-BR", lang)
	}
	screenshot(ctx, t, shots, "console-signin.png")

	// A backend key is a valid key, but not for the console.
	code := navigate(ctx, t, "backend sign-in", chromedp.SendKeys(chromedp.ID("api_key"), keyBackend), chromedp.Click(chromedp.ID("signin-submit")))
	msg := value(ctx, t, "sign-in error", chromedp.Text(chromedp.ID("signin-error")))
	if code != http.StatusForbidden || !strings.Contains(msg, "backend") || !strings.Contains(msg, "dpo") {
		t.Fatalf("backend key: status %d, message %q; want 403 saying only dpo and auditor enter", code, msg)
	}

	// The same form with its CSRF token removed is refused before the key
	// is looked at.
	step(ctx, t, "drop the token", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`document.querySelector('input[name=csrf]').remove(), true`)(ctx, tg)
		return err
	}))
	code = navigate(ctx, t, "sign-in without CSRF", chromedp.SendKeys(chromedp.ID("api_key"), keyDPO), chromedp.Click(chromedp.ID("signin-submit")))
	body := value(ctx, t, "CSRF page", chromedp.Text(chromedp.CSS("main")))
	if code != http.StatusForbidden || !strings.Contains(body, "CSRF") {
		t.Fatalf("sign-in without CSRF: status %d, page %q; want 403 naming the CSRF token", code, body)
	}
	if code := navigate(ctx, t, "queue unsigned", chromedp.Navigate(env.baseURL+"/console/t/demo/fila")); code != http.StatusOK ||
		value(ctx, t, "location", chromedp.Location()) != env.baseURL+"/console/entrar" {
		t.Fatalf("the refused form signed someone in: the queue did not send to sign-in")
	}

	// A DPO signs in with an API key.
	code = navigate(ctx, t, "DPO sign-in", chromedp.SendKeys(chromedp.ID("api_key"), keyDPO), chromedp.Click(chromedp.ID("signin-submit")))
	if loc := value(ctx, t, "location", chromedp.Location()); code != http.StatusOK || loc != env.baseURL+"/console/t/demo/fila" {
		t.Fatalf("DPO sign-in: status %d at %s, want the demo queue", code, loc)
	}
	cookies := value(ctx, t, "cookies", func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{})
	})
	if len(cookies.Cookies) != 1 {
		t.Fatalf("cookies: %d, want the one session cookie", len(cookies.Cookies))
	}
	if c := cookies.Cookies[0]; !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Secure || strings.Contains(c.Value, keyDPO) {
		t.Fatalf("session cookie: HttpOnly %v SameSite %s Secure %v; want HttpOnly, Strict, not Secure on loopback, no key inside", c.HTTPOnly, c.SameSite, c.Secure)
	}
	if got := value(ctx, t, "tenant", chromedp.Text(chromedp.ID("tenant-name"))); got != "Incorporadora Teste Ltda" {
		t.Fatalf("header tenant %q", got)
	}
	if got := value(ctx, t, "user", chromedp.Text(chromedp.ID("user-name"))); got != "dpo" {
		t.Fatalf("header user %q", got)
	}
	rows := value(ctx, t, "rows", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#queue tbody tr')].map(r => r.dataset.id + (r.classList.contains('overdue') ? ':atrasado' : ''))`))
	if len(rows) != 2 || rows[0] != dels[1]+":atrasado" || rows[1] != dels[0] {
		t.Fatalf("queue rows %v; want the overdue DELETE %s first and marked, then %s", rows, dels[1], dels[0])
	}
	for id, want := range map[string]string{"count-total": "2", "count-overdue": "1", "count-approval": "2", "count-verify": "0"} {
		if got := value(ctx, t, id, chromedp.Text(chromedp.ID(id))); got != want {
			t.Fatalf("%s = %s, want %s", id, got, want)
		}
	}
	step(ctx, t, "page loaded", chromedp.WaitReady(chromedp.CSS("body")))
	if html := value(ctx, t, "page", chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, otherReq.GetId()) || strings.Contains(html, lead.Email) {
		t.Fatal("the demo queue shows another tenant's request or a titular's e-mail")
	}
	screenshot(ctx, t, shots, "console-queue.png")

	// Filters travel in the query as enum names; a kind with no request
	// shows the empty state.
	step(ctx, t, "filter", chromedp.SetValue(chromedp.ID("f-kind"), "CONFIRM"), chromedp.Click(chromedp.ID("filter")), chromedp.WaitVisible(chromedp.ID("queue-empty")))
	if loc := value(ctx, t, "location", chromedp.Location()); !strings.Contains(loc, "/console/t/demo/fila?status=&kind=CONFIRM&") {
		t.Fatalf("filtered at %s", loc)
	}
	if code := navigate(ctx, t, "bad filter", chromedp.Navigate(env.baseURL+"/console/t/demo/fila?status=LOST")); code != http.StatusBadRequest {
		t.Fatalf("unknown status filter: %d, want 400", code)
	}

	// The other tenant does not exist for this DPO.
	if code := navigate(ctx, t, "other tenant", chromedp.Navigate(env.baseURL+"/console/t/other/fila")); code != http.StatusNotFound {
		t.Fatalf("other tenant's queue: %d, want 404", code)
	}
	step(ctx, t, "page loaded", chromedp.WaitReady(chromedp.CSS("body")))
	if html := value(ctx, t, "page", chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, otherReq.GetId()) {
		t.Fatal("the 404 page shows the other tenant's request")
	}

	// The nav leads to the propagation page and marks it current.
	step(ctx, t, "propagation", chromedp.Navigate(env.baseURL+"/console/t/demo/fila"), chromedp.Click(chromedp.CSS(`a[href="/console/t/demo/propagacao"]`)),
		chromedp.WaitVisible(chromedp.ID("prop-title")))
	if cur := value(ctx, t, "current", chromedp.Text(chromedp.CSS(`a[aria-current="page"]`))); cur != "Propagação" {
		t.Fatalf("current nav entry %q", cur)
	}

	// Sign-out ends the session.
	step(ctx, t, "sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("api_key")))
	step(ctx, t, "queue after sign-out", chromedp.Navigate(env.baseURL+"/console/t/demo/fila"), chromedp.WaitVisible(chromedp.ID("api_key")))
}

// browserGet fetches u with the browser's cookies, as a download the page
// links to would be, and returns the answer's headers and body; any status
// but 200 fails the test.
func browserGet(ctx context.Context, t *testing.T, u string) (http.Header, []byte) {
	t.Helper()
	cookies := value(ctx, t, "cookies", func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{})
	})
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
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
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	return resp.Header, b
}
