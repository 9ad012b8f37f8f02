package console

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/titular/titular/config"
	"github.com/titular/titular/service"
)

// flowCookie holds one OIDC sign-in in progress: state, nonce and PKCE
// verifier. It is SameSite=Lax, unlike the session: the identity provider
// sends the browser back with a cross-site top-level GET, which a Strict
// cookie would not come with. It lives ten minutes and serves only
// /console/oidc/.
const (
	flowCookie = "titular_console_oidc"
	flowTTL    = 10 * time.Minute
	// idpTimeout bounds one call to the identity provider (discovery, the
	// code exchange).
	idpTimeout = 10 * time.Second
)

type flow struct {
	Issuer   string `json:"i"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"`
}

// providers caches each issuer's discovered endpoints.
type providers struct {
	mu   sync.Mutex
	byIs map[string]*oidc.Provider
}

func (p *providers) get(ctx context.Context, iss config.OIDCIssuer) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pr := p.byIs[iss.Name]; pr != nil {
		return pr, nil
	}
	ctx, cancel := context.WithTimeout(ctx, idpTimeout)
	defer cancel()
	pr, err := oidc.NewProvider(oidc.ClientContext(ctx, &http.Client{Timeout: idpTimeout}), iss.Issuer)
	if err != nil {
		return nil, err
	}
	if p.byIs == nil {
		p.byIs = map[string]*oidc.Provider{}
	}
	p.byIs[iss.Name] = pr
	return pr, nil
}

func (c *Console) issuer(name string) (config.OIDCIssuer, bool) {
	i := slices.IndexFunc(c.opts.Issuers, func(o config.OIDCIssuer) bool { return o.Name == name })
	if i < 0 {
		return config.OIDCIssuer{}, false
	}
	return c.opts.Issuers[i], true
}

// oauthConfig is the authorization-code client for iss: a public client
// (PKCE, no secret) whose id is the issuer's audience, coming back to this
// console's callback.
func oauthConfig(r *http.Request, iss config.OIDCIssuer, pr *oidc.Provider) *oauth2.Config {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return &oauth2.Config{ClientID: iss.Audience, Endpoint: pr.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		RedirectURL: scheme + "://" + r.Host + "/console/oidc/callback"}
}

// oidcStart sends the browser to the identity provider with a fresh state,
// nonce and PKCE challenge.
func (c *Console) oidcStart(w http.ResponseWriter, r *http.Request) {
	iss, ok := c.issuer(r.PathValue("issuer"))
	if !ok {
		c.notFound(w, r, c.seal.open(r))
		return
	}
	pr, err := c.idp.get(r.Context(), iss)
	if err != nil {
		c.opts.Log.Warn("console: identity provider discovery failed", "issuer", iss.Name, "error", err.Error())
		c.signInForm(w, c.seal.open(r), http.StatusBadGateway, fmt.Sprintf(s("oidc.unavailable"), iss.Name))
		return
	}
	f := flow{Issuer: iss.Name, State: newToken(), Nonce: newToken(), Verifier: oauth2.GenerateVerifier(), Expires: time.Now().Add(flowTTL).Unix()}
	v, err := c.seal.seal(flowCookie, f)
	if err != nil {
		http.Error(w, s("error.body"), http.StatusInternalServerError)
		return
	}
	//nolint:gosec // G124: Secure is set unless the console is plaintext on loopback; Lax is needed for the IdP's cross-site return (see flowCookie)
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: v, Path: "/console/oidc/", HttpOnly: true, Secure: c.seal.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(flowTTL / time.Second)})
	//nolint:gosec // G710: the target is the configured issuer's discovered authorization endpoint, not a request value
	http.Redirect(w, r, oauthConfig(r, iss, pr).AuthCodeURL(f.State, oauth2.S256ChallengeOption(f.Verifier),
		oauth2.SetAuthURLParam("nonce", f.Nonce)), http.StatusFound)
}

// oidcCallback completes the sign-in: the state must be the flow's, the
// code is exchanged with the PKCE verifier, and the ID token is verified
// as any staff token (issuer, audience, signature, expiry, role mapping)
// and must carry the flow's nonce. Only dpo and auditor enter.
func (c *Console) oidcCallback(w http.ResponseWriter, r *http.Request) {
	var f flow
	ok := c.seal.unseal(r, flowCookie, &f) && time.Now().Unix() < f.Expires
	//nolint:gosec // G124: deletes the flow cookie, with the attributes it was set with
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: "/console/oidc/", HttpOnly: true, Secure: c.seal.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	q := r.URL.Query()
	state := q.Get("state")
	if !ok || state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1 {
		c.signInForm(w, c.seal.open(r), http.StatusBadRequest, s("oidc.bad_state"))
		return
	}
	iss, ok := c.issuer(f.Issuer)
	if !ok {
		c.signInForm(w, c.seal.open(r), http.StatusBadRequest, s("oidc.bad_state"))
		return
	}
	if e := q.Get("error"); e != "" {
		c.opts.Log.Info("console: identity provider refused the sign-in", "issuer", iss.Name, "error_code", e)
		c.signInForm(w, c.seal.open(r), http.StatusUnauthorized, fmt.Sprintf(s("oidc.refused"), iss.Name))
		return
	}
	pr, err := c.idp.get(r.Context(), iss)
	if err != nil {
		c.signInForm(w, c.seal.open(r), http.StatusBadGateway, fmt.Sprintf(s("oidc.unavailable"), iss.Name))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), idpTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: idpTimeout})
	tok, err := oauthConfig(r, iss, pr).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		c.opts.Log.Warn("console: code exchange failed", "issuer", iss.Name, "error", err.Error())
		c.signInForm(w, c.seal.open(r), http.StatusBadGateway, fmt.Sprintf(s("oidc.exchange"), iss.Name))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		c.signInForm(w, c.seal.open(r), http.StatusBadGateway, fmt.Sprintf(s("oidc.exchange"), iss.Name))
		return
	}
	p, err := c.opts.Tokens.Verify(ctx, raw)
	if err != nil {
		var se *service.Error
		msg := s("oidc.invalid")
		if errors.As(err, &se) && se.Reason == "NO_ROLE" {
			msg = s("oidc.no_role")
		}
		c.opts.Log.Info("console: ID token refused", "issuer", iss.Name, "reason", reasonOf(err))
		c.signInForm(w, c.seal.open(r), http.StatusForbidden, msg)
		return
	}
	if nonceOf(raw) != f.Nonce || p.Titular != nil {
		c.signInForm(w, c.seal.open(r), http.StatusForbidden, s("oidc.invalid"))
		return
	}
	c.startSession(w, r, p, "")
}

func reasonOf(err error) string {
	var se *service.Error
	if errors.As(err, &se) {
		return se.Reason
	}
	return "unknown"
}

// nonceOf reads the nonce claim of a token whose signature was verified.
func nonceOf(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Nonce string `json:"nonce"`
	}
	if err != nil || json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Nonce
}
