// Package authn verifies the bearer JWTs titular accepts beside API keys
// and client certificates:
//
//   - staff tokens of an OpenID Connect identity provider (auth.oidc[]:
//     Entra ID, Keycloak, ...), whose groups or roles claim maps to a
//     titular role and tenants;
//   - titular-bound tokens a tenant's portal signs (tenants[].titular_tokens)
//     after verifying a person: role titular, for that person and tenant
//     only.
//
// A token is told from the other by its iss: a configured OIDC issuer
// (a URL) makes it a staff token; any other iss, with a tenant claim, is
// looked up among that tenant's portals. Only RS256, ES256 and EdDSA
// signatures are accepted. Errors say what was wrong (expired, wrong
// audience, unknown issuer, bad signature, ...) and never quote the
// token's contents.
package authn

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"google.golang.org/grpc/codes"

	"github.com/titular/titular/config"
	"github.com/titular/titular/service"
)

// Algorithms are the signature algorithms accepted: never none, never an
// HMAC (whose secret a public key could be mistaken for).
var Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

const (
	// maxTokenBytes bounds the bearer value parsed.
	maxTokenBytes = 16 << 10
	// leeway is the clock skew tolerated on exp, nbf and iat.
	leeway = time.Minute
	// fetchTimeout bounds one fetch of a JWKS or discovery document.
	fetchTimeout = 10 * time.Second
	// minRefetch is the least time between two fetches of one JWKS: a
	// flood of tokens with unknown key ids costs the identity provider one
	// fetch per interval, not one per token.
	minRefetch = time.Second
	// maxKeyAge is how long fetched keys are trusted before they are
	// fetched again, so a key removed from a JWKS stops verifying even if
	// no token with an unknown key id comes along.
	maxKeyAge = 10 * time.Minute
)

// Options configure a Verifier.
type Options struct {
	// Issuers are the staff identity providers (auth.oidc).
	Issuers []config.OIDCIssuer
	// Tenant returns a tenant's current configuration, for its
	// titular_tokens; nil, no titular token is accepted.
	Tenant func(id string) (config.Tenant, bool)
	Log    *slog.Logger
	// Transport fetches JWKS and discovery documents (default
	// http.DefaultTransport).
	Transport http.RoundTripper
	// MinRefetch and MaxKeyAge override minRefetch and maxKeyAge (tests).
	MinRefetch, MaxKeyAge time.Duration
}

// Verifier verifies staff and titular-bound tokens. It fetches nothing
// when built: a JWKS is fetched when a token first needs it.
type Verifier struct {
	opts  Options
	log   *slog.Logger
	staff map[string]*staffIssuer // by iss

	mu      sync.Mutex
	portals map[portalKey]*portalKeys
}

// New builds a Verifier; it reads the JWKS files of opts.Issuers.
func New(opts Options) (*Verifier, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport
	}
	if opts.MinRefetch == 0 {
		opts.MinRefetch = minRefetch
	}
	if opts.MaxKeyAge == 0 {
		opts.MaxKeyAge = maxKeyAge
	}
	v := &Verifier{opts: opts, log: opts.Log, staff: map[string]*staffIssuer{}, portals: map[portalKey]*portalKeys{}}
	for _, o := range opts.Issuers {
		keys, err := v.keySource("auth.oidc "+o.Name, "", o.JWKSFile, o.JWKSURL, o.Issuer)
		if err != nil {
			return nil, fmt.Errorf("auth.oidc %s: %w", o.Name, err)
		}
		v.staff[o.Issuer] = &staffIssuer{cfg: o, keys: keys}
	}
	return v, nil
}

// keySource is where an issuer's public keys come from: a PEM file, a
// JWKS file, a JWKS URL, or (for an OIDC issuer with neither) the JWKS its
// discovery document names.
func (v *Verifier) keySource(what, pemFile, jwksFile, jwksURL, discoverFrom string) (keySet, error) {
	switch {
	case pemFile != "":
		return newFileKeys(what, pemFile, config.ReadPEMPublicKeys, v.log)
	case jwksFile != "":
		return newFileKeys(what, jwksFile, config.ReadJWKSFile, v.log)
	default:
		return newRemoteKeys(what, jwksURL, discoverFrom, v.opts), nil
	}
}

