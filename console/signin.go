package console

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/titular/titular/config"
	"github.com/titular/titular/service"
)

// signInPage shows the sign-in form; a visitor gets a session holding only
// the form's CSRF token.
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	sess := c.seal.open(r)
	if sess.signedIn() {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return
	}
	c.signInForm(w, sess, http.StatusOK, "")
}

func (c *Console) signInForm(w http.ResponseWriter, sess *session, code int, msg string) {
	if sess == nil {
		sess = &session{CSRF: newToken(), Expires: time.Now().Add(anonymousTTL).Unix()}
		if err := c.seal.write(w, sess); err != nil {
			http.Error(w, s("error.body"), http.StatusInternalServerError)
			return
		}
	}
	var issuers []config.OIDCIssuer
	if c.opts.Tokens != nil {
		issuers = c.opts.Issuers
	}
	c.render(w, code, "signin.html", &view{Title: s("signin.title"), Session: sess, Error: msg, Issuers: issuers})
}

// signIn exchanges an API key for a session (its CSRF token was checked by
// ServeHTTP). Only the roles dpo and auditor enter; the session keeps the
// key's name, role and tenants, never the key.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	sess := c.seal.open(r)
	key := r.PostFormValue("api_key")
	if key == "" {
		c.signInForm(w, sess, http.StatusBadRequest, s("signin.empty_key"))
		return
	}
	p, sum, ok := c.opts.Auth.KeyPrincipal(key)
	if !ok {
		c.opts.Log.Info("console: sign-in refused", "reason", "invalid_key")
		c.signInForm(w, sess, http.StatusUnauthorized, s("signin.bad_key"))
		return
	}
	c.startSession(w, r, p, hex.EncodeToString(sum[:]))
}

// startSession opens a session for p after an API key or an identity
// provider vouched for it. Only the roles dpo and auditor enter; the
// session keeps the principal's name, role and tenants, never the key or
// token. After an identity provider's redirect (a cross-site navigation)
// the browser would not send the new SameSite=Strict cookie on a further
// redirect, so that sign-in ends on a page that moves on by itself.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, p *service.Principal, keySHA256 string) {
	sess := c.seal.open(r)
	if p.Role != config.RoleDPO && p.Role != config.RoleAuditor {
		c.opts.Log.Info("console: sign-in refused", "reason", "role", "role", p.Role)
		c.signInForm(w, sess, http.StatusForbidden, fmt.Sprintf(s("signin.role_refused"), p.Role))
		return
	}
	tenants, all := p.Tenants()
	next := &session{Name: p.Name, Role: p.Role, Tenants: tenants, All: all, CSRF: newToken(),
		KeySHA256: keySHA256, Expires: time.Now().Add(signedInTTL).Unix()}
	if len(c.tenantsOf(next)) == 0 {
		c.signInForm(w, sess, http.StatusForbidden, s("signin.no_tenant"))
		return
	}
	if err := c.seal.write(w, next); err != nil {
		http.Error(w, s("error.body"), http.StatusInternalServerError)
		return
	}
	c.opts.Log.Info("console: signed in", "role", p.Role)
	if r.Method == http.MethodPost {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return
	}
	c.render(w, http.StatusOK, "continue.html", &view{Title: s("signin.title"), Session: next})
}

// signOut drops the session cookie. The cookie is sealed, not stored, so
// a copy taken before sign-out stays valid until it expires (8 h).
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	c.seal.clear(w)
	http.Redirect(w, r, "/console/entrar", http.StatusSeeOther)
}
