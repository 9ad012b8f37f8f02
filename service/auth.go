package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/titular/titular/config"
)

// Principal is the authenticated caller.
type Principal struct {
	// Name is what requests, events and the ledger record as the caller:
	// a key's or client's configured name, a staff member's name from the
	// identity provider, or "titular via <issuer>" (never the titular's
	// identifiers).
	Name    string
	Role    string
	tenants map[string]bool
	all     bool
	// Titular is the person a titular-bound token names (Role titular):
	// the caller may act for this person only.
	Titular *TitularClaim
}

// TitularClaim is the person a titular-bound token was issued for: the
// identifiers the portal verified, normalized, and how it verified them.
type TitularClaim struct {
	CPF, Email, Phone string
	// VerifiedBy is the portal's verification method: "gov.br", "sms",
	// "email", ...
	VerifiedBy string
	// Issuer is the configured name of the portal that signed the token.
	Issuer string
}

// NewPrincipal is a caller with a role over tenants ("*" for all).
func NewPrincipal(name, role string, tenants []string) *Principal {
	return newPrincipal(name, role, tenants)
}

// MayTouch reports whether the caller's credential covers tenant.
func (p *Principal) MayTouch(tenant string) bool { return p.all || p.tenants[tenant] }

type principalKey struct{}

// PrincipalFrom returns the caller authenticated for ctx.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok
}

// Authenticator checks bearer API keys against their configured hashes and
// each RPC against the roles allowed to call it.
type Authenticator struct {
	keys  map[[32]byte]*Principal
	known func(tenant string) bool
	// certs maps a client certificate's subject (common name, DNS or URI
	// name) to the principal it authenticates, for mutual TLS.
	certs map[string]*Principal
	// tokens verifies bearer JWTs; nil, every bearer value is an API key.
	tokens TokenVerifier
}

// TokenVerifier authenticates bearer JWTs: staff tokens of an identity
// provider and portals' titular-bound tokens (package authn). Its errors
// are *Error values (INVALID_TOKEN saying why, without the token's
// contents); any other error is reported as INVALID_TOKEN.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (*Principal, error)
}

// WithTokens lets bearer JWTs authenticate through v. Bearer values that
// are not shaped as a JWT stay API keys.
func (a *Authenticator) WithTokens(v TokenVerifier) *Authenticator {
	a.tokens = v
	return a
}

// looksLikeJWT reports whether a bearer value is a compact JWS: three
// base64url segments, the first a JSON object (the header). API keys are
// opaque and do not take this shape.
func looksLikeJWT(s string) bool {
	h, rest, ok := strings.Cut(s, ".")
	if !ok || strings.Count(rest, ".") != 1 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	return err == nil && bytes.HasPrefix(b, []byte("{")) && json.Valid(b)
}

// verifyToken authenticates a bearer JWT through the configured verifier.
func (a *Authenticator) verifyToken(ctx context.Context, token string) (*Principal, error) {
	p, err := a.tokens.Verify(ctx, token)
	var de *Error
	switch {
	case errors.As(err, &de):
		return nil, de
	case err != nil || p == nil || (p.Role == config.RoleTitular) != (p.Titular != nil):
		return nil, errorf(codes.Unauthenticated, "INVALID_TOKEN", "the bearer token could not be verified; sign in again")
	}
	return p, nil
}

// NewAuthenticator indexes the configured keys by hash. known reports
// whether a tenant id is configured.
func NewAuthenticator(keys []config.APIKey, known func(string) bool) *Authenticator {
	a := &Authenticator{keys: map[[32]byte]*Principal{}, known: known}
	for _, k := range keys {
		var h [32]byte
		b, err := hex.DecodeString(strings.ToLower(k.KeySHA256))
		if err != nil || len(b) != 32 {
			continue // config validation already rejected it
		}
		copy(h[:], b)
		a.keys[h] = newPrincipal(k.Name, k.Role, k.Tenants)
	}
	return a
}

func newPrincipal(name, role string, tenants []string) *Principal {
	p := &Principal{Name: name, Role: role, tenants: map[string]bool{}}
	for _, t := range tenants {
		p.all = p.all || t == "*"
		p.tenants[t] = true
	}
	return p
}

