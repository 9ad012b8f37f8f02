package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/authn"
	"github.com/titular/titular/config"
)

// A token minted with a key from `token keygen` is accepted by titular's
// own verifier for the tenant whose titular_tokens name the public key,
// as the titular it names.
func TestTokenKeygenAndMint(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "portal")
	var out bytes.Buffer
	if err := runToken([]string{"keygen", "--out", prefix}, &out); err != nil {
		t.Fatal(err)
	}
	if err := runToken([]string{"keygen", "--out", prefix}, &out); err == nil {
		t.Error("keygen overwrote an existing key")
	}
	out.Reset()
	if err := runTokenMint([]string{"--key", prefix + ".key", "--tenant", "demo", "--issuer", "portal",
		"--cpf", "529.982.247-25", "--verified-by", "gov.br"}, &out, time.Now()); err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(out.String())
	tenant := config.Tenant{ID: "demo", TitularTokens: config.TitularTokens{MaxTTL: 15 * time.Minute,
		Issuers: []config.TitularIssuer{{Name: "portal", PublicKeyFile: prefix + ".pub.pem"}}}}
	v, err := authn.New(authn.Options{Tenant: func(id string) (config.Tenant, bool) { return tenant, id == "demo" }})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("titular refused the minted token: %v", err)
	}
	if p.Role != config.RoleTitular || p.Titular == nil || p.Titular.CPF != "52998224725" || p.Titular.VerifiedBy != "gov.br" || !p.MayTouch("demo") {
		t.Errorf("principal %+v titular %+v", p, p.Titular)
	}
	if strings.Contains(p.Name, "52998224725") {
		t.Error("the principal's name holds the CPF")
	}

	for name, args := range map[string][]string{
		"no identifier": {"--key", prefix + ".key", "--tenant", "demo", "--issuer", "portal", "--verified-by", "sms"},
		"bad cpf":       {"--key", prefix + ".key", "--tenant", "demo", "--issuer", "portal", "--verified-by", "sms", "--cpf", "111.111.111-11"},
		"public key":    {"--key", prefix + ".pub.pem", "--tenant", "demo", "--issuer", "portal", "--verified-by", "sms", "--email", "a@b.example"},
	} {
		if err := runTokenMint(args, &out, time.Now()); err == nil {
			t.Errorf("%s: minted", name)
		}
	}
	// A token past the tenant's max_ttl is minted but refused.
	out.Reset()
	if err := runTokenMint([]string{"--key", prefix + ".key", "--tenant", "demo", "--issuer", "portal", "--verified-by", "sms",
		"--email", "a@b.example", "--ttl", "2h"}, &out, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), strings.TrimSpace(out.String())); err == nil {
		t.Error("a token living longer than max_ttl was accepted")
	}
}
