package authn

import (
	"context"
	"regexp"

	"github.com/go-jose/go-jose/v4/jwt"
	"google.golang.org/grpc/codes"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/config"
	"github.com/titular/titular/internal/logsafe"
	"github.com/titular/titular/service"
)

// titularClaims are a titular-bound token's claims.
type titularClaims struct {
	Tenant  string `json:"tenant"`
	Titular *struct {
		CPF   string `json:"cpf"`
		Email string `json:"email"`
		Phone string `json:"phone"`
	} `json:"titular"`
	VerifiedBy string `json:"verified_by"`
}

// verifiedBy is how the portal verified the person: gov.br, sms, email...
var verifiedBy = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

// portalKey names one portal of one tenant.
type portalKey struct{ tenant, issuer string }

// portalKeys are a portal's keys, built from its configuration as last
// seen: a changed configuration (a reload, an edited tenant file) builds
// them again.
type portalKeys struct {
	cfg  config.TitularIssuer
	keys keySet
}

// verifyTitular checks a titular-bound token against the keys of the
// portal it names among its own tenant's titular_tokens.issuers: a token
// signed by another tenant's portal does not verify.
func (v *Verifier) verifyTitular(ctx context.Context, raw string, h hint) (*service.Principal, error) {
	tc, ok := v.opts.Tenant(h.tenant())
	if !ok {
		return nil, invalid("the token's tenant is not configured")
	}
	tt := tc.TitularTokens
	var issuer *config.TitularIssuer
	for i := range tt.Issuers {
		if tt.Issuers[i].Name == h.Issuer {
			issuer = &tt.Issuers[i]
		}
	}
	if issuer == nil {
		return nil, invalid("unknown issuer: the token's iss is not one of its tenant's titular_tokens.issuers")
	}
	keys, err := v.portalKeys(tc.ID, *issuer)
	if err != nil {
		v.log.Warn("token keys: a portal's keys cannot be read", "tenant", tc.ID, "issuer", issuer.Name, "error", logsafe.Error(err))
		return nil, &service.Error{Code: codes.Unavailable, Reason: "KEYS_UNAVAILABLE", Msg: "the portal's keys cannot be read now; retry later"}
	}
	payload, err := keys.VerifySignature(ctx, raw)
	if err != nil {
		return nil, signatureError(err)
	}
	var c jwt.Claims
	var tcl titularClaims
	if err := decodeVerified(payload, &tcl, &c, true); err != nil {
		return nil, err
	}
	if tcl.Tenant != tc.ID {
		return nil, invalid("the token's tenant claim is not its issuer's tenant")
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: issuer.Name, AnyAudience: jwt.Audience{config.TitularAudience}}, leeway); err != nil {
		return nil, claimsError(err, config.TitularAudience)
	}
	if ttl := c.Expiry.Time().Sub(c.IssuedAt.Time()); ttl <= 0 || ttl > tt.MaxTTL {
		return nil, invalid("the token's lifetime (exp - iat) is above the tenant's titular_tokens.max_ttl of %s; issue shorter-lived tokens", tt.MaxTTL)
	}
	claim := &service.TitularClaim{VerifiedBy: tcl.VerifiedBy, Issuer: issuer.Name}
	if !verifiedBy.MatchString(tcl.VerifiedBy) {
		return nil, invalid("verified_by is required: how the portal verified the person, e.g. gov.br, sms or email (letters, digits, '.', '-', '_', ':')")
	}
	if tcl.Titular == nil || tcl.Titular.CPF+tcl.Titular.Email+tcl.Titular.Phone == "" {
		return nil, invalid("the titular claim must hold at least one of cpf, email or phone")
	}
	for _, id := range []struct {
		name, in  string
		out       *string
		normalize func(string) (string, error)
	}{
		{"cpf", tcl.Titular.CPF, &claim.CPF, brdoc.NormalizeCPF},
		{"email", tcl.Titular.Email, &claim.Email, brdoc.NormalizeEmail},
		{"phone", tcl.Titular.Phone, &claim.Phone, brdoc.NormalizePhone},
	} {
		if id.in == "" {
			continue
		}
		n, err := id.normalize(id.in)
		if err != nil {
			// brdoc's messages never quote the input.
			return nil, invalid("the titular claim's %s is not valid: %v", id.name, err)
		}
		*id.out = n
	}
	p := service.NewPrincipal("titular via "+issuer.Name, config.RoleTitular, []string{tc.ID})
	p.Titular = claim
	return p, nil
}

// portalKeys returns the keys of a tenant's portal, building them when
// first needed or when the portal's configuration changed.
func (v *Verifier) portalKeys(tenant string, is config.TitularIssuer) (keySet, error) {
	k := portalKey{tenant, is.Name}
	v.mu.Lock()
	defer v.mu.Unlock()
	if pk := v.portals[k]; pk != nil && pk.cfg == is {
		return pk.keys, nil
	}
	keys, err := v.keySource("tenant "+tenant+" titular_tokens "+is.Name, is.PublicKeyFile, is.JWKSFile, is.JWKSURL, "")
	if err != nil {
		return nil, err
	}
	v.portals[k] = &portalKeys{cfg: is, keys: keys}
	return keys, nil
}
