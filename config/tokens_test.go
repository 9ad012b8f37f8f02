package config

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// writeKeyFiles writes public keys of every kind, and things that are not
// usable public keys, into dir.
func writeKeyFiles(t *testing.T, dir string) {
	t.Helper()
	pub := func(name string, k any) {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub("ed25519.pem", edPub)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub("p256.pem", &ec.PublicKey)
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub("p384.pem", &ec384.PublicKey)
	weak, err := rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // G403: a weak key on purpose, to see it refused
	if err != nil {
		t.Fatal(err)
	}
	pub("rsa1024.pem", &weak.PublicKey)
	der, err := x509.MarshalPKCS8PrivateKey(edPriv)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "private.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	write(t, filepath.Join(dir, "empty.pem"), []byte("not a key\n"))
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ec.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "keys.json"), set)
	set, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: edPriv, KeyID: "k1"}}})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "private.json"), set)
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTokenConfigErrorsSayHowToFix(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeKeyFiles(t, dir)
	path := filepath.Join(dir, "t.yaml")
	const tenant = "tenants: [{id: a, dsn: x, datamap: m}]\n"
	oidc := func(entry string) string { return tenant + "auth: {oidc: [" + entry + "]}" }
	const ok = `name: entra, issuer: "https://login.example/t/v2.0", audience: api://titular, roles_claim: groups, roles: [{value: g, role: dpo, tenants: [a]}]`
	portal := func(tt string) string {
		return "tenants: [{id: a, dsn: x, datamap: m, titular_tokens: " + tt + "}]"
	}
	cases := map[string]struct{ yaml, want string }{
		"oidc without name":      {oidc(`{issuer: "https://i.example", audience: x, roles_claim: groups, roles: [{value: g, role: dpo, tenants: [a]}]}`), "auth.oidc[0].name: each issuer needs a unique name"},
		"oidc names twice":       {oidc("{" + ok + "}, {" + strings.Replace(ok, "t/v2.0", "u/v2.0", 1) + "}"), "auth.oidc[1].name: each issuer needs a unique name"},
		"oidc issuer twice":      {oidc("{" + ok + "}, {" + strings.Replace(ok, "entra", "entra2", 1) + "}"), "is listed twice; merge"},
		"oidc without issuer":    {oidc(`{name: e, audience: x, roles_claim: groups, roles: [{value: g, role: dpo, tenants: [a]}]}`), "auth.oidc[0].issuer: the iss claim"},
		"oidc plain http issuer": {oidc(strings.Replace("{"+ok+"}", "https://login.example", "http://login.example", 1)), "http is allowed only on a loopback address; use https"},
		"oidc without audience":  {oidc(`{name: e, issuer: "https://i.example", roles_claim: groups, roles: [{value: g, role: dpo, tenants: [a]}]}`), "auth.oidc[0].audience: required"},
		"oidc plain http JWKS":   {oidc("{" + ok + `, jwks_url: "http://login.example/keys"}`), "auth.oidc[0].jwks_url: http is allowed only on a loopback address"},
		"oidc two key sources":   {oidc("{" + ok + `, jwks_url: "https://login.example/keys", jwks_file: keys.json}`), "set one of jwks_url or jwks_file"},
		"oidc JWKS file missing": {oidc("{" + ok + `, jwks_file: missing.json}`), "auth.oidc[0].jwks_file"},
		"oidc private JWKS":      {oidc("{" + ok + `, jwks_file: private.json}`), "is a private key; publish only public keys"},
		"oidc without roles claim": {oidc(`{name: e, issuer: "https://i.example", audience: x, roles: [{value: g, role: dpo, tenants: [a]}]}`),
			"roles_claim: name the claim listing the caller's groups or roles, e.g. groups (Entra ID) or realm_access.roles (Keycloak)"},
		"oidc without roles":       {oidc(`{name: e, issuer: "https://i.example", audience: x, roles_claim: groups}`), "auth.oidc[0].roles: map at least one value of groups to a role"},
		"oidc role titular":        {oidc(strings.Replace("{"+ok+"}", "role: dpo", "role: titular", 1)), "titular is carried only by a portal's titular-bound token"},
		"oidc unknown role":        {oidc(strings.Replace("{"+ok+"}", "role: dpo", "role: admin", 1)), `auth.oidc[0].roles[0].role: "admin" is not a role`},
		"oidc role without value":  {oidc(strings.Replace("{"+ok+"}", "value: g, ", "", 1)), "auth.oidc[0].roles[0].value: the claim value"},
		"oidc role without tenant": {oidc(strings.Replace("{"+ok+"}", "tenants: [a]", "tenants: []", 1)), "auth.oidc[0].roles[0].tenants: list the tenants"},
		"oidc role unknown tenant": {oidc(strings.Replace("{"+ok+"}", "tenants: [a]", "tenants: [b]", 1)), `auth.oidc[0].roles[0].tenants: "b" is not a configured tenant`},

		"portal without key":   {portal(`{issuers: [{name: portal}]}`), "tenants[0].titular_tokens.issuers[0]: set the portal's public key: public_key_file (PEM), jwks_file or jwks_url"},
		"portal two keys":      {portal(`{issuers: [{name: portal, public_key_file: ed25519.pem, jwks_file: keys.json}]}`), "set exactly one of public_key_file, jwks_file or jwks_url"},
		"portal URL as name":   {portal(`{issuers: [{name: "https://portal.example", public_key_file: ed25519.pem}]}`), "issuers[0].name: each issuer needs a unique name, the iss its tokens carry"},
		"portal name twice":    {portal(`{issuers: [{name: p, public_key_file: ed25519.pem}, {name: p, jwks_file: keys.json}]}`), "issuers[1].name: each issuer needs a unique name"},
		"portal key missing":   {portal(`{issuers: [{name: p, public_key_file: nowhere.pem}]}`), "public_key_file: open"},
		"portal private key":   {portal(`{issuers: [{name: p, public_key_file: private.pem}]}`), "holds a private key; give titular only the public key (openssl pkey -in key.pem -pubout)"},
		"portal no PEM":        {portal(`{issuers: [{name: p, public_key_file: empty.pem}]}`), "holds no PEM public key"},
		"portal weak RSA":      {portal(`{issuers: [{name: p, public_key_file: rsa1024.pem}]}`), "an RSA key of 1024 bits is too weak; use 2048 bits or more"},
		"portal P-384":         {portal(`{issuers: [{name: p, public_key_file: p384.pem}]}`), "only ECDSA keys on P-256 (ES256) are accepted"},
		"portal http JWKS":     {portal(`{issuers: [{name: p, jwks_url: "http://portal.example/keys"}]}`), "jwks_url: http is allowed only on a loopback address"},
		"portal ttl too long":  {portal(`{max_ttl: 2h, issuers: [{name: p, public_key_file: ed25519.pem}]}`), "max_ttl: 2h0m0s is out of range 1m..1h; titular tokens are short-lived"},
		"portal ttl too short": {portal(`{max_ttl: 10s, issuers: [{name: p, public_key_file: ed25519.pem}]}`), "out of range 1m..1h"},
		"portal ttl alone":     {portal(`{max_ttl: 5m}`), "list the portals whose tokens the tenant trusts, or drop titular_tokens"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(path, []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}

	good := map[string]string{
		"oidc with JWKS URL":         oidc("{" + ok + `, jwks_url: "https://login.example/keys"}`),
		"oidc on loopback":           oidc(strings.ReplaceAll("{"+ok+`, jwks_url: "https://login.example/keys"}`, "https://login.example", "http://127.0.0.1:8443")),
		"oidc with discovery":        oidc("{" + ok + "}"),
		"oidc with JWKS file":        oidc("{" + ok + ", jwks_file: keys.json}"),
		"oidc every tenant":          oidc(strings.Replace("{"+ok+"}", "tenants: [a]", `tenants: ["*"]`, 1)),
		"portal Ed25519 PEM":         portal(`{issuers: [{name: portal, public_key_file: ed25519.pem}]}`),
		"portal P-256 PEM, JWKS":     portal(`{max_ttl: 1h, issuers: [{name: a.portal, public_key_file: p256.pem}, {name: b_portal, jwks_file: keys.json}]}`),
		"portal JWKS URL":            portal(`{issuers: [{name: portal, jwks_url: "https://portal.example/.well-known/jwks.json"}]}`),
		"no titular tokens (absent)": tenant,
	}
	for name, y := range good {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(path, []byte(y)); err != nil {
				t.Fatal(err)
			}
		})
	}

	c, err := Parse(path, []byte(portal(`{issuers: [{name: portal, public_key_file: ed25519.pem}]}`)+"\nauth: {oidc: [{"+ok+", jwks_file: keys.json}]}"))
	if err != nil {
		t.Fatal(err)
	}
	tt := c.Tenants[0].TitularTokens
	if tt.MaxTTL != 15*time.Minute || tt.Issuers[0].PublicKeyFile != filepath.Join(dir, "ed25519.pem") {
		t.Errorf("titular_tokens defaults: %+v; want max_ttl 15m and the key's path resolved", tt)
	}
	if o := c.Auth.OIDC[0]; o.NameClaim != "preferred_username" || o.JWKSFile != filepath.Join(dir, "keys.json") {
		t.Errorf("oidc defaults: %+v; want name_claim preferred_username and the JWKS path resolved", o)
	}
}

