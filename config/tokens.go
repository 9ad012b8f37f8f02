package config

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// OIDCIssuer is an identity provider whose bearer JWTs sign staff in
// (auth.oidc[]): Entra ID, Keycloak, any OpenID Connect issuer. Its keys
// come from jwks_url (fetched when first needed, cached, refetched on an
// unknown key id), jwks_file, or, with neither, the issuer's discovery
// document.
type OIDCIssuer struct {
	// Name identifies the issuer in logs and errors.
	Name string `yaml:"name"`
	// Issuer is the tokens' iss claim, exactly.
	Issuer string `yaml:"issuer"`
	// Audience must be one of the tokens' aud values.
	Audience string `yaml:"audience"`
	JWKSURL  string `yaml:"jwks_url"`
	JWKSFile string `yaml:"jwks_file"`
	// NameClaim is the claim whose value becomes the caller's name
	// (default preferred_username); email, then sub, when it is absent.
	NameClaim string `yaml:"name_claim"`
	// RolesClaim is the claim listing the caller's groups or roles: a
	// top-level claim, or a dotted path into nested objects
	// (realm_access.roles).
	RolesClaim string `yaml:"roles_claim"`
	// Roles map claim values to a titular role and tenants. When several
	// match, the most privileged role wins (RoleOrder) with the union of
	// the tenants its entries grant.
	Roles []OIDCRole `yaml:"roles"`
}

// OIDCRole grants Role over Tenants to a caller whose roles claim holds
// Value.
type OIDCRole struct {
	Value   string   `yaml:"value"`
	Role    string   `yaml:"role"`
	Tenants []string `yaml:"tenants"`
}

// RoleOrder ranks the staff roles from the most privileged: when a staff
// token's claims map to several roles, the first of this list wins.
var RoleOrder = []string{RoleDPO, RoleBackend, RoleAuditor, RolePortal}

// TitularTokens lets a tenant's portal sign short-lived tokens bound to one
// titular (tenants[].titular_tokens): the portal verifies the person
// (gov.br, an SMS or e-mail code) and signs; titular checks the signature
// against the keys configured here.
type TitularTokens struct {
	// MaxTTL refuses tokens whose exp-iat is above it (default 15m, at
	// most 1h).
	MaxTTL time.Duration `yaml:"max_ttl"`
	// Issuers are the portals the tenant trusts.
	Issuers []TitularIssuer `yaml:"issuers"`
}

// TitularIssuer is one portal: its name (the tokens' iss) and its public
// keys, from exactly one of a PEM file, a JWKS file or a JWKS URL.
type TitularIssuer struct {
	Name          string `yaml:"name"`
	PublicKeyFile string `yaml:"public_key_file"`
	JWKSFile      string `yaml:"jwks_file"`
	JWKSURL       string `yaml:"jwks_url"`
}

// Titular token limits.
const (
	DefaultTitularTTL = 15 * time.Minute
	maxTitularTTL     = time.Hour
	// TitularAudience is the aud every titular-bound token carries.
	TitularAudience = "titular"
)

// issuerName is a portal's name: it is also the tokens' iss claim, so it
// can never be mistaken for an OIDC issuer (a URL).
var issuerName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

func (c *Config) oidcDefaults() {
	for i := range c.Auth.OIDC {
		o := &c.Auth.OIDC[i]
		o.JWKSFile = c.Resolve(o.JWKSFile)
		if o.NameClaim == "" {
			o.NameClaim = "preferred_username"
		}
	}
}

func (t *Tenant) titularTokenDefaults(resolve func(string) string) {
	tt := &t.TitularTokens
	if len(tt.Issuers) > 0 && tt.MaxTTL == 0 {
		tt.MaxTTL = DefaultTitularTTL
	}
	for i := range tt.Issuers {
		tt.Issuers[i].PublicKeyFile = resolve(tt.Issuers[i].PublicKeyFile)
		tt.Issuers[i].JWKSFile = resolve(tt.Issuers[i].JWKSFile)
	}
}

