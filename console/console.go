// Package console is the DPO's web console, served by titular serve at
// /console/: server-rendered Go templates with their CSS embedded in the
// binary, no JavaScript build step. It calls the request service in
// process under the signed-in person's principal, through the same
// authorization rules as the API (service.Authenticator.As), so the
// console can never show more than the API would.
package console

import (
	"context"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"sync"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"google.golang.org/grpc/codes"

	"github.com/titular/titular/config"
	"github.com/titular/titular/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Options wire the console to the running service.
type Options struct {
	// Auth checks API keys at sign-in and authorizes every call.
	Auth *service.Authenticator
	// Tokens verifies the ID tokens of the identity providers in Issuers
	// (authn), which the sign-in page offers beside the API key.
	Tokens  service.TokenVerifier
	Issuers []config.OIDCIssuer
	// Requests, Consents and Ledger are the API's services, called in
	// process.
	Requests lgpdv1.RequestServiceServer
	Consents lgpdv1.ConsentServiceServer
	Ledger   lgpdv1.LedgerServiceServer
	// Record draws up a tenant's record of processing operations (LGPD
	// Art. 37) from its data map (inventory.Build).
	Record RecordSource
	// Cosigned lists the latest checkpoint each configured witness
	// cosigned for a tenant's ledger.
	Cosigned func(ctx context.Context, tenant string) ([]Cosignature, error)
	// VerifyLedger checks a tenant's whole ledger as titular ledger verify
	// --offline does, telling progress how many entries it has checked; a
	// *ledger.Problem error says what does not verify.
	VerifyLedger func(ctx context.Context, tenant string, progress func(done, total uint64)) (VerifyOutcome, error)
	// Tenants lists the configured tenants' ids and display names.
	Tenants func() []config.Tenant
	// StateDir receives the generated session key when SessionKeyFile is
	// empty.
	StateDir, SessionKeyFile string
	// Secure marks the session cookie Secure: true unless the HTTP
	// listener is plaintext on loopback.
	Secure bool
	Log    *slog.Logger
}

// Console is the /console/ handler.
type Console struct {
	opts  Options
	seal  *sealer
	pages map[string]*template.Template
	mux   *http.ServeMux
	idp   providers
	// runs are each tenant's latest ledger verify run (record.go), one at
	// a time per tenant.
	runs struct {
		sync.Mutex
		m map[string]*verifyRun
	}
}

// sections are the nav's entries after the queue, each a page of its own.
var sections = []struct{ Slug, Key string }{
	{"titular", "nav.titular"},
	{"propagacao", "nav.propagation"},
	{"consentimento", "nav.consent"},
	{"registro", "nav.record"},
	{"relatorio", "nav.report"},
}

// New builds the console; it reads or generates the session key.
func New(opts Options) (*Console, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	key, err := sessionKey(opts.SessionKeyFile, opts.StateDir)
	if err != nil {
		return nil, err
	}
	seal, err := newSealer(key, opts.Secure)
	if err != nil {
		return nil, err
	}
	c := &Console{opts: opts, seal: seal, pages: map[string]*template.Template{}}
	c.runs.m = map[string]*verifyRun{}
	funcs := template.FuncMap{"s": s, "status": func(v string) string { return statusNames[v] }, "kind": func(v string) string { return kindNames[v] },
		"when": when, "day": day}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		if p == "templates/layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", p)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", p, err)
		}
		c.pages[p[len("templates/"):]] = t
	}
	assets, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	m.Handle("GET /console/assets/", http.StripPrefix("/console/assets/", http.FileServerFS(assets)))
	m.HandleFunc("GET /console/{$}", c.home)
	m.HandleFunc("GET /console/entrar", c.signInPage)
	m.HandleFunc("POST /console/entrar", c.signIn)
	m.HandleFunc("POST /console/sair", c.signOut)
	if opts.Tokens != nil && len(opts.Issuers) > 0 {
		m.HandleFunc("GET /console/oidc/callback", c.oidcCallback)
		m.HandleFunc("GET /console/oidc/entrar/{issuer}", c.oidcStart)
	}
	m.HandleFunc("GET /console/t/{tenant}/fila", c.signedIn(c.queue))
	// Each page file adds its own routes (pattern "/console/t/{tenant}/…"
	// wrapped in c.signedIn).
	for _, add := range []func(*http.ServeMux){c.requestRoutes, c.titularRoutes, c.propagationRoutes, c.consentRoutes, c.recordRoutes, c.reportRoutes} {
		add(m)
	}
	m.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) { c.notFound(w, r, c.seal.open(r)) })
	c.mux = m
	return c, nil
}