// WithClientCerts lets verified TLS client certificates authenticate as
// the configured clients. The TLS handshake has already checked the
// certificate against the client CAs; this maps its identity to rights.
func (a *Authenticator) WithClientCerts(clients []config.TLSClient) *Authenticator {
	a.certs = map[string]*Principal{}
	for _, c := range clients {
		a.certs[c.Subject] = newPrincipal(c.Name, c.Role, c.Tenants)
	}
	return a
}

// certPrincipal is the principal of the connection's verified client
// certificate, or nil. Only a chain verified against the client CAs
// counts; the leaf's common name, then its DNS and URI names, are looked
// up.
func (a *Authenticator) certPrincipal(ctx context.Context) *Principal {
	if len(a.certs) == 0 {
		return nil
	}
	pr, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	info, ok := pr.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return nil
	}
	leaf := info.State.VerifiedChains[0][0]
	names := append([]string{leaf.Subject.CommonName}, leaf.DNSNames...)
	for _, u := range leaf.URIs {
		names = append(names, u.String())
	}
	for _, n := range names {
		if p := a.certs[n]; p != nil && n != "" {
			return p
		}
	}
	return nil
}

// methodRoles lists, per RPC, the roles that may call it. An RPC missing here
// is refused: new RPCs must be given a rule.
var methodRoles = map[string][]string{
	"/lgpd.v1.RequestService/CreateRequest":       {config.RoleDPO, config.RoleBackend, config.RoleTitular},
	"/lgpd.v1.RequestService/GetRequest":          {config.RoleDPO, config.RoleBackend, config.RoleAuditor, config.RoleTitular},
	"/lgpd.v1.RequestService/ListRequests":        {config.RoleDPO, config.RoleBackend, config.RoleAuditor, config.RoleTitular},
	"/lgpd.v1.RequestService/ApproveRequest":      {config.RoleDPO},
	"/lgpd.v1.RequestService/VerifyRequest":       {config.RoleDPO},
	"/lgpd.v1.RequestService/DenyRequest":         {config.RoleDPO},
	"/lgpd.v1.RequestService/LiftBlock":           {config.RoleDPO},
	"/lgpd.v1.RequestService/CompleteReview":      {config.RoleDPO},
	"/lgpd.v1.RequestService/CancelRequest":       {config.RoleDPO, config.RoleBackend},
	"/lgpd.v1.RequestService/DownloadExport":      {config.RoleDPO, config.RoleBackend, config.RoleTitular},
	"/lgpd.v1.RequestService/ListAccessLog":       {config.RoleDPO, config.RoleAuditor},
	"/lgpd.v1.RequestService/GetRequestStats":     {config.RoleDPO, config.RoleAuditor},
	"/lgpd.v1.RequestService/GetReceipt":          {config.RoleDPO, config.RoleBackend, config.RoleAuditor, config.RoleTitular},
	"/lgpd.v1.ConsentService/ListPurposes":        {config.RoleDPO, config.RoleBackend, config.RoleAuditor, config.RoleTitular},
	"/lgpd.v1.ConsentService/CreatePurpose":       {config.RoleDPO},
	"/lgpd.v1.ConsentService/PublishTerm":         {config.RoleDPO},
	"/lgpd.v1.ConsentService/SearchConsents":      {config.RoleDPO, config.RoleBackend, config.RoleTitular},
	"/lgpd.v1.ConsentService/ListConsentSubjects": {config.RoleDPO, config.RoleBackend},
	"/lgpd.v1.ConsentService/GetTerm":             {config.RoleDPO, config.RoleBackend, config.RoleAuditor, config.RoleTitular},
	"/lgpd.v1.ConsentService/ListDeliveries":      {config.RoleDPO},
	"/lgpd.v1.ConsentService/RetryDeliveries":     {config.RoleDPO},
	"/lgpd.v1.IncidentService/CreateIncident":     {config.RoleDPO},
	"/lgpd.v1.IncidentService/GetIncident":        {config.RoleDPO},
	"/lgpd.v1.IncidentService/ListIncidents":      {config.RoleDPO},
	"/lgpd.v1.IncidentService/UpdateIncident":     {config.RoleDPO},
	"/lgpd.v1.IncidentService/NotifyIncident":     {config.RoleDPO},
	"/lgpd.v1.LedgerService/GetCheckpoint":        {config.RoleDPO, config.RoleAuditor, config.RoleBackend},
	"/lgpd.v1.LedgerService/ListEntries":          {config.RoleDPO, config.RoleAuditor},
	"/lgpd.v1.LedgerService/GetInclusionProof":    {config.RoleDPO, config.RoleAuditor, config.RoleBackend},
	"/lgpd.v1.LedgerService/GetConsistencyProof":  {config.RoleDPO, config.RoleAuditor, config.RoleBackend},
	"/lgpd.v1.LedgerService/GetPublicKey":         {config.RoleDPO, config.RoleAuditor, config.RoleBackend, config.RoleTitular},
}