// validateOIDC checks auth.oidc; configured holds the inline tenant ids.
func (c *Config) validateOIDC(configured map[string]bool) []error {
	var errs []error
	names, issuers := map[string]bool{}, map[string]bool{}
	for i, o := range c.Auth.OIDC {
		at := fmt.Sprintf("auth.oidc[%d]", i)
		if !issuerName.MatchString(o.Name) || names[o.Name] {
			errs = append(errs, fmt.Errorf("%s.name: each issuer needs a unique name (lower-case letters, digits, '.', '-', '_'), e.g. entra or keycloak", at))
		}
		names[o.Name] = true
		switch {
		case o.Issuer == "":
			errs = append(errs, fmt.Errorf("%s.issuer: the iss claim of the provider's tokens is required, e.g. https://login.microsoftonline.com/<tenant-id>/v2.0", at))
		case issuers[o.Issuer]:
			errs = append(errs, fmt.Errorf("%s.issuer: %s is listed twice; merge the two entries' roles", at, o.Issuer))
		default:
			if err := checkWebhookURL(o.Issuer); err != nil {
				errs = append(errs, fmt.Errorf("%s.issuer: %w (the iss claim, as the provider writes it)", at, err))
			}
		}
		issuers[o.Issuer] = true
		if o.Audience == "" {
			errs = append(errs, fmt.Errorf("%s.audience: required: the aud the provider puts in tokens for titular "+
				"(Entra ID: the application's client id or Application ID URI; Keycloak: the client an audience mapper adds)", at))
		}
		errs = append(errs, validateKeySource(at, "", o.JWKSFile, o.JWKSURL, false)...)
		if o.RolesClaim == "" {
			errs = append(errs, fmt.Errorf("%s.roles_claim: name the claim listing the caller's groups or roles, e.g. groups (Entra ID) or realm_access.roles (Keycloak)", at))
		}
		if len(o.Roles) == 0 {
			errs = append(errs, fmt.Errorf("%s.roles: map at least one value of %s to a role, e.g. {value: grp-dpo, role: dpo, tenants: [acme]}", at, o.RolesClaim))
		}
		for j, r := range o.Roles {
			rat := fmt.Sprintf("%s.roles[%d]", at, j)
			if r.Value == "" {
				errs = append(errs, fmt.Errorf("%s.value: the claim value (group id or role name) that grants this role", rat))
			}
			if r.Role == RoleTitular {
				errs = append(errs, fmt.Errorf("%s.role: titular is carried only by a portal's titular-bound token; use dpo, backend, auditor or portal", rat))
				errs = append(errs, c.validateTenants(rat, r.Tenants, configured)...)
			} else {
				errs = append(errs, c.validateGrant(rat, r.Role, r.Tenants, configured)...)
			}
		}
	}
	return errs
}

// validateTitularTokens checks a tenant's titular_tokens.
func (t Tenant) validateTitularTokens(at string) []error {
	tt := t.TitularTokens
	at += ".titular_tokens"
	var errs []error
	if len(tt.Issuers) == 0 {
		if tt.MaxTTL != 0 {
			errs = append(errs, fmt.Errorf("%s.issuers: list the portals whose tokens the tenant trusts, or drop titular_tokens", at))
		}
		return errs
	}
	if tt.MaxTTL < time.Minute || tt.MaxTTL > maxTitularTTL {
		errs = append(errs, fmt.Errorf("%s.max_ttl: %s is out of range 1m..1h; titular tokens are short-lived (default 15m)", at, tt.MaxTTL))
	}
	names := map[string]bool{}
	for i, is := range tt.Issuers {
		iat := fmt.Sprintf("%s.issuers[%d]", at, i)
		if !issuerName.MatchString(is.Name) || names[is.Name] {
			errs = append(errs, fmt.Errorf("%s.name: each issuer needs a unique name, the iss its tokens carry "+
				"(lower-case letters, digits, '.', '-', '_'; not a URL), e.g. portal", iat))
		}
		names[is.Name] = true
		errs = append(errs, validateKeySource(iat, is.PublicKeyFile, is.JWKSFile, is.JWKSURL, true)...)
	}
	return errs
}

