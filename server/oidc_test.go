package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/authn/authntest"
	"github.com/titular/titular/seed"
)

const staffAudience = "api://titular"

// tokenEnv is titular with two identity providers (Entra-like groups,
// Keycloak-like realm roles) and a portal per tenant, all on loopback.
type tokenEnv struct {
	*testEnv
	entra, keycloak         *authntest.Issuer
	demoPortal, otherPortal authntest.Key
	titular                 seed.Scenario
}

func newTokenEnv(t *testing.T) *tokenEnv {
	t.Helper()
	e := &tokenEnv{entra: authntest.NewIssuer(t, jose.RS256), keycloak: authntest.NewIssuer(t, jose.ES256),
		demoPortal: authntest.NewKey(t, jose.EdDSA), otherPortal: authntest.NewKey(t, jose.ES256)}
	dir := t.TempDir()
	demoKey, otherKey := filepath.Join(dir, "demo-portal.pem"), filepath.Join(dir, "other-portal.pem")
	for path, k := range map[string]authntest.Key{demoKey: e.demoPortal, otherKey: e.otherPortal} {
		if err := os.WriteFile(path, k.PublicPEM(t), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.testEnv = newTestEnv(t, 20, func(y string) string {
		y = strings.Replace(y, "{id: demo, ", fmt.Sprintf("{id: demo, titular_tokens: {max_ttl: 10m, issuers: [{name: portal, public_key_file: %q}]}, ", demoKey), 1)
		y = strings.Replace(y, "{id: other, ", fmt.Sprintf("{id: other, titular_tokens: {issuers: [{name: portal, public_key_file: %q}]}, ", otherKey), 1)
		return strings.Replace(y, "auth:\n", fmt.Sprintf(`auth:
  oidc:
    - name: entra
      issuer: %q
      audience: %s
      jwks_url: %q
      roles_claim: groups
      roles:
        - {value: grp-dpo-demo, role: dpo, tenants: [demo]}
        - {value: grp-auditors, role: auditor, tenants: ["*"]}
    - name: keycloak
      issuer: %q
      audience: %s
      jwks_url: %q
      roles_claim: realm_access.roles
      roles: [{value: titular-auditor, role: auditor, tenants: [demo]}]
`, e.entra.URL, staffAudience, e.entra.JWKSURL(), e.keycloak.URL, staffAudience, e.keycloak.JWKSURL()), 1)
	})
	for _, s := range e.scenarios {
		if s.CPF != "" {
			e.titular = s
			break
		}
	}
	return e
}

// staff is a staff token's claims from iss, valid for five minutes.
func staffToken(iss string, edit map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": iss, "aud": staffAudience, "sub": "a1b2c3", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"preferred_username": "maria.dpo@titular.test"}
	for k, v := range edit {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

// portalToken is a titular-bound token's claims for s in tenant.
func portalToken(tenant string, s seed.Scenario, edit map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": "portal", "aud": "titular", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "tenant": tenant,
		"titular": map[string]any{"cpf": s.CPF}, "verified_by": "gov.br"}
	for k, v := range edit {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

func (e *tokenEnv) requests(ctx context.Context, token string) (context.Context, lgpdv1.RequestServiceClient) {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token), lgpdv1.NewRequestServiceClient(e.grpc)
}

// wantRefused checks a gRPC error's code and reason.
func wantRefused(t *testing.T, err error, code codes.Code, says string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code || !strings.Contains(st.Message(), says) {
		t.Errorf("%v; want %s mentioning %q", err, code, says)
	}
}

func TestOIDCStaffSignIn(t *testing.T) {
	e := newTokenEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dpo := e.entra.Sign(t, staffToken(e.entra.URL, map[string]any{"groups": []string{"grp-marketing", "grp-dpo-demo"}}))

	t.Run("dpo via groups over gRPC and REST", func(t *testing.T) {
		cctx, client := e.requests(ctx, dpo)
		if _, err := client.ListRequests(cctx, &lgpdv1.ListRequestsRequest{Tenant: "demo"}); err != nil {
			t.Fatalf("ListRequests: %v", err)
		}
		r, err := client.CreateRequest(cctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM,
			Subject: &lgpdv1.Subject{Cpf: e.titular.CPF}})
		if err != nil {
			t.Fatalf("CreateRequest: %v", err)
		}
		if r.GetCreatedBy() != "maria.dpo@titular.test" {
			t.Errorf("created_by %q, want the staff member's preferred_username", r.GetCreatedBy())
		}
		code, _, b := e.rest(t, "GET", "/v1/tenants/demo/requests/"+r.GetId(), dpo, nil)
		if code != http.StatusOK || !strings.Contains(string(b), `"created_by":"maria.dpo@titular.test"`) {
			t.Errorf("REST get with the token: HTTP %d %s", code, b)
		}
		// The token's groups give dpo on demo only.
		if code, _, b := e.rest(t, "GET", "/v1/tenants/other/requests", dpo, nil); code != http.StatusForbidden {
			t.Errorf("REST on a tenant the groups do not grant: HTTP %d %s", code, b)
		}
	})

	t.Run("auditor via realm_access.roles", func(t *testing.T) {
		token := e.keycloak.Sign(t, staffToken(e.keycloak.URL, map[string]any{"realm_access": map[string]any{"roles": []string{"offline_access", "titular-auditor"}}}))
		cctx, client := e.requests(ctx, token)
		if _, err := client.ListRequests(cctx, &lgpdv1.ListRequestsRequest{Tenant: "demo"}); err != nil {
			t.Fatalf("ListRequests as auditor: %v", err)
		}
		_, err := client.CreateRequest(cctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: e.titular.CPF}})
		wantRefused(t, err, codes.PermissionDenied, "role auditor may not call")
		if code, _, b := e.rest(t, "GET", "/v1/tenants/demo/requests", token, nil); code != http.StatusOK {
			t.Errorf("REST as auditor: HTTP %d %s", code, b)
		}
	})

	t.Run("key rotation", func(t *testing.T) {
		old := e.entra.Key()
		next := e.entra.Rotate(t, jose.RS256)
		time.Sleep(1100 * time.Millisecond) // at most one JWKS fetch a second per issuer
		claims := staffToken(e.entra.URL, map[string]any{"groups": []string{"grp-dpo-demo"}})
		cctx, client := e.requests(ctx, next.Sign(t, claims))
		if _, err := client.ListRequests(cctx, &lgpdv1.ListRequestsRequest{Tenant: "demo"}); err != nil {
			t.Fatalf("token of the rotated-in key: %v", err)
		}
		cctx, client = e.requests(ctx, old.Sign(t, claims))
		_, err := client.ListRequests(cctx, &lgpdv1.ListRequestsRequest{Tenant: "demo"})
		wantRefused(t, err, codes.Unauthenticated, "bad signature")
	})

	t.Run("refused", func(t *testing.T) {
		groups := map[string]any{"groups": []string{"grp-dpo-demo"}}
		with := func(extra map[string]any) map[string]any {
			c := staffToken(e.entra.URL, groups)
			for k, v := range extra {
				c[k] = v
			}
			return c
		}
		for name, c := range map[string]struct {
			token string
			code  codes.Code
			says  string
		}{
			"expired":         {e.entra.Sign(t, with(map[string]any{"exp": time.Now().Add(-10 * time.Minute).Unix()})), codes.Unauthenticated, "expired"},
			"wrong audience":  {e.entra.Sign(t, with(map[string]any{"aud": "api://someone-else"})), codes.Unauthenticated, "wrong audience"},
			"wrong issuer":    {e.entra.Sign(t, with(map[string]any{"iss": "https://login.evil.example/v2.0"})), codes.Unauthenticated, "unknown issuer"},
			"alg none":        {authntest.Unsigned(t, with(nil)), codes.Unauthenticated, "algorithm is not accepted"},
			"key not in JWKS": {authntest.NewKey(t, jose.RS256).Sign(t, with(nil)), codes.Unauthenticated, "bad signature"},
			"HS256 with the public key": {authntest.SignHS256(t, e.entra.Key().PublicPEM(t), with(nil)), codes.Unauthenticated,
				"algorithm is not accepted"},
			"no mapped group": {e.entra.Sign(t, with(map[string]any{"groups": []string{"grp-marketing"}})), codes.PermissionDenied, "no value of its groups claim"},
		} {
			t.Run(name, func(t *testing.T) {
				cctx, client := e.requests(ctx, c.token)
				_, err := client.ListRequests(cctx, &lgpdv1.ListRequestsRequest{Tenant: "demo"})
				wantRefused(t, err, c.code, c.says)
			})
		}
		// Over REST: 401 with the reason.
		code, _, b := e.rest(t, "GET", "/v1/tenants/demo/requests", e.entra.Sign(t, with(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})), nil)
		if code != http.StatusUnauthorized || decode[restError](t, b).reason() != "INVALID_TOKEN" {
			t.Errorf("expired token over REST: HTTP %d %s", code, b)
		}
	})
}

