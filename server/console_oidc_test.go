package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/titular/titular/authn/authntest"
)

// testIdP is an OpenID provider on loopback with an authorization
// endpoint that signs in a preset person at once, and a token endpoint
// that checks the PKCE verifier against the challenge, as a real one does.
type testIdP struct {
	URL string
	key authntest.Key

	mu        sync.Mutex
	groups    []string
	codes     map[string]idpCode
	exchanges int
	issued    int
}

type idpCode struct{ challenge, nonce, redirect string }

func newTestIdP(t *testing.T) *testIdP {
	t.Helper()
	idp := &testIdP{key: authntest.NewKey(t, jose.RS256), codes: map[string]idpCode{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": idp.URL, "authorization_endpoint": idp.URL + "/authorize",
			"token_endpoint": idp.URL + "/token", "jwks_uri": idp.URL + "/keys", "response_types_supported": []string{"code"},
			"code_challenge_methods_supported": []string{"S256"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(authntest.JWKS(t, idp.key))
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("response_type") != "code" || q.Get("client_id") != staffAudience || q.Get("code_challenge_method") != "S256" ||
			q.Get("code_challenge") == "" || q.Get("nonce") == "" || !strings.Contains(q.Get("scope"), "openid") {
			http.Error(w, "authorization request without code, client id, S256 PKCE challenge, nonce or openid scope", http.StatusBadRequest)
			return
		}
		idp.mu.Lock()
		idp.issued++
		code := fmt.Sprintf("code-%d", idp.issued)
		idp.codes[code] = idpCode{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: q.Get("redirect_uri")}
		idp.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		idp.mu.Lock()
		defer idp.mu.Unlock()
		c, ok := idp.codes[r.PostFormValue("code")]
		delete(idp.codes, r.PostFormValue("code"))
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		w.Header().Set("Content-Type", "application/json")
		if !ok || r.PostFormValue("grant_type") != "authorization_code" || r.PostFormValue("redirect_uri") != c.redirect ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		idp.exchanges++
		id := idp.key.Sign(t, staffToken(idp.URL, map[string]any{"groups": idp.groups, "nonce": c.nonce}))
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "opaque", "token_type": "Bearer", "expires_in": 300, "id_token": id})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	idp.URL = srv.URL
	return idp
}

func (idp *testIdP) exchanged() int {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return idp.exchanges
}

func (idp *testIdP) signInAs(groups ...string) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.groups = groups
}

// TestConsoleOIDCInChromium signs a DPO in through the company's identity
// provider in real Chromium: authorization code with PKCE and nonce; a
// person whose group maps to backend is refused; a callback whose state
// was not issued here is refused.
func TestConsoleOIDCInChromium(t *testing.T) {
	idp := newTestIdP(t)
	env := newTestEnv(t, 20, func(y string) string {
		return strings.Replace(y, "auth:\n", fmt.Sprintf(`auth:
  oidc:
    - name: empresa
      issuer: %q
      audience: %s
      roles_claim: groups
      roles:
        - {value: grp-dpo-demo, role: dpo, tenants: [demo]}
        - {value: grp-backend, role: backend, tenants: [demo]}
`, idp.URL, staffAudience), 1)
	})
	shots := screenshots(t)
	ctx := browser(t)

	idp.signInAs("grp-dpo-demo")
	step(ctx, t, "sign-in page", chromedp.Navigate(env.baseURL+"/console/entrar"), chromedp.WaitVisible(chromedp.ID("idp-empresa")))
	screenshot(ctx, t, shots, "console-signin-oidc.png")
	step(ctx, t, "sign in with the IdP", chromedp.Click(chromedp.ID("idp-empresa")), chromedp.WaitVisible(chromedp.ID("queue-empty")))
	if loc := value(ctx, t, "location", chromedp.Location()); loc != env.baseURL+"/console/t/demo/fila" {
		t.Fatalf("after the identity provider: at %s, want the demo queue", loc)
	}
	if got := value(ctx, t, "user", chromedp.Text(chromedp.ID("user-name"))); got != "maria.dpo@titular.test" {
		t.Fatalf("signed in as %q", got)
	}
	if idp.exchanged() != 1 {
		t.Fatalf("code exchanges: %d, want 1 (with the PKCE verifier)", idp.exchanged())
	}
	step(ctx, t, "sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("api_key")))

	// The identity provider vouches for a person whose group is backend.
	idp.signInAs("grp-backend")
	code := navigate(ctx, t, "backend via IdP", chromedp.Click(chromedp.ID("idp-empresa")))
	msg := value(ctx, t, "error", chromedp.Text(chromedp.ID("signin-error")))
	if code != http.StatusForbidden || !strings.Contains(msg, "backend") {
		t.Fatalf("backend through the IdP: %d %q; want 403 naming the role", code, msg)
	}

	// A callback this console did not start (login CSRF) is refused.
	code = navigate(ctx, t, "forged callback", chromedp.Navigate(env.baseURL+"/console/oidc/callback?code=code-1&state=forjado"))
	msg = value(ctx, t, "error", chromedp.Text(chromedp.ID("signin-error")))
	if code != http.StatusBadRequest || !strings.Contains(msg, "Comece a entrada de novo") {
		t.Fatalf("forged callback: %d %q", code, msg)
	}
	if idp.exchanged() != 2 {
		t.Fatalf("code exchanges: %d, want 2 (none for the forged callback)", idp.exchanged())
	}
}