// validateKeySource checks that at most one (or, when required, exactly
// one) key source is set, that a URL is https (http on loopback only) and
// that a file holds usable public keys.
func validateKeySource(at, pemFile, jwksFile, jwksURL string, required bool) []error {
	n := 0
	for _, s := range []string{pemFile, jwksFile, jwksURL} {
		if s != "" {
			n++
		}
	}
	switch {
	case n > 1 && required:
		return []error{fmt.Errorf("%s: set exactly one of public_key_file, jwks_file or jwks_url", at)}
	case n > 1:
		return []error{fmt.Errorf("%s: set one of jwks_url or jwks_file (or neither, to use the issuer's discovery document)", at)}
	case n == 0 && required:
		return []error{fmt.Errorf("%s: set the portal's public key: public_key_file (PEM), jwks_file or jwks_url", at)}
	}
	var err error
	switch {
	case jwksURL != "":
		if err = checkWebhookURL(jwksURL); err != nil {
			return []error{fmt.Errorf("%s.jwks_url: %w", at, err)}
		}
	case pemFile != "":
		if _, err = ReadPEMPublicKeys(pemFile); err != nil {
			return []error{fmt.Errorf("%s.public_key_file: %w", at, err)}
		}
	case jwksFile != "":
		if _, err = ReadJWKSFile(jwksFile); err != nil {
			return []error{fmt.Errorf("%s.jwks_file: %w", at, err)}
		}
	}
	return nil
}

// ReadPEMPublicKeys reads the public keys of a PEM file: PUBLIC KEY blocks
// (PKIX: Ed25519, ECDSA P-256, RSA of 2048 bits or more), RSA PUBLIC KEY
// blocks, or CERTIFICATE blocks whose keys are taken as they are.
func ReadPEMPublicKeys(path string) ([]crypto.PublicKey, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: a key file the operator configured
	if err != nil {
		return nil, fmt.Errorf("%w; the portal's public key file must be readable by titular", err)
	}
	var keys []crypto.PublicKey
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		var k any
		switch b.Type {
		case "PUBLIC KEY":
			k, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "RSA PUBLIC KEY":
			k, err = x509.ParsePKCS1PublicKey(b.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(b.Bytes); err == nil {
				k = cert.PublicKey
			}
		default:
			if strings.Contains(b.Type, "PRIVATE") {
				return nil, fmt.Errorf("%s holds a private key; give titular only the public key (openssl pkey -in key.pem -pubout)", path)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: a %s block does not parse: %w", path, b.Type, err)
		}
		if err := checkPublicKey(k); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no PEM public key; write the portal's key as -----BEGIN PUBLIC KEY----- (openssl pkey -in key.pem -pubout)", path)
	}
	return keys, nil
}

// ReadJWKSFile reads the public keys of a JWKS file ({"keys": [...]}).
func ReadJWKSFile(path string) ([]crypto.PublicKey, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: a key file the operator configured
	if err != nil {
		return nil, fmt.Errorf("%w; the JWKS file must be readable by titular", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%s is not a JWKS ({\"keys\": [...]}) of supported keys (RSA, EC P-256, Ed25519): %w", path, err)
	}
	var keys []crypto.PublicKey
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return nil, fmt.Errorf("%s: keys[%d] is a private key; publish only public keys", path, i)
		}
		if k.Use != "" && k.Use != "sig" {
			continue // an encryption key: not for verifying
		}
		switch k.Algorithm {
		case "", string(jose.RS256), string(jose.ES256), string(jose.EdDSA):
		default:
			return nil, fmt.Errorf("%s: keys[%d] is for %s; titular accepts RS256, ES256 and EdDSA", path, i, k.Algorithm)
		}
		if err := checkPublicKey(k.Key); err != nil {
			return nil, fmt.Errorf("%s: keys[%d]: %w", path, i, err)
		}
		keys = append(keys, k.Key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no signing key; list the issuer's public keys under \"keys\"", path)
	}
	return keys, nil
}

// checkPublicKey accepts the keys of RS256, ES256 and EdDSA.
func checkPublicKey(k any) error {
	switch k := k.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("an RSA key of %d bits is too weak; use 2048 bits or more, or Ed25519", k.N.BitLen())
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return errors.New("only ECDSA keys on P-256 (ES256) are accepted; use P-256 or Ed25519")
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("a %T key is not accepted; use Ed25519, ECDSA P-256 or RSA (2048 bits or more)", k)
	}
	return nil
}
