package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/titular/titular/config"
)

// consoleClient is a cookie-keeping HTTP client that does not follow
// redirects, so each answer is seen.
func consoleClient(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func consoleGet(t testing.TB, c *http.Client, u string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func consolePost(t testing.TB, c *http.Client, u string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// TestConsoleFormsNeedCSRF checks every console form over plain HTTP: a
// POST without the session's token, or with another session's, is 403 and
// changes nothing; an auditor key signs in; the pages carry a CSP.
func TestConsoleFormsNeedCSRF(t *testing.T) {
	env := newTestEnv(t, 20)
	base := env.baseURL + "/console"
	c := consoleClient(t)
	code, _, body := consoleGet(t, c, base+"/entrar")
	m := csrfInput.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("sign-in page: %d, token found %v", code, m != nil)
	}
	for _, form := range []url.Values{{"api_key": {keyAuditor}}, {"api_key": {keyAuditor}, "csrf": {"forjado"}}} {
		if code, _, body := consolePost(t, c, base+"/entrar", form); code != http.StatusForbidden || !strings.Contains(body, "CSRF") {
			t.Fatalf("sign-in with csrf %q: %d", form.Get("csrf"), code)
		}
	}
	if code, loc, _ := consoleGet(t, c, base+"/t/demo/fila"); code != http.StatusSeeOther || loc != "/console/entrar" {
		t.Fatalf("refused sign-in opened a session: %d %s", code, loc)
	}
	// Another visitor's token does not pass for this one.
	other := consoleClient(t)
	_, _, ob := consoleGet(t, other, base+"/entrar")
	if code, _, _ := consolePost(t, c, base+"/entrar", url.Values{"api_key": {keyAuditor}, "csrf": {csrfInput.FindStringSubmatch(ob)[1]}}); code != http.StatusForbidden {
		t.Fatalf("another session's token: %d, want 403", code)
	}

	code, loc, _ := consolePost(t, c, base+"/entrar", url.Values{"api_key": {keyAuditor}, "csrf": {m[1]}})
	if code != http.StatusSeeOther || loc != "/console/" {
		t.Fatalf("auditor sign-in: %d %s", code, loc)
	}
	resp, err := c.Get(base + "/t/demo/fila")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("auditor's queue: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	signedToken := csrfInput.FindStringSubmatch(string(b))[1]
	if signedToken == m[1] {
		t.Fatal("the CSRF token was not renewed at sign-in")
	}

	// Sign-out without the token is refused and the session stays.
	if code, _, _ := consolePost(t, c, base+"/sair", nil); code != http.StatusForbidden {
		t.Fatalf("sign-out without CSRF: %d", code)
	}
	if code, _, _ := consoleGet(t, c, base+"/t/demo/fila"); code != http.StatusOK {
		t.Fatalf("session lost after a refused sign-out: %d", code)
	}
	if code, loc, _ := consolePost(t, c, base+"/sair", url.Values{"csrf": {signedToken}}); code != http.StatusSeeOther || loc != "/console/entrar" {
		t.Fatalf("sign-out: %d %s", code, loc)
	}
	if code, loc, _ := consoleGet(t, c, base+"/t/demo/fila"); code != http.StatusSeeOther || loc != "/console/entrar" {
		t.Fatalf("after sign-out: %d %s", code, loc)
	}
}

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "[::1]:80": true, "localhost:1": true,
		"0.0.0.0:8080": false, ":8080": false, "10.0.0.5:443": false, "titular.internal:8080": false} {
		if got := loopbackAddr(addr); got != want {
			t.Errorf("loopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

var consoleQueueRow = regexp.MustCompile(`<tr(?: class="overdue")? data-id="([^"]+)"`)

// TestConsoleQueuePages pages through 55 requests 50 at a time, the next
// link keeping the filter, every request listed once.
func TestConsoleQueuePages(t *testing.T) {
	env := newTestEnv(t, 20)
	lead := env.scenario(t, "lead_somente_consentimento")
	want := map[string]bool{}
	for i := range 55 {
		r := env.createREST(t, keyBackend, map[string]any{"kind": "CONFIRM", "subject": map[string]any{"email": lead.Email},
			"idempotency_key": fmt.Sprintf("pagina-%d", i)})
		want[r.ID] = true
	}
	c := consoleClient(t)
	_, _, body := consoleGet(t, c, env.baseURL+"/console/entrar")
	if code, _, _ := consolePost(t, c, env.baseURL+"/console/entrar", url.Values{"api_key": {keyDPO}, "csrf": {csrfInput.FindStringSubmatch(body)[1]}}); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	seen := map[string]bool{}
	next := "/console/t/demo/fila?kind=CONFIRM"
	var sizes []int
	for next != "" {
		code, _, page := consoleGet(t, c, env.baseURL+next)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", next, code)
		}
		rows := consoleQueueRow.FindAllStringSubmatch(page, -1)
		sizes = append(sizes, len(rows))
		for _, r := range rows {
			if seen[r[1]] || !want[r[1]] {
				t.Fatalf("request %s listed twice or not one of the test's", r[1])
			}
			seen[r[1]] = true
		}
		next = ""
		if m := regexp.MustCompile(`id="next" href="([^"]+)"`).FindStringSubmatch(page); m != nil {
			u, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
			if err != nil || u.Query().Get("kind") != "CONFIRM" {
				t.Fatalf("next link %q does not keep the kind filter", m[1])
			}
			next = "/console/t/demo/fila" + u.String()
		}
	}
	if len(seen) != 55 || len(sizes) != 2 || sizes[0] != 50 || sizes[1] != 5 {
		t.Fatalf("pages of %v rows, %d requests seen; want 50 then 5, all 55", sizes, len(seen))
	}
}

// TestConsoleRevokedKeyEndsSession: a session opened with an API key ends
// once the key is removed from the configuration and titular restarts,
// though the session key (state_dir) is the same.
func TestConsoleRevokedKeyEndsSession(t *testing.T) {
	env := newTestEnv(t, 20)
	c := consoleClient(t)
	_, _, body := consoleGet(t, c, env.baseURL+"/console/entrar")
	if code, _, _ := consolePost(t, c, env.baseURL+"/console/entrar", url.Values{"api_key": {keyAuditor}, "csrf": {csrfInput.FindStringSubmatch(body)[1]}}); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	if code, _, _ := consoleGet(t, c, env.baseURL+"/console/t/demo/fila"); code != http.StatusOK {
		t.Fatalf("queue: %d", code)
	}
	env.app.Stop()
	cfg := *env.cfg
	cfg.Auth.APIKeys = slices.DeleteFunc(slices.Clone(cfg.Auth.APIKeys), func(k config.APIKey) bool { return k.Role == "auditor" })
	a, err := Start(context.Background(), &cfg, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	base := "http://" + a.HTTPAddr()
	waitReady(t, base, len(cfg.Tenants))
	if code, loc, _ := consoleGet(t, c, base+"/console/t/demo/fila"); code != http.StatusSeeOther || loc != "/console/entrar" {
		t.Fatalf("revoked key's session: %d %s; want sent to sign in", code, loc)
	}
}

// consoleSignIn signs a new console client in with an API key and returns
// it with the session's CSRF token, read from the key's tenant's queue
// (keyOther's is "other", the others' "demo").
func consoleSignIn(t testing.TB, env *testEnv, key string) (*http.Client, string) {
	t.Helper()
	tenant := "demo"
	if key == keyOther {
		tenant = "other"
	}
	c := consoleClient(t)
	_, _, body := consoleGet(t, c, env.baseURL+"/console/entrar")
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("sign-in page without a CSRF token")
	}
	if code, _, _ := consolePost(t, c, env.baseURL+"/console/entrar", url.Values{"api_key": {key}, "csrf": {m[1]}}); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	code, _, page := consoleGet(t, c, env.baseURL+"/console/t/"+tenant+"/fila")
	if m = csrfInput.FindStringSubmatch(page); code != http.StatusOK || m == nil {
		t.Fatalf("queue after sign-in: %d", code)
	}
	return c, m[1]
}
