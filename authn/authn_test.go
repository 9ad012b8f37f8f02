package authn_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"google.golang.org/grpc/codes"

	"github.com/titular/titular/authn"
	"github.com/titular/titular/authn/authntest"
	"github.com/titular/titular/config"
	"github.com/titular/titular/service"
)

const audience = "api://titular"

// staffClaims are an Entra-like token's claims for iss, valid for 5 minutes.
func staffClaims(iss string, extra map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": iss, "aud": audience, "sub": "00000000-sub", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"preferred_username": "maria.dpo@acme.example", "email": "maria@acme.example"}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

// wantErr checks a verification error's code, reason and message part, and
// that the message quotes nothing of the token.
func wantErr(t *testing.T, err error, code codes.Code, reason, says string) {
	t.Helper()
	var de *service.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T), want a *service.Error %s %s", err, err, code, reason)
	}
	if de.Code != code || de.Reason != reason || !strings.Contains(de.Msg, says) {
		t.Fatalf("got %s %s %q; want %s %s mentioning %q", de.Code, de.Reason, de.Msg, code, reason, says)
	}
	for _, leak := range []string{"maria", "acme.example", "00000000-sub", "grp-"} {
		if strings.Contains(de.Msg, leak) {
			t.Errorf("message %q quotes the token (%s)", de.Msg, leak)
		}
	}
}

func TestStaffTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	entra := authntest.NewIssuer(t, jose.RS256)
	keycloak := authntest.NewIssuer(t, jose.ES256)
	discovered := authntest.NewIssuer(t, jose.EdDSA)
	fileKey := authntest.NewKey(t, jose.EdDSA)
	jwksFile := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(jwksFile, authntest.JWKS(t, fileKey), 0o600); err != nil {
		t.Fatal(err)
	}
	const fileIss = "https://idp.example/realms/file"
	v, err := authn.New(authn.Options{MinRefetch: time.Millisecond, Issuers: []config.OIDCIssuer{
		{Name: "entra", Issuer: entra.URL, Audience: audience, JWKSURL: entra.JWKSURL(), NameClaim: "preferred_username", RolesClaim: "groups",
			Roles: []config.OIDCRole{
				{Value: "grp-dpo-acme", Role: config.RoleDPO, Tenants: []string{"acme"}},
				{Value: "grp-dpo-beta", Role: config.RoleDPO, Tenants: []string{"beta"}},
				{Value: "grp-auditors", Role: config.RoleAuditor, Tenants: []string{"*"}},
			}},
		{Name: "keycloak", Issuer: keycloak.URL, Audience: audience, JWKSURL: keycloak.JWKSURL(), NameClaim: "preferred_username",
			RolesClaim: "realm_access.roles", Roles: []config.OIDCRole{{Value: "titular-auditor", Role: config.RoleAuditor, Tenants: []string{"acme"}}}},
		{Name: "discovered", Issuer: discovered.URL, Audience: audience, NameClaim: "preferred_username", RolesClaim: "https://titular.example/roles",
			Roles: []config.OIDCRole{{Value: "backend", Role: config.RoleBackend, Tenants: []string{"acme"}}}},
		{Name: "file", Issuer: fileIss, Audience: audience, JWKSFile: jwksFile, NameClaim: "upn", RolesClaim: "roles",
			Roles: []config.OIDCRole{{Value: "portal", Role: config.RolePortal, Tenants: []string{"acme"}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("groups map to the most privileged role", func(t *testing.T) {
		p, err := v.Verify(ctx, entra.Sign(t, staffClaims(entra.URL, map[string]any{"groups": []string{"grp-auditors", "grp-dpo-acme", "grp-dpo-beta", "grp-other"}})))
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "maria.dpo@acme.example" || p.Role != config.RoleDPO || !p.MayTouch("acme") || !p.MayTouch("beta") || p.MayTouch("gamma") || p.Titular != nil {
			t.Errorf("principal %+v; want dpo maria.dpo@acme.example over acme and beta only", p)
		}
		p, err = v.Verify(ctx, entra.Sign(t, staffClaims(entra.URL, map[string]any{"groups": []string{"grp-auditors"}, "preferred_username": nil})))
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "maria@acme.example" || p.Role != config.RoleAuditor || !p.MayTouch("anything") {
			t.Errorf("principal %+v; want auditor over every tenant, named by email", p)
		}
	})

	t.Run("dotted, namespaced and file-keyed claims", func(t *testing.T) {
		p, err := v.Verify(ctx, keycloak.Sign(t, staffClaims(keycloak.URL, map[string]any{"realm_access": map[string]any{"roles": []string{"offline_access", "titular-auditor"}},
			"preferred_username": nil, "email": nil})))
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "00000000-sub" || p.Role != config.RoleAuditor || !p.MayTouch("acme") || p.MayTouch("beta") {
			t.Errorf("principal %+v; want auditor over acme, named by sub", p)
		}
		// No jwks_url: the discovery document names the JWKS.
		p, err = v.Verify(ctx, discovered.Sign(t, staffClaims(discovered.URL, map[string]any{"https://titular.example/roles": "backend"})))
		if err != nil || p.Role != config.RoleBackend {
			t.Fatalf("discovered issuer: %v, %+v", err, p)
		}
		p, err = v.Verify(ctx, fileKey.Sign(t, staffClaims(fileIss, map[string]any{"roles": []string{"portal"}, "upn": "svc-portal"})))
		if err != nil || p.Role != config.RolePortal || p.Name != "svc-portal" {
			t.Fatalf("JWKS file issuer: %v, %+v", err, p)
		}
	})

	t.Run("refused", func(t *testing.T) {
		groups := map[string]any{"groups": []string{"grp-dpo-acme"}}
		valid := staffClaims(entra.URL, groups)
		with := func(extra map[string]any) map[string]any {
			c := staffClaims(entra.URL, groups)
			for k, x := range extra {
				c[k] = x
			}
			return c
		}
		stranger := authntest.NewKey(t, jose.RS256)
		pub := entra.Key().PublicPEM(t)
		for name, c := range map[string]struct {
			token        string
			code         codes.Code
			reason, says string
		}{
			"expired":                   {entra.Sign(t, with(map[string]any{"exp": time.Now().Add(-2 * time.Minute).Unix()})), codes.Unauthenticated, "INVALID_TOKEN", "expired"},
			"no expiry":                 {entra.Sign(t, staffClaims(entra.URL, map[string]any{"exp": nil, "groups": []string{"grp-dpo-acme"}})), codes.Unauthenticated, "INVALID_TOKEN", "no expiry"},
			"not yet valid":             {entra.Sign(t, with(map[string]any{"nbf": time.Now().Add(time.Hour).Unix()})), codes.Unauthenticated, "INVALID_TOKEN", "not valid yet"},
			"wrong audience":            {entra.Sign(t, with(map[string]any{"aud": []string{"api://other"}})), codes.Unauthenticated, "INVALID_TOKEN", "wrong audience"},
			"unknown issuer":            {entra.Sign(t, with(map[string]any{"iss": "https://evil.example"})), codes.Unauthenticated, "INVALID_TOKEN", "unknown issuer"},
			"other issuer's iss":        {keycloak.Sign(t, valid), codes.Unauthenticated, "INVALID_TOKEN", "bad signature"},
			"key not in JWKS":           {stranger.Sign(t, valid), codes.Unauthenticated, "INVALID_TOKEN", "bad signature"},
			"alg none":                  {authntest.Unsigned(t, valid), codes.Unauthenticated, "INVALID_TOKEN", "algorithm is not accepted"},
			"HS256 with the public key": {authntest.SignHS256(t, pub, valid), codes.Unauthenticated, "INVALID_TOKEN", "algorithm is not accepted"},
			"tampered payload": {func() string {
				parts := strings.Split(entra.Sign(t, valid), ".")
				other := strings.Split(entra.Sign(t, with(map[string]any{"groups": []string{"grp-auditors"}})), ".")
				return parts[0] + "." + other[1] + "." + parts[2]
			}(), codes.Unauthenticated, "INVALID_TOKEN", "bad signature"},
			"no role": {entra.Sign(t, with(map[string]any{"groups": []string{"grp-marketing"}})), codes.PermissionDenied, "NO_ROLE", "ask the administrator"},
			"no name": {entra.Sign(t, staffClaims(entra.URL, map[string]any{"groups": []string{"grp-dpo-acme"}, "preferred_username": nil, "email": nil, "sub": nil})),
				codes.Unauthenticated, "INVALID_TOKEN", "names no caller"},
			"garbage": {"eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", codes.Unauthenticated, "INVALID_TOKEN", "claims"},
		} {
			t.Run(name, func(t *testing.T) {
				p, err := v.Verify(ctx, c.token)
				if p != nil {
					t.Fatalf("accepted as %+v", p)
				}
				wantErr(t, err, c.code, c.reason, c.says)
			})
		}
	})

	t.Run("key rotation", func(t *testing.T) {
		claims := staffClaims(keycloak.URL, map[string]any{"realm_access": map[string]any{"roles": []string{"titular-auditor"}}})
		oldToken := keycloak.Sign(t, claims)
		if _, err := v.Verify(ctx, oldToken); err != nil {
			t.Fatal(err)
		}
		fetches := keycloak.Fetches.Load()
		next := keycloak.Rotate(t, jose.ES256)
		time.Sleep(5 * time.Millisecond) // MinRefetch
		if _, err := v.Verify(ctx, next.Sign(t, claims)); err != nil {
			t.Fatalf("token of the new key: %v", err)
		}
		if keycloak.Fetches.Load() != fetches+1 {
			t.Errorf("%d fetches for an unknown key id, want 1", keycloak.Fetches.Load()-fetches)
		}
		_, err := v.Verify(ctx, oldToken)
		wantErr(t, err, codes.Unauthenticated, "INVALID_TOKEN", "bad signature")
	})

	t.Run("keys unavailable", func(t *testing.T) {
		down := authntest.NewIssuer(t, jose.RS256)
		v, err := authn.New(authn.Options{Issuers: []config.OIDCIssuer{{Name: "down", Issuer: down.URL, Audience: audience, JWKSURL: down.URL + "/missing",
			NameClaim: "sub", RolesClaim: "groups", Roles: []config.OIDCRole{{Value: "g", Role: config.RoleDPO, Tenants: []string{"*"}}}}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(ctx, down.Sign(t, staffClaims(down.URL, map[string]any{"groups": []string{"g"}})))
		wantErr(t, err, codes.Unavailable, "KEYS_UNAVAILABLE", "retry later")
	})
}

// TestRemovedKeyExpires: a key removed from the JWKS stops verifying once
// the fetched keys are older than MaxKeyAge, even if no unknown key id
// ever makes titular fetch them again.
func TestRemovedKeyExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	is := authntest.NewIssuer(t, jose.EdDSA)
	v, err := authn.New(authn.Options{MinRefetch: time.Millisecond, MaxKeyAge: 50 * time.Millisecond, Issuers: []config.OIDCIssuer{{Name: "idp",
		Issuer: is.URL, Audience: audience, JWKSURL: is.JWKSURL(), NameClaim: "sub", RolesClaim: "groups",
		Roles: []config.OIDCRole{{Value: "g", Role: config.RoleDPO, Tenants: []string{"*"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	token := is.Sign(t, staffClaims(is.URL, map[string]any{"groups": []string{"g"}}))
	if _, err := v.Verify(ctx, token); err != nil {
		t.Fatal(err)
	}
	is.Rotate(t, jose.EdDSA)
	if _, err := v.Verify(ctx, token); err != nil {
		t.Fatalf("cached key refused before MaxKeyAge: %v", err)
	}
	time.Sleep(60 * time.Millisecond)
	_, err = v.Verify(ctx, token)
	wantErr(t, err, codes.Unauthenticated, "INVALID_TOKEN", "bad signature")
}
