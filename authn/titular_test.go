package authn_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/authn"
	"github.com/titular/titular/authn/authntest"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/config"
	"github.com/titular/titular/service"
)

// portals is a config whose tenants trust portals of every key source:
// acme an Ed25519 PEM file, beta an ES256 JWKS file, gamma an RS256 JWKS
// URL; delta trusts none.
type portals struct {
	cfg               *config.Config
	acme, beta        authntest.Key
	gamma             *authntest.Issuer
	acmeKeyFile       string
	verifier          *authn.Verifier
	cpf, formattedCPF string
	phone, email      string
	claims            func(tenant, iss string, edit map[string]any) map[string]any
}

func newPortals(t *testing.T) *portals {
	t.Helper()
	dir := t.TempDir()
	p := &portals{acme: authntest.NewKey(t, jose.EdDSA), beta: authntest.NewKey(t, jose.ES256), gamma: authntest.NewIssuer(t, jose.RS256)}
	p.acmeKeyFile = filepath.Join(dir, "acme-portal.pub.pem")
	if err := os.WriteFile(p.acmeKeyFile, p.acme.PublicPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "beta.jwks"), authntest.JWKS(t, p.beta), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`
tenants:
  - id: acme
    dsn: x
    datamap: m
    titular_tokens:
      max_ttl: 10m
      issuers: [{name: portal, public_key_file: acme-portal.pub.pem}]
  - id: beta
    dsn: x
    datamap: m
    titular_tokens:
      issuers: [{name: portal, jwks_file: beta.jwks}]
  - id: gamma
    dsn: x
    datamap: m
    titular_tokens:
      issuers: [{name: app.gamma, jwks_url: %q}]
  - {id: delta, dsn: x, datamap: m}
`, p.gamma.JWKSURL())
	path := filepath.Join(dir, "titular.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p.cfg = cfg
	if p.verifier, err = authn.New(authn.Options{Tenant: cfg.Tenant, MinRefetch: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	p.cpf = brdoc.CPFFromSeed(4242)
	p.formattedCPF = brdoc.FormatCPF(p.cpf)
	p.phone = brdoc.PhoneFromSeed(4242, true)
	p.email = "Titular.Teste@Exemplo.com.br"
	p.claims = func(tenant, iss string, edit map[string]any) map[string]any {
		now := time.Now()
		c := map[string]any{"iss": iss, "aud": "titular", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "tenant": tenant,
			"titular":     map[string]any{"cpf": p.formattedCPF, "email": p.email, "phone": p.phone},
			"verified_by": "gov.br"}
		for k, v := range edit {
			if v == nil {
				delete(c, k)
				continue
			}
			c[k] = v
		}
		return c
	}
	return p
}

func TestTitularTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newPortals(t)

	t.Run("principal", func(t *testing.T) {
		pr, err := p.verifier.Verify(ctx, p.acme.Sign(t, p.claims("acme", "portal", nil)))
		if err != nil {
			t.Fatal(err)
		}
		want := service.TitularClaim{CPF: p.cpf, Email: "titular.teste@exemplo.com.br", Phone: p.phone, VerifiedBy: "gov.br", Issuer: "portal"}
		if pr.Name != "titular via portal" || pr.Role != config.RoleTitular || pr.Titular == nil || *pr.Titular != want {
			t.Fatalf("principal %+v %+v; want titular via portal, %+v", pr, pr.Titular, want)
		}
		if !pr.MayTouch("acme") || pr.MayTouch("beta") {
			t.Errorf("a titular token for acme reaches beyond it")
		}
		// Every key source; a CPF alone is enough.
		pr, err = p.verifier.Verify(ctx, p.beta.Sign(t, p.claims("beta", "portal", map[string]any{"titular": map[string]any{"cpf": p.cpf}})))
		if err != nil || pr.Titular.CPF != p.cpf || pr.Titular.Email != "" || !pr.MayTouch("beta") {
			t.Fatalf("beta (JWKS file): %v %+v", err, pr)
		}
		pr, err = p.verifier.Verify(ctx, p.gamma.Sign(t, p.claims("gamma", "app.gamma", map[string]any{"verified_by": "sms"})))
		if err != nil || pr.Name != "titular via app.gamma" || pr.Titular.VerifiedBy != "sms" {
			t.Fatalf("gamma (JWKS URL): %v %+v", err, pr)
		}
	})

	t.Run("refused", func(t *testing.T) {
		ttl := func(d time.Duration) map[string]any {
			now := time.Now()
			return map[string]any{"iat": now.Unix(), "exp": now.Add(d).Unix()}
		}
		for name, c := range map[string]struct{ token, says string }{
			"another tenant named, own key": {p.acme.Sign(t, p.claims("beta", "portal", nil)), "bad signature"},
			"own tenant, another's key":     {p.beta.Sign(t, p.claims("acme", "portal", nil)), "bad signature"},
			"unknown tenant":                {p.acme.Sign(t, p.claims("nowhere", "portal", nil)), "tenant is not configured"},
			"tenant without portals":        {p.acme.Sign(t, p.claims("delta", "portal", nil)), "unknown issuer"},
			"unknown portal":                {p.acme.Sign(t, p.claims("acme", "other-portal", nil)), "unknown issuer"},
			"ttl above max":                 {p.acme.Sign(t, p.claims("acme", "portal", ttl(11*time.Minute))), "max_ttl of 10m0s"},
			"default max ttl is 15m":        {p.beta.Sign(t, p.claims("beta", "portal", ttl(16*time.Minute))), "max_ttl of 15m0s"},
			"no iat":                        {p.acme.Sign(t, p.claims("acme", "portal", map[string]any{"iat": nil})), "no issue time"},
			"no exp":                        {p.acme.Sign(t, p.claims("acme", "portal", map[string]any{"exp": nil})), "no expiry"},
			"expired": {p.acme.Sign(t, p.claims("acme", "portal", map[string]any{"iat": time.Now().Add(-8 * time.Minute).Unix(),
				"exp": time.Now().Add(-2 * time.Minute).Unix()})), "expired"},
			"wrong audience":     {p.acme.Sign(t, p.claims("acme", "portal", map[string]any{"aud": "api://titular"})), "wrong audience"},
			"no verified_by":     {p.acme.Sign(t, p.claims("acme", "portal", map[string]any{"verified_by": nil})), "verified_by is required"},
			"blank verified_by":  {p.acme.Sign(t, p.claims("acme", "portal", map[string]any{"verified_by": " "})), "verified_by is required"},
			"bad CPF":            {p.acme.Sign(t, p.claims("acme", "portal", map[string]any{"titular": map[string]any{"cpf": "123.456.789-00"}})), "cpf is not valid"},
			"bad e-mail":         {p.acme.Sign(t, p.claims("acme", "portal", map[string]any{"titular": map[string]any{"email": "nobody"}})), "email is not valid"},
			"no identifier":      {p.acme.Sign(t, p.claims("acme", "portal", map[string]any{"titular": map[string]any{}})), "at least one of cpf"},
			"no titular":         {p.acme.Sign(t, p.claims("acme", "portal", map[string]any{"titular": nil})), "at least one of cpf"},
			"alg none":           {authntest.Unsigned(t, p.claims("acme", "portal", nil)), "algorithm is not accepted"},
			"HS256 with the PEM": {authntest.SignHS256(t, p.acme.PublicPEM(t), p.claims("acme", "portal", nil)), "algorithm is not accepted"},
		} {
			t.Run(name, func(t *testing.T) {
				pr, err := p.verifier.Verify(ctx, c.token)
				if pr != nil {
					t.Fatalf("accepted as %+v", pr)
				}
				wantErr(t, err, codes.Unauthenticated, "INVALID_TOKEN", c.says)
				for _, leak := range append(brdoc.CPFShapes(p.cpf), "Titular.Teste", p.phone) {
					if e := err.Error(); leak != "" && strings.Contains(e, leak) {
						t.Errorf("message %q quotes an identifier", e)
					}
				}
			})
		}
	})

	t.Run("key file rotated", func(t *testing.T) {
		next := authntest.NewKey(t, jose.ES256)
		time.Sleep(1100 * time.Millisecond) // key files are looked at once a second
		if err := os.WriteFile(p.acmeKeyFile, next.PublicPEM(t), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := p.verifier.Verify(ctx, next.Sign(t, p.claims("acme", "portal", nil))); err != nil {
			t.Fatalf("token of the new key: %v", err)
		}
		_, err := p.verifier.Verify(ctx, p.acme.Sign(t, p.claims("acme", "portal", nil)))
		wantErr(t, err, codes.Unauthenticated, "INVALID_TOKEN", "bad signature")
	})
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestAuthenticatorWithTokens runs titular-bound and staff tokens through
// the service's interceptor: the role rules and the tenant check apply to
// them as to API keys, and API keys still work beside them.
func TestAuthenticatorWithTokens(t *testing.T) {
	t.Parallel()
	p := newPortals(t)
	known := func(id string) bool { _, ok := p.cfg.Tenant(id); return ok }
	const apiKey = "authn-test-api-key"
	a := service.NewAuthenticator([]config.APIKey{{Name: "dpo-key", Role: config.RoleDPO, Tenants: []string{"acme"}, KeySHA256: sha(apiKey)}}, known).
		WithTokens(p.verifier)
	call := func(method, bearer, tenant string) (*service.Principal, error) {
		ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+bearer))
		var seen *service.Principal
		if !strings.HasPrefix(method, "/") {
			method = "/lgpd.v1.RequestService/" + method
		}
		_, err := a.Unary()(ctx, &lgpdv1.ListRequestsRequest{Tenant: tenant}, &grpc.UnaryServerInfo{FullMethod: method},
			func(ctx context.Context, _ any) (any, error) {
				seen, _ = service.PrincipalFrom(ctx)
				return nil, nil
			})
		return seen, err
	}
	token := p.acme.Sign(t, p.claims("acme", "portal", nil))
	if pr, err := call("ListRequests", token, "acme"); err != nil || pr == nil || pr.Titular == nil || pr.Titular.CPF != p.cpf {
		t.Fatalf("ListRequests with a titular token: %v, %+v", err, pr)
	}
	for _, m := range []string{"CreateRequest", "GetRequest", "DownloadExport", "GetReceipt",
		"/lgpd.v1.ConsentService/ListPurposes", "/lgpd.v1.ConsentService/GetTerm", "/lgpd.v1.ConsentService/SearchConsents"} {
		if _, err := call(m, token, "acme"); err != nil {
			t.Errorf("%s with a titular token: %v", m, err)
		}
	}
	for _, m := range []string{"ApproveRequest", "DenyRequest", "CancelRequest", "/lgpd.v1.ConsentService/CreatePurpose",
		"/lgpd.v1.ConsentService/ListConsentSubjects", "/lgpd.v1.LedgerService/ListEntries", "/lgpd.v1.LedgerService/GetCheckpoint"} {
		if _, err := call(m, token, "acme"); status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s with a titular token: %v, want PermissionDenied", m, err)
		}
	}
	if _, err := call("ListRequests", token, "beta"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a titular token for acme on beta: %v, want PermissionDenied", err)
	}
	bad := p.acme.Sign(t, p.claims("acme", "portal", map[string]any{"exp": time.Now().Add(-time.Hour).Unix(), "iat": time.Now().Add(-65 * time.Minute).Unix()}))
	_, err := call("ListRequests", bad, "acme")
	if st := status.Convert(err); st.Code() != codes.Unauthenticated || !strings.Contains(st.Message(), "expired") {
		t.Errorf("expired titular token: %v", err)
	}
	if pr, err := call("ListRequests", apiKey, "acme"); err != nil || pr.Name != "dpo-key" {
		t.Errorf("API key beside tokens: %v, %+v", err, pr)
	}
	if _, err := call("ListRequests", "not.a-jwt.key", "acme"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("unknown opaque key: %v", err)
	}
}
