package server

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleObserved: console pages reach the access log and /metrics
// like RPCs do, named by their route pattern, never by their path or
// query; and console.session_key_file seals the sessions with the key the
// operator gave, not a generated one.
func TestConsoleObserved(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "console.key")
	key := strings.Repeat("ab", 32)
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := newTestEnv(t, 20, func(y string) string { return y + "console: {session_key_file: " + keyFile + "}\n" })
	if _, err := os.Stat(filepath.Join(env.cfg.StateDir, "console", "session.key")); !os.IsNotExist(err) {
		t.Fatalf("a session key was generated under state_dir although session_key_file is set: %v", err)
	}
	c := consoleClient(t)
	_, _, body := consoleGet(t, c, env.baseURL+"/console/entrar")
	if code, _, _ := consolePost(t, c, env.baseURL+"/console/entrar", url.Values{"api_key": {keyDPO}, "csrf": {csrfInput.FindStringSubmatch(body)[1]}}); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	if code, _, _ := consoleGet(t, c, env.baseURL+"/console/t/demo/fila?kind=DELETE"); code != http.StatusOK {
		t.Fatalf("queue: %d", code)
	}
	if code, _, _ := consoleGet(t, c, env.baseURL+"/console/nada-aqui"); code != http.StatusNotFound {
		t.Fatalf("unknown page: %d", code)
	}

	logs := env.logs.String()
	line := regexp.MustCompile(`\{[^\n]*"msg":"console"[^\n]*"page":"GET /console/t/\{tenant\}/fila"[^\n]*\}`).FindString(logs)
	if line == "" || !strings.Contains(line, `"code":200`) || !strings.Contains(line, `"tenant":"demo"`) {
		t.Fatalf("no access-log line for the queue with its code and tenant:\n%s", line)
	}
	if strings.Contains(logs, "kind=DELETE") || strings.Contains(logs, "/console/t/demo/fila") || strings.Contains(logs, "nada-aqui") {
		t.Fatal("the access log holds a console path or query")
	}
	if !regexp.MustCompile(`"msg":"console"[^\n]*"page":"/console/"[^\n]*"code":404`).MatchString(logs) {
		t.Fatal("the unknown page is not logged as a 404 of the console's catch-all")
	}

	_, _, metrics := env.rest(t, "GET", "/metrics", "", nil)
	for _, want := range []string{
		`titular_console_requests_total{code="200",page="GET /console/t/{tenant}/fila"} 1`,
		`titular_console_requests_total{code="404",page="/console/"} 1`,
		`titular_console_duration_seconds_count{page="GET /console/t/{tenant}/fila"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
