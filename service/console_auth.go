package service

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"slices"
	"strings"
)

// KeyPrincipal is the principal of a configured API key, for the console's
// sign-in: the console exchanges the key for a session once and never
// keeps it.
func (a *Authenticator) KeyPrincipal(key string) (*Principal, [32]byte, bool) {
	sum := sha256.Sum256([]byte(strings.TrimSpace(key)))
	p, ok := a.HashPrincipal(sum)
	return p, sum, ok
}

// HashPrincipal is the principal of the configured API key whose SHA-256
// is sum: the console checks on every page that the key a session was
// opened with is still configured, with its current role and tenants.
func (a *Authenticator) HashPrincipal(sum [32]byte) (*Principal, bool) {
	var p *Principal
	for h, cand := range a.keys {
		if subtle.ConstantTimeCompare(h[:], sum[:]) == 1 {
			p = cand
		}
	}
	return p, p != nil
}

// As authorizes p to call method with req by the same rules as the gRPC
// interceptor (the method's roles, the request's tenant) and returns ctx
// carrying p, so the console calls the service in process under exactly
// the API's authorization.
func (a *Authenticator) As(ctx context.Context, p *Principal, method string, req any) (context.Context, error) {
	if err := authorizeRole(p, method); err != nil {
		return nil, err
	}
	if err := a.authorizeTenant(p, req); err != nil {
		return nil, err
	}
	return context.WithValue(ctx, principalKey{}, p), nil
}

// Tenants lists the tenants the principal may touch; all is true for a
// credential over every tenant ("*").
func (p *Principal) Tenants() (list []string, all bool) {
	for t := range p.tenants {
		if t != "*" {
			list = append(list, t)
		}
	}
	slices.Sort(list)
	return list, p.all
}
