package console

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cookieOf writes sess with sl and returns the request carrying the cookie.
func cookieOf(t *testing.T, sl *sealer, sess *session) (*http.Request, *http.Cookie) {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := sl.write(rec, sess); err != nil {
		t.Fatal(err)
	}
	c := rec.Result().Cookies()[0]
	r := httptest.NewRequest("GET", "/console/", nil)
	r.AddCookie(c)
	return r, c
}

func TestSessionCookieSealedAndBounded(t *testing.T) {
	dir := t.TempDir()
	key, err := sessionKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := sessionKey("", dir)
	if err != nil || string(again) != string(key) {
		t.Fatalf("the generated key is not stable: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "console", "session.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session key file: %v, mode %v; want 0600", err, fi.Mode())
	}
	sl, err := newSealer(key, true)
	if err != nil {
		t.Fatal(err)
	}
	sess := &session{Name: "dpo", Role: "dpo", Tenants: []string{"demo"}, CSRF: newToken(), Expires: time.Now().Add(time.Hour).Unix()}
	r, c := cookieOf(t, sl, sess)
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/console/" {
		t.Fatalf("cookie flags: %+v", c)
	}
	if strings.Contains(c.Value, "dpo") || strings.Contains(c.Value, sess.CSRF) {
		t.Fatal("the cookie shows its contents")
	}
	got := sl.open(r)
	if got == nil || got.Role != "dpo" || got.CSRF != sess.CSRF || got.Tenants[0] != "demo" {
		t.Fatalf("opened %+v", got)
	}

	// One byte changed, another key, another cookie name, or expiry: no session.
	b := []byte(c.Value)
	b[len(b)/2] ^= 1
	if b[len(b)/2] == '-' || b[len(b)/2] == '_' { // keep it base64url
		b[len(b)/2] = 'A'
	}
	tampered := httptest.NewRequest("GET", "/console/", nil)
	tampered.AddCookie(&http.Cookie{Name: cookieName, Value: string(b)})
	if sl.open(tampered) != nil {
		t.Fatal("a tampered cookie opened")
	}
	other, _ := newSealer([]byte(strings.Repeat("k", 32)), true)
	if other.open(r) != nil {
		t.Fatal("a cookie sealed with another key opened")
	}
	var f flow
	replay := httptest.NewRequest("GET", "/console/oidc/callback", nil)
	replay.AddCookie(&http.Cookie{Name: flowCookie, Value: c.Value})
	if sl.unseal(replay, flowCookie, &f) {
		t.Fatal("a session cookie opened as a sign-in flow")
	}
	expired, _ := cookieOf(t, sl, &session{Role: "dpo", CSRF: "x", Expires: time.Now().Add(-time.Second).Unix()})
	if sl.open(expired) != nil {
		t.Fatal("an expired session opened")
	}
}

func TestSessionKeyFileMustBeHex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(path, []byte("not hex"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sessionKey(path, ""); err == nil || !strings.Contains(err.Error(), "openssl rand -hex 32") {
		t.Fatalf("bad key file: %v; want an error saying how to make one", err)
	}
}