// hint is what a token says about itself before its signature is checked:
// enough to pick the keys to check it with, never trusted beyond that.
type hint struct {
	Issuer string `json:"iss"`
	// Tenant is a titular token's tenant; a staff token may carry a
	// tenant claim of any shape, so it is read only as a string.
	Tenant any `json:"tenant"`
}

func (h hint) tenant() string {
	s, _ := h.Tenant.(string)
	return s
}

// Verify authenticates a bearer JWT. Errors are *service.Error:
// Unauthenticated INVALID_TOKEN with the reason, PermissionDenied NO_ROLE
// for a valid staff token that maps to no role, Unavailable
// KEYS_UNAVAILABLE when the issuer's keys cannot be fetched.
func (v *Verifier) Verify(ctx context.Context, raw string) (*service.Principal, error) {
	if len(raw) > maxTokenBytes {
		return nil, invalid("the token is larger than 16 KiB")
	}
	if err := checkAlgorithm(raw); err != nil {
		return nil, err
	}
	tok, err := jwt.ParseSigned(raw, Algorithms)
	if err != nil {
		return nil, invalid("the token is not a well-formed signed JWT")
	}
	var h hint
	if err := tok.UnsafeClaimsWithoutVerification(&h); err != nil {
		return nil, invalid("the token's claims are not a JSON object with a string iss")
	}
	if s := v.staff[h.Issuer]; s != nil {
		return s.verify(ctx, raw)
	}
	if h.tenant() != "" && h.Issuer != "" && v.opts.Tenant != nil {
		return v.verifyTitular(ctx, raw, h)
	}
	return nil, invalid("unknown issuer: the token's iss is not an identity provider in auth.oidc, and it names no tenant whose titular_tokens could list it")
}

// checkAlgorithm refuses a token whose header names an algorithm outside
// Algorithms, saying so (alg none, HS256 with a public key as the secret).
func checkAlgorithm(raw string) error {
	seg, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	var h struct {
		Alg string `json:"alg"`
	}
	if err != nil || json.Unmarshal(b, &h) != nil {
		return invalid("the token's header is not base64url-encoded JSON")
	}
	if !slices.Contains(Algorithms, jose.SignatureAlgorithm(h.Alg)) {
		return invalid("the token's signing algorithm is not accepted; sign with RS256, ES256 or EdDSA (never none or an HMAC)")
	}
	return nil
}

// claimsError says which registered claim made a token invalid.
func claimsError(err error, audience string) error {
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return invalid("the token has expired; get a new one")
	case errors.Is(err, jwt.ErrInvalidAudience):
		return invalid("wrong audience: the token is not issued for titular (its aud must include %s)", audience)
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return invalid("unknown issuer: the token's iss does not match the issuer its keys belong to")
	case errors.Is(err, jwt.ErrNotValidYet):
		return invalid("the token is not valid yet (nbf); check the issuer's clock")
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return invalid("the token is issued in the future (iat); check the issuer's clock")
	}
	return invalid("the token's registered claims (iss, aud, exp, nbf, iat) are not valid")
}

// signatureError reports a signature that did not verify, or keys that
// could not be had.
func signatureError(err error) error {
	if errors.Is(err, errKeysUnavailable) {
		return &service.Error{Code: codes.Unavailable, Reason: "KEYS_UNAVAILABLE",
			Msg: "the token issuer's keys cannot be fetched now; retry later"}
	}
	return invalid("bad signature: no key of the token's issuer verifies it (a rotated-out key, or a token signed elsewhere)")
}

func invalid(format string, args ...any) error {
	return &service.Error{Code: codes.Unauthenticated, Reason: "INVALID_TOKEN", Msg: "invalid token: " + fmt.Sprintf(format, args...)}
}

// decodeVerified decodes a verified payload into the registered claims and
// dst; exp (and iat when wantIAT) are required.
func decodeVerified(payload []byte, dst any, c *jwt.Claims, wantIAT bool) error {
	if json.Unmarshal(payload, c) != nil || (dst != nil && json.Unmarshal(payload, dst) != nil) {
		return invalid("the token's claims do not decode (exp, iat and nbf are numbers; aud a string or a list)")
	}
	if c.Expiry == nil {
		return invalid("the token has no expiry (exp); the issuer must set one")
	}
	if wantIAT && c.IssuedAt == nil {
		return invalid("the token has no issue time (iat); the issuer must set one")
	}
	return nil
}