func TestTitularTokenSignIn(t *testing.T) {
	e := newTokenEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	token := e.demoPortal.Sign(t, portalToken("demo", e.titular, nil))

	t.Run("allowed for its titular", func(t *testing.T) {
		cctx, client := e.requests(ctx, token)
		if _, err := client.ListRequests(cctx, &lgpdv1.ListRequestsRequest{Tenant: "demo"}); err != nil {
			t.Fatalf("ListRequests with a titular token: %v", err)
		}
		r, err := client.CreateRequest(cctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM,
			Subject: &lgpdv1.Subject{Cpf: e.titular.CPF}})
		if err != nil {
			t.Fatalf("CreateRequest for the token's titular: %v", err)
		}
		if r.GetCreatedBy() != "titular via portal" {
			t.Errorf("created_by %q, want titular via portal", r.GetCreatedBy())
		}
		if code, _, b := e.rest(t, "GET", "/v1/tenants/demo/requests", token, nil); code != http.StatusOK {
			t.Errorf("REST list with a titular token: HTTP %d %s", code, b)
		}
	})

	t.Run("staff RPCs and other tenants refused", func(t *testing.T) {
		cctx, client := e.requests(ctx, token)
		_, err := client.ApproveRequest(cctx, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: "00000000-0000-0000-0000-000000000000"})
		wantRefused(t, err, codes.PermissionDenied, "role titular may not call")
		_, err = client.ListRequests(cctx, &lgpdv1.ListRequestsRequest{Tenant: "other"})
		wantRefused(t, err, codes.PermissionDenied, "may not act on tenant other")
	})

	t.Run("refused", func(t *testing.T) {
		now := time.Now()
		for name, c := range map[string]struct{ token, says string }{
			"naming another tenant":      {e.demoPortal.Sign(t, portalToken("other", e.titular, nil)), "bad signature"},
			"another tenant's key":       {e.otherPortal.Sign(t, portalToken("demo", e.titular, nil)), "bad signature"},
			"ttl above max":              {e.demoPortal.Sign(t, portalToken("demo", e.titular, map[string]any{"exp": now.Add(20 * time.Minute).Unix()})), "max_ttl"},
			"missing verified_by":        {e.demoPortal.Sign(t, portalToken("demo", e.titular, map[string]any{"verified_by": nil})), "verified_by is required"},
			"bad CPF":                    {e.demoPortal.Sign(t, portalToken("demo", e.titular, map[string]any{"titular": map[string]any{"cpf": "111.111.111-11"}})), "cpf is not valid"},
			"unconfigured tenant":        {e.demoPortal.Sign(t, portalToken("nowhere", e.titular, nil)), "tenant is not configured"},
			"staff audience":             {e.demoPortal.Sign(t, portalToken("demo", e.titular, map[string]any{"aud": staffAudience})), "wrong audience"},
			"expired":                    {e.demoPortal.Sign(t, portalToken("demo", e.titular, map[string]any{"iat": now.Add(-9 * time.Minute).Unix(), "exp": now.Add(-2 * time.Minute).Unix()})), "expired"},
			"unknown portal of a tenant": {e.demoPortal.Sign(t, portalToken("demo", e.titular, map[string]any{"iss": "kiosk"})), "unknown issuer"},
		} {
			t.Run(name, func(t *testing.T) {
				cctx, client := e.requests(ctx, c.token)
				_, err := client.ListRequests(cctx, &lgpdv1.ListRequestsRequest{Tenant: "demo"})
				wantRefused(t, err, codes.Unauthenticated, c.says)
			})
		}
	})
}