// public methods need no credential: health checks and reflection.
func public(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.Health/") || strings.HasPrefix(method, "/grpc.reflection.")
}

func (a *Authenticator) authenticate(ctx context.Context, method string) (*Principal, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var token string
	for _, v := range md.Get("authorization") {
		if after, ok := strings.CutPrefix(v, "Bearer "); ok {
			token = strings.TrimSpace(after)
		}
	}
	var p *Principal
	switch {
	case token != "":
		p, _ = a.HashPrincipal(sha256.Sum256([]byte(token)))
		if p == nil && a.tokens != nil && looksLikeJWT(token) {
			var err error
			if p, err = a.verifyToken(ctx, token); err != nil {
				return nil, err
			}
		}
		if p == nil {
			return nil, errorf(codes.Unauthenticated, "INVALID_CREDENTIALS", "the API key is not valid; check it or ask the operator for a new one")
		}
	default:
		if p = a.certPrincipal(ctx); p == nil {
			how := "send an API key as 'Authorization: Bearer KEY'"
			if a.tokens != nil {
				how = "send an API key or a sign-in token as 'Authorization: Bearer …'"
			}
			if len(a.certs) > 0 {
				how += " or connect with a configured client certificate"
			}
			return nil, errorf(codes.Unauthenticated, "MISSING_CREDENTIALS", "%s", how)
		}
	}
	if err := authorizeRole(p, method); err != nil {
		return nil, err
	}
	return p, nil
}

// authorizeRole checks p's role against the roles method allows.
func authorizeRole(p *Principal, method string) error {
	roles, ok := methodRoles[method]
	if !ok {
		return errorf(codes.PermissionDenied, "NO_RULE", "no authorization rule covers %s", method)
	}
	if !slices.Contains(roles, p.Role) {
		return errorf(codes.PermissionDenied, "ROLE_NOT_ALLOWED", "role %s may not call %s; allowed: %s", p.Role, method, strings.Join(roles, ", "))
	}
	return nil
}

type tenantScoped interface{ GetTenant() string }

func (a *Authenticator) authorizeTenant(p *Principal, msg any) error {
	ts, ok := msg.(tenantScoped)
	if !ok {
		return nil
	}
	t := ts.GetTenant()
	switch {
	case t == "":
		return invalid("TENANT_REQUIRED", "tenant is required")
	case !a.known(t):
		return errorf(codes.NotFound, "TENANT_NOT_FOUND", "tenant is not configured; check the tenant id")
	case !p.MayTouch(t):
		return errorf(codes.PermissionDenied, "TENANT_NOT_ALLOWED", "this credential may not act on tenant %s", t)
	}
	return nil
}

// Unary authenticates the caller, checks the RPC's role rule and the
// request's tenant, and puts the Principal in the context.
func (a *Authenticator) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if public(info.FullMethod) {
			return h(ctx, req)
		}
		p, err := a.authenticate(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		if err := a.authorizeTenant(p, req); err != nil {
			return nil, err
		}
		return h(context.WithValue(ctx, principalKey{}, p), req)
	}
}

// Stream does the same for streaming RPCs, checking the tenant of every
// message the client sends.
func (a *Authenticator) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if public(info.FullMethod) {
			return h(srv, ss)
		}
		p, err := a.authenticate(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return h(srv, &authedStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), principalKey{}, p), a: a, p: p})
	}
}

type authedStream struct {
	grpc.ServerStream
	ctx context.Context
	a   *Authenticator
	p   *Principal
}

func (s *authedStream) Context() context.Context { return s.ctx }

func (s *authedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.a.authorizeTenant(s.p, m)
}