// TestTitularTokensInTenantFile: a tenant file may carry titular_tokens,
// its key path relative to the file.
func TestTitularTokensInTenantFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tenants := filepath.Join(dir, "tenants")
	if err := os.Mkdir(tenants, 0o700); err != nil {
		t.Fatal(err)
	}
	writeKeyFiles(t, tenants)
	write(t, filepath.Join(tenants, "acme.yaml"), []byte("dsn: x\ndatamap: m\ntitular_tokens: {issuers: [{name: portal, public_key_file: ed25519.pem}]}\n"))
	write(t, filepath.Join(tenants, "bad.yaml"), []byte("dsn: x\ndatamap: m\ntitular_tokens: {issuers: [{name: portal, public_key_file: private.pem}]}\n"))
	write(t, filepath.Join(dir, "t.yaml"), []byte("tenants_dir: tenants\n"))
	c, err := Load(filepath.Join(dir, "t.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	acme, ok := c.Tenant("acme")
	if !ok || acme.TitularTokens.Issuers[0].PublicKeyFile != filepath.Join(tenants, "ed25519.pem") {
		t.Fatalf("acme from its tenant file: %+v", acme.TitularTokens)
	}
	if _, ok := c.Tenant("bad"); ok || len(c.TenantFileProblems) != 1 || !strings.Contains(c.TenantFileProblems[0].Error(), "holds a private key") {
		t.Errorf("a tenant file with a private key: problems %v", c.TenantFileProblems)
	}
}
