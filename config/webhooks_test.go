package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWebhooks(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hook.secret"), []byte("  0123456789abcdef0123  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse(filepath.Join(dir, "titular.yaml"), []byte(`
tenants:
  - id: demo
    dsn_env: DEMO_DSN
    datamap: demo.yaml
    webhooks:
      - {url: "https://crm.example.com/lgpd?token=x", secret_file: hook.secret, events: [consent.revoked]}
      - {name: parceiro, url: "http://127.0.0.1:9999/hook", secret_env: HOOK_SECRET}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.WebhookDelivery.MaxAttempts != 15 || c.WebhookDelivery.MinBackoff != 2*time.Second || c.WebhookDelivery.Timeout != 10*time.Second {
		t.Errorf("delivery defaults: %+v", c.WebhookDelivery)
	}
	tn, _ := c.Tenant("demo")
	crm := tn.Webhooks[0]
	if crm.Name != "https://crm.example.com/lgpd" {
		t.Errorf("default name %q: the URL without its query (which may hold a token)", crm.Name)
	}
	if got := tn.WebhooksFor("consent.revoked"); strings.Join(got, ",") != "https://crm.example.com/lgpd,parceiro" {
		t.Errorf("WebhooksFor(consent.revoked) = %v", got)
	}
	if got := tn.WebhooksFor("subject.deleted"); strings.Join(got, ",") != "parceiro" {
		t.Errorf("WebhooksFor(subject.deleted) = %v; an endpoint without events gets them all", got)
	}
	if s, err := crm.Secret(); err != nil || string(s) != "0123456789abcdef0123" {
		t.Errorf("secret from file: %q %v", s, err)
	}
	t.Setenv("HOOK_SECRET", "short")
	if _, err := tn.Webhooks[1].Secret(); err == nil || strings.Contains(err.Error(), "short") {
		t.Errorf("a short secret must be refused without echoing it: %v", err)
	}
}

func TestWebhooksInvalid(t *testing.T) {
	for name, hooks := range map[string]string{
		"plain http":  `[{url: "http://crm.example.com/hook", secret_env: X}]`,
		"no secret":   `[{url: "https://crm.example.com/hook"}]`,
		"two secrets": `[{url: "https://crm.example.com/hook", secret_env: X, secret_file: y}]`,
		"same name":   `[{name: a, url: "https://a.example.com", secret_env: X}, {name: a, url: "https://b.example.com", secret_env: X}]`,
		"not a url":   `[{url: "crm", secret_env: X}]`,
		"bad event":   `[{url: "https://crm.example.com", secret_env: X, events: ["consent revoked"]}]`,
	} {
		_, err := Parse("/etc/titular.yaml", []byte(`
tenants:
  - {id: demo, dsn_env: D, datamap: m.yaml, webhooks: `+hooks+`}
`))
		if err == nil || !strings.Contains(err.Error(), "webhooks[") {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err := Parse("/etc/titular.yaml", []byte(`
webhook_delivery: {min_backoff: 1m, max_backoff: 1s}
tenants:
  - {id: demo, dsn_env: D, datamap: m.yaml}
`))
	if err == nil || !strings.Contains(err.Error(), "webhook_delivery") {
		t.Errorf("max_backoff below min_backoff: %v", err)
	}
}

// TestWebhookIdentifiersOnlyOverTLS: identifiers are personal data, so an
// endpoint opting in to them must be https (loopback http is development);
// the message says which option and how to fix it. An endpoint tied to a
// recipient is not among WebhooksFor: the tenant routes it by the data map.
func TestWebhookIdentifiersOnlyOverTLS(t *testing.T) {
	for name, tc := range map[string]struct{ hooks, want string }{
		"plain http": {`[{url: "http://banco.example.com/hook", secret_env: X, identifiers: [cpf]}]`,
			"webhooks[0].identifiers: identifiers are personal data and are sent only over TLS; use an https URL"},
		"unknown kind": {`[{url: "https://banco.example.com/hook", secret_env: X, identifiers: [rg]}]`,
			`webhooks[0].identifiers: "rg" is not an identifier kind, or is repeated; use some of cpf, email, phone`},
		"padded recipient": {`[{url: "https://banco.example.com/hook", secret_env: X, recipient: " Banco X"}]`,
			"webhooks[0].recipient: name a shared_with recipient"},
	} {
		_, err := Parse("/etc/titular.yaml", []byte(`
tenants:
  - {id: demo, dsn_env: D, datamap: m.yaml, webhooks: `+tc.hooks+`}
`))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, tc.want)
		}
	}
	c, err := Parse("/etc/titular.yaml", []byte(`
tenants:
  - id: demo
    dsn_env: D
    datamap: m.yaml
    webhooks:
      - {name: banco, url: "https://banco.example.com/hook", secret_env: X, recipient: "Banco X", identifiers: [cpf, email]}
      - {name: dev, url: "http://127.0.0.1:8080/hook", secret_env: X, identifiers: [cpf]}
      - {name: crm, url: "https://crm.example.com/hook", secret_env: X}
`))
	if err != nil {
		t.Fatalf("https and loopback endpoints with identifiers: %v", err)
	}
	tn, _ := c.Tenant("demo")
	if got := tn.WebhooksFor("subject.deleted"); strings.Join(got, ",") != "dev,crm" {
		t.Errorf("WebhooksFor(subject.deleted) = %v; the recipient's endpoint is routed by the data map", got)
	}
}