// ServeHTTP refuses every POST whose form lacks the session's CSRF token
// before any handler sees it, and sets headers that keep the pages out of
// frames and caches.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if !csrfOK(c.seal.open(r), r) {
			c.render(w, http.StatusForbidden, "message.html", &view{Title: s("error.title"), Message: s("csrf.refused")})
			return
		}
	}
	c.mux.ServeHTTP(w, r)
}

// view is what every page template receives.
type view struct {
	Title   string
	Session *session
	// Tenant is the tenant shown, with its display name; Tenants are all
	// the signed-in person may switch to.
	Tenant   config.Tenant
	Tenants  []config.Tenant
	Section  string
	Sections any
	Message  string
	Error    string
	Data     any
	// Issuers are the identity providers offered at sign-in.
	Issuers []config.OIDCIssuer
}

func (c *Console) render(w http.ResponseWriter, code int, page string, v *view) {
	v.Sections = sections
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := c.pages[page].Execute(w, v); err != nil {
		c.opts.Log.Warn("console: render failed", "page", page, "error", err.Error())
	}
}

func (c *Console) notFound(w http.ResponseWriter, _ *http.Request, sess *session) {
	c.render(w, http.StatusNotFound, "message.html", &view{Title: s("notfound.title"), Session: sess, Message: s("notfound.body")})
}

// tenantsOf are the configured tenants a session may see, in id order.
func (c *Console) tenantsOf(sess *session) []config.Tenant {
	var out []config.Tenant
	for _, t := range c.opts.Tenants() {
		if sess.All || slices.Contains(sess.Tenants, t.ID) {
			out = append(out, t)
		}
	}
	return out
}

// home sends a visitor to sign in, and a signed-in person to the queue of
// their first tenant.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	sess := c.seal.open(r)
	if !sess.signedIn() {
		http.Redirect(w, r, "/console/entrar", http.StatusSeeOther)
		return
	}
	ts := c.tenantsOf(sess)
	if len(ts) == 0 {
		c.render(w, http.StatusForbidden, "message.html", &view{Title: s("error.title"), Session: sess, Message: s("signin.no_tenant")})
		return
	}
	http.Redirect(w, r, "/console/t/"+ts[0].ID+"/fila", http.StatusSeeOther)
}

// tenantPage is a handler for a page of one tenant the session may see.
type tenantPage func(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal)

// signedIn resolves the session and the tenant in the path: no session
// goes to sign-in; a tenant the session does not cover is "not found",
// the same answer as a tenant that does not exist.
func (c *Console) signedIn(h tenantPage) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := c.seal.open(r)
		if !sess.signedIn() {
			http.Redirect(w, r, "/console/entrar", http.StatusSeeOther)
			return
		}
		if sess.KeySHA256 != "" && !c.current(sess) {
			c.seal.clear(w)
			http.Redirect(w, r, "/console/entrar", http.StatusSeeOther)
			return
		}
		id := r.PathValue("tenant")
		ts := c.tenantsOf(sess)
		i := slices.IndexFunc(ts, func(t config.Tenant) bool { return t.ID == id })
		if i < 0 {
			c.notFound(w, r, sess)
			return
		}
		tenants := sess.Tenants
		if sess.All {
			tenants = []string{"*"}
		}
		h(w, r, &view{Session: sess, Tenant: ts[i], Tenants: ts}, service.NewPrincipal(sess.Name, sess.Role, tenants))
	}
}

// current refreshes an API-key session from the configured key: false
// when the key is gone (revoked, then titular restarted) or its role no
// longer enters the console; else the session takes the key's current
// role and tenants.
func (c *Console) current(sess *session) bool {
	b, err := hex.DecodeString(sess.KeySHA256)
	if err != nil || len(b) != 32 {
		return false
	}
	p, ok := c.opts.Auth.HashPrincipal([32]byte(b))
	if !ok || (p.Role != config.RoleDPO && p.Role != config.RoleAuditor) {
		return false
	}
	sess.Name, sess.Role = p.Name, p.Role
	sess.Tenants, sess.All = p.Tenants()
	return true
}

// call authorizes p for method and req as the API would and returns the
// context to call the service with.
func (c *Console) call(ctx context.Context, p *service.Principal, method string, req any) (context.Context, error) {
	return c.opts.Auth.As(ctx, p, method, req)
}

// apiCode is the gRPC code the API would answer for a service error: the
// services, called in process, return some errors as the sentinels the
// API's edge translates (a bad page token, an invalid CPF, not found).
func apiCode(err error) codes.Code { return service.Code(err) }
