package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Webhook is an endpoint that receives a tenant's propagation events
// (LGPD Art. 18 §6): revocations, corrections, deletions, anonymizations and
// blocks, as HMAC-SHA256-signed JSON POSTs.
type Webhook struct {
	// Name identifies the endpoint in delivery records; default: the URL
	// without its query. Unique within the tenant; renaming an endpoint
	// orphans its pending deliveries.
	Name string `yaml:"name"`
	// URL must be https, or http on a loopback address (development).
	URL string `yaml:"url"`
	// The signing secret comes from an environment variable or a file, never
	// from this file; at least 16 bytes.
	SecretEnv  string `yaml:"secret_env"`
	SecretFile string `yaml:"secret_file"`
	// Events the endpoint receives, e.g. [consent.revoked, subject.deleted];
	// empty or ["*"] means all.
	Events []string `yaml:"events"`
	// Recipient ties the endpoint to a recipient the data map's entities
	// are shared with (a shared_with value, e.g. "Banco X"): it then
	// receives only the events about entities shared with that recipient,
	// and the DPO's delivery list names the recipient told (Art. 18 §6).
	// Checked against the data map when the tenant opens.
	Recipient string `yaml:"recipient"`
	// Identifiers opts the endpoint in to receive, inside the signed body,
	// the identifiers the request was made with, of these kinds (cpf,
	// email, phone), and for subject.corrected the corrected fields' new
	// values: what a recipient that never saw the subject reference needs
	// to repeat a correction or an erasure. Only over TLS (an https URL).
	Identifiers []string `yaml:"identifiers"`
}

// IdentifierKinds are the identifier kinds an endpoint may opt in to.
var IdentifierKinds = []string{"cpf", "email", "phone"}

// WebhookDelivery tunes the dispatcher that delivers webhook events.
type WebhookDelivery struct {
	// Timeout bounds one HTTP attempt (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// MinBackoff is the wait after a first failure; it doubles per attempt,
	// with jitter, up to MaxBackoff (defaults 2s and 1h).
	MinBackoff time.Duration `yaml:"min_backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// MaxAttempts before a delivery is marked FAILED (default 15, about
	// nine hours of retries with the default backoff).
	MaxAttempts int `yaml:"max_attempts"`
}

// minSecretBytes is the shortest accepted signing secret.
const minSecretBytes = 16

func (d *WebhookDelivery) applyDefaults() {
	if d.Timeout == 0 {
		d.Timeout = 10 * time.Second
	}
	if d.MinBackoff == 0 {
		d.MinBackoff = 2 * time.Second
	}
	if d.MaxBackoff == 0 {
		d.MaxBackoff = time.Hour
	}
	if d.MaxAttempts == 0 {
		d.MaxAttempts = 15
	}
}

func (t *Tenant) webhookDefaults(resolve func(string) string) {
	for j := range t.Webhooks {
		w := &t.Webhooks[j]
		if w.Name == "" {
			if u, err := url.Parse(w.URL); err == nil {
				u.RawQuery, u.Fragment, u.User = "", "", nil
				w.Name = u.String()
			}
		}
		w.SecretFile = resolve(w.SecretFile)
	}
}

func (d WebhookDelivery) validate() []error {
	if d.MinBackoff <= 0 || d.MaxBackoff < d.MinBackoff || d.MaxAttempts < 1 || d.Timeout <= 0 {
		return []error{errors.New("webhook_delivery: durations must be positive, max_backoff >= min_backoff, max_attempts >= 1")}
	}
	return nil
}

// validateWebhooks checks a tenant's endpoints; at says where the tenant
// was written.
func (t Tenant) validateWebhooks(at string) []error {
	var errs []error
	names := map[string]bool{}
	for j, w := range t.Webhooks {
		at := fmt.Sprintf("%s.webhooks[%d]", at, j)
		if err := checkWebhookURL(w.URL); err != nil {
			errs = append(errs, fmt.Errorf("%s.url: %w", at, err))
		}
		if len(w.Name) > 100 || names[w.Name] {
			errs = append(errs, fmt.Errorf("%s.name: names must be unique in the tenant and at most 100 characters", at))
		}
		names[w.Name] = true
		if (w.SecretEnv == "") == (w.SecretFile == "") {
			errs = append(errs, fmt.Errorf("%s: set exactly one of secret_env or secret_file (at least %d random bytes: openssl rand -hex 32)", at, minSecretBytes))
		}
		for _, e := range w.Events {
			if e == "" || strings.ContainsAny(e, " \t") {
				errs = append(errs, fmt.Errorf("%s.events: %q is not an event name, e.g. consent.revoked", at, e))
			}
		}
		errs = append(errs, w.validateRecipient(at)...)
	}
	return errs
}

// validateRecipient checks the recipient and identifiers options: the
// identifiers are personal data, so they travel only over TLS; loopback
// http (development, tests) is the one exception, as for the URL itself.
func (w Webhook) validateRecipient(at string) []error {
	var errs []error
	if len(w.Recipient) > 100 || strings.TrimSpace(w.Recipient) != w.Recipient {
		errs = append(errs, fmt.Errorf("%s.recipient: name a shared_with recipient of the data map, at most 100 characters, no surrounding spaces", at))
	}
	if len(w.Identifiers) == 0 {
		return errs
	}
	if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "https" && !isLoopback(u.Hostname())) {
		errs = append(errs, fmt.Errorf("%s.identifiers: identifiers are personal data and are sent only over TLS; use an https URL or remove identifiers", at))
	}
	seen := map[string]bool{}
	for _, k := range w.Identifiers {
		if !slices.Contains(IdentifierKinds, k) || seen[k] {
			errs = append(errs, fmt.Errorf("%s.identifiers: %q is not an identifier kind, or is repeated; use some of %s", at, k, strings.Join(IdentifierKinds, ", ")))
		}
		seen[k] = true
	}
	return errs
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("must be an absolute https URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("http is allowed only on a loopback address; use https")
	}
	return errors.New("must be an https URL")
}

// Secret returns the endpoint's signing secret, trimmed of surrounding
// whitespace.
func (w Webhook) Secret() ([]byte, error) {
	var v string
	switch {
	case w.SecretEnv != "":
		v = os.Getenv(w.SecretEnv)
	case w.SecretFile != "":
		b, err := os.ReadFile(w.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("webhook %s: read secret_file: %w", w.Name, err)
		}
		v = string(b)
	}
	v = strings.TrimSpace(v)
	if len(v) < minSecretBytes {
		return nil, fmt.Errorf("webhook %s: the secret (secret_env or secret_file) must hold at least %d bytes; generate one with openssl rand -hex 32", w.Name, minSecretBytes)
	}
	return []byte(v), nil
}

// Wants reports whether the endpoint subscribes to event.
func (w Webhook) Wants(event string) bool {
	return len(w.Events) == 0 || slices.Contains(w.Events, "*") || slices.Contains(w.Events, event)
}

// WebhooksFor names the tenant's endpoints subscribed to event, for
// store.EnqueueEvent. Endpoints tied to a recipient are left out: they
// receive only events about the entities shared with their recipient, which
// the tenant routes knowing the data map (tenant.Tenant.Subscribers).
func (t Tenant) WebhooksFor(event string) []string {
	var out []string
	for _, w := range t.Webhooks {
		if w.Wants(event) && w.Recipient == "" {
			out = append(out, w.Name)
		}
	}
	return out
}
