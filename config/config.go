// Package config loads titular's YAML configuration: listeners, tenants and
// credentials. Secrets never sit in the file itself: DSNs come from env vars
// or files, API keys are stored as SHA-256 hashes.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/titular/titular/keyring"
)

// Roles a credential may carry.
const (
	RoleDPO     = "dpo"
	RoleBackend = "backend"
	RoleAuditor = "auditor"
	RolePortal  = "portal"
	// RoleTitular is carried only by a titular-bound token: the caller
	// acts for the one person the token names, never as staff. No API key
	// or client certificate may have it.
	RoleTitular = "titular"
)

// Config is the whole configuration file.
type Config struct {
	GRPCAddr string   `yaml:"grpc_addr"`
	HTTPAddr string   `yaml:"http_addr"`
	StateDir string   `yaml:"state_dir"`
	Tenants  []Tenant `yaml:"tenants"`
	Auth     Auth     `yaml:"auth"`
	Workers  Workers  `yaml:"workers"`
	Exports  Exports  `yaml:"exports"`
	// Tracing turns on OpenTelemetry tracing (tracing.go).
	Tracing Tracing `yaml:"tracing"`
	// Ledger configures checkpoint signing (ledger.go).
	Ledger Ledger `yaml:"ledger"`
	// WebhookDelivery tunes the delivery of propagation events (webhooks.go).
	WebhookDelivery WebhookDelivery `yaml:"webhook_delivery"`
	// TenantsDir holds one YAML file per tenant beside the inline list;
	// serve watches it, so tenants come and go without a restart
	// (tenants_dir.go).
	TenantsDir string `yaml:"tenants_dir"`
	// Databases bounds the connections titular opens per MySQL server
	// (databases.go).
	Databases Databases `yaml:"databases"`

	// TLS secures both listeners; without it they serve plaintext, which
	// is refused off loopback unless AllowPlaintext (tls.go).
	TLS TLS `yaml:"tls"`
	// HTTP bounds the REST listener's connections (http.go).
	HTTP HTTP `yaml:"http"`
	// Console configures the DPO's web console (console.go).
	Console Console `yaml:"console"`
	// AllowPlaintext lets a listener on a non-loopback address serve
	// without TLS, for a proxy or mesh in front that terminates it.
	AllowPlaintext bool `yaml:"allow_plaintext"`

	// Dir is the directory of the config file; relative paths resolve from it.
	Dir string `yaml:"-"`
	// TenantFileProblems are the tenant files of TenantsDir that could not
	// be used when the config was loaded: reported, skipped, never fatal.
	TenantFileProblems []error `yaml:"-"`
	// inline are the tenants listed in the config file itself.
	inline []Tenant
	path   string
}

// Path is the config file's path, for reloading it.
func (c *Config) Path() string { return c.path }

// Tenant is one CRM customer with its own database.
type Tenant struct {
	ID      string `yaml:"id"`
	Name    string `yaml:"name"`
	DSN     string `yaml:"dsn"`
	DSNEnv  string `yaml:"dsn_env"`
	DSNFile string `yaml:"dsn_file"`
	Datamap string `yaml:"datamap"`
	Policy  Policy `yaml:"policy"`
	// MaxOpenConns bounds the tenant's pool (default 8).
	MaxOpenConns int `yaml:"max_open_conns"`
	// ExportKey encrypts the tenant's stored exports (64 hex chars in a file
	// or env var). Unset: a development key is generated into state_dir.
	ExportKey keyring.Source `yaml:"export_key"`
	// SubjectKey keys the HMAC behind subject references, LedgerKey
	// authenticates the tenant's ledger leaves (ledger.go). Unset: development
	// keys are generated into state_dir.
	SubjectKey keyring.Source `yaml:"subject_key"`
	LedgerKey  keyring.Source `yaml:"ledger_key"`
	// AnonymizeKey is no longer used and only accepted so older files still
	// load (with a warning): a kept key let anyone holding it recompute an
	// anonymized CPF from the CPF space in hours, so ANONYMIZE and DELETE
	// key their anonymizers with a secret drawn per request.
	AnonymizeKey keyring.Source `yaml:"anonymize_key"`
	// Webhooks receive the tenant's propagation events (webhooks.go).
	Webhooks []Webhook `yaml:"webhooks"`
	// Controller and DPO (the encarregado) are named to the titular in
	// every export, with their contacts (notice.go).
	Controller Contact `yaml:"controller"`
	DPO        Contact `yaml:"dpo"`
	// Server names the databases.servers entry whose connection budget the
	// tenant shares; empty, tenants share by the host:port of their DSN.
	Server string `yaml:"server"`
	// TitularTokens lets the tenant's portal sign tokens bound to one
	// titular (tokens.go).
	TitularTokens TitularTokens `yaml:"titular_tokens"`

	// Source is the tenant file this tenant came from; empty for the
	// tenants listed in the config file itself.
	Source string `yaml:"-"`
}

// Policy is the controller's instructions for one tenant.
type Policy struct {
	// DeadlineDays is the days a request has before it is overdue (default 15, LGPD Art. 19 II).
	DeadlineDays int `yaml:"deadline_days"`
	// SmallAgent doubles deadlines (Res. CD/ANPD 2/2022).
	SmallAgent bool `yaml:"small_agent"`
	// ApprovalRequired lists the kinds whose requests wait for the DPO's
	// approval (AWAITING_APPROVAL) before a worker runs them: EXTRACT,
	// DELETE or ANONYMIZE. The deadline keeps running while they wait.
	ApprovalRequired []string `yaml:"approval_required"`
	// VerificationRequired lists the kinds whose requests wait, when the
	// caller has not verified the titular's identity (any caller but a
	// titular-bound token), for a DPO to verify it (AWAITING_VERIFICATION,
	// Art. 18 §3) before anything else: EXTRACT, DELETE, ANONYMIZE, BLOCK or
	// REVIEW.
	VerificationRequired []string `yaml:"verification_required"`
	// AccessReasonRequired makes staff callers (dpo, backend, auditor) give
	// a reason (the X-Access-Reason header) for the reads the access log
	// records: export downloads, receipts, ledger entries and consent
	// evidence. Titular-bound callers never need one.
	AccessReasonRequired bool `yaml:"access_reason_required"`
	// BackendConsentEvidence lets the export of an EXTRACT the CRM backend
	// (or any caller but a DPO or the titular's own portal) asked for
	// carry the consent evidence, IP address and user agent. Off by
	// default: the backend gets the titular's consents without it.
	BackendConsentEvidence bool `yaml:"backend_consent_evidence"`
}

// approvableKinds are the kinds a policy may hold for approval: those a
// worker runs. CONFIRM must be immediate (Art. 19 I), CONSENT revocations
// free and as easy as granting (Art. 8 §5), and CORRECT runs in the call.
var approvableKinds = []string{"EXTRACT", "DELETE", "ANONYMIZE", "BLOCK"}

// verifiableKinds are the kinds a policy may hold for identity
// verification: those a worker runs, and REVIEW (its answer tells the
// criteria of a decision about the titular, Art. 20 §1), which then
// reaches the DPO's queue once verified.
var verifiableKinds = append(slices.Clone(approvableKinds), "REVIEW")

// NeedsApproval reports whether requests of kind wait for the DPO.
func (p Policy) NeedsApproval(kind string) bool { return slices.Contains(p.ApprovalRequired, kind) }

// NeedsVerification reports whether requests of kind wait for the
// titular's identity to be verified, unless the caller verified it.
func (p Policy) NeedsVerification(kind string) bool {
	return slices.Contains(p.VerificationRequired, kind)
}

// Auth lists the credentials titular accepts.
type Auth struct {
	APIKeys []APIKey `yaml:"api_keys"`
	// OIDC are the identity providers whose tokens sign staff in (tokens.go).
	OIDC []OIDCIssuer `yaml:"oidc"`
}

// APIKey is a hashed bearer key with a role and the tenants it may touch.
type APIKey struct {
	Name      string   `yaml:"name"`
	KeySHA256 string   `yaml:"key_sha256"`
	Role      string   `yaml:"role"`
	Tenants   []string `yaml:"tenants"`
}

// Workers tunes the background work: request processing, the ledger
// sequencer, webhook delivery, checkpoints and the sweep, scheduled across
// every tenant by one scheduler.
type Workers struct {
	// Concurrency is how many background jobs run at once in this process,
	// across all tenants (default 8). Each may hold two connections.
	Concurrency int `yaml:"concurrency"`
	// PerTenant is how many requests of one tenant run at once in this process (default 2).
	PerTenant int `yaml:"per_tenant"`
	// MinPollInterval and PollInterval bound the backstop poll of a tenant
	// this replica owns: work created elsewhere (another replica, rows
	// written by hand) is found within it. It starts at MinPollInterval
	// (default 2s) and doubles while the tenant stays idle up to
	// PollInterval (default 1m). Work created through this process never
	// waits for it.
	MinPollInterval time.Duration `yaml:"min_poll_interval"`
	PollInterval    time.Duration `yaml:"poll_interval"`
	// OwnershipLease is how long a replica keeps a tenant's background work
	// (backstop polls, sweep, checkpoints) without renewing it: a dead
	// replica's tenants are taken over once it ends (default 3m).
	OwnershipLease time.Duration `yaml:"ownership_lease"`
	// Lease is how long a claimed request stays with its worker before another may take it (default 5m).
	Lease time.Duration `yaml:"lease"`
	// MaxAttempts before a request is marked FAILED (default 5).
	MaxAttempts int `yaml:"max_attempts"`
	// SweepInterval is how often serve erases rows whose retention hold
	// ended (default 1h).
	SweepInterval time.Duration `yaml:"sweep_interval"`
}

// Exports tunes export retention.
type Exports struct {
	// TTL is how long an export stays downloadable (default 720h, 30 days).
	TTL time.Duration `yaml:"ttl"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Load reads, defaults and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the config file (--config)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes data as the config file at path.
func Parse(path string, data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w (see examples/realestate/titular.yaml for the format)", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config path: %w", err)
	}
	c.Dir, c.path = filepath.Dir(abs), abs
	c.applyDefaults()
	c.inline = c.Tenants
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c.TenantsDir != "" {
		c.Tenants, c.TenantFileProblems = c.Catalog()
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	if c.GRPCAddr == "" {
		c.GRPCAddr = "127.0.0.1:9090"
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:8080"
	}
	if c.StateDir == "" {
		c.StateDir = ".titular"
	}
	c.StateDir = c.Resolve(c.StateDir)
	if c.TenantsDir != "" {
		c.TenantsDir = c.Resolve(c.TenantsDir)
	}
	c.Console.applyDefaults(c.Resolve)
	for i := range c.Tenants {
		c.Tenants[i].applyDefaults(c.Dir)
	}
	if c.Workers.Concurrency == 0 {
		c.Workers.Concurrency = 8
	}
	if c.Workers.PerTenant == 0 {
		c.Workers.PerTenant = 2
	}
	if c.Workers.PollInterval == 0 {
		c.Workers.PollInterval = time.Minute
	}
	if c.Workers.MinPollInterval == 0 {
		c.Workers.MinPollInterval = min(2*time.Second, c.Workers.PollInterval)
	}
	if c.Workers.OwnershipLease == 0 {
		c.Workers.OwnershipLease = 3 * time.Minute
	}
	if c.Workers.Lease == 0 {
		c.Workers.Lease = 5 * time.Minute
	}
	if c.Workers.MaxAttempts == 0 {
		c.Workers.MaxAttempts = 5
	}
	if c.Workers.SweepInterval == 0 {
		c.Workers.SweepInterval = time.Hour
	}
	if c.Exports.TTL == 0 {
		c.Exports.TTL = 30 * 24 * time.Hour
	}
	c.WebhookDelivery.applyDefaults()
	c.ledgerDefaults()
	c.Databases.applyDefaults()
	c.tlsDefaults()
	c.HTTP.applyDefaults()
	c.oidcDefaults()
}

// applyDefaults fills a tenant's unset fields and makes its paths absolute
// from dir, the directory of the file it was written in.
func (t *Tenant) applyDefaults(dir string) {
	if t.Policy.DeadlineDays == 0 {
		t.Policy.DeadlineDays = 15
	}
	if t.MaxOpenConns == 0 {
		t.MaxOpenConns = 8
	}
	if t.Name == "" {
		t.Name = t.ID
	}
	resolve := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	t.Datamap = resolve(t.Datamap)
	t.DSNFile = resolve(t.DSNFile)
	for _, src := range keySources(t) {
		src.File = resolve(src.File)
	}
	t.webhookDefaults(resolve)
	t.titularTokenDefaults(resolve)
}

// keySources are the tenant's keyring sources, so every one gets the same
// treatment (path resolution) in one place.
func keySources(t *Tenant) []*keyring.Source {
	return []*keyring.Source{&t.ExportKey, &t.SubjectKey, &t.LedgerKey, &t.AnonymizeKey}
}

// Resolve makes p absolute relative to the config file's directory.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

func (c *Config) validate() error {
	var errs []error
	if len(c.Tenants) == 0 && c.TenantsDir == "" {
		errs = append(errs, errors.New("tenants: at least one tenant is required (list them here or in a tenants_dir)"))
	}
	seen := map[string]bool{}
	for i, t := range c.inline {
		at := fmt.Sprintf("tenants[%d]", i)
		if seen[t.ID] {
			errs = append(errs, fmt.Errorf("%s.id: tenant %q is listed twice", at, t.ID))
		}
		seen[t.ID] = true
		errs = append(errs, t.validate(at)...)
		errs = append(errs, c.validatePool(t, at)...)
	}
	errs = append(errs, c.WebhookDelivery.validate()...)
	errs = append(errs, c.validateLedger()...)
	errs = append(errs, c.Tracing.validate()...)
	errs = append(errs, c.validateWorkers()...)
	errs = append(errs, c.validateDatabases()...)
	names := map[string]bool{}
	for i, k := range c.Auth.APIKeys {
		at := fmt.Sprintf("auth.api_keys[%d]", i)
		if k.Name == "" || names[k.Name] {
			errs = append(errs, fmt.Errorf("%s.name: each key needs a unique name", at))
		}
		names[k.Name] = true
		if len(k.KeySHA256) != 64 || strings.Trim(strings.ToLower(k.KeySHA256), "0123456789abcdef") != "" {
			errs = append(errs, fmt.Errorf("%s.key_sha256: must be the 64-hex SHA-256 of the key (printf %%s KEY | sha256sum)", at))
		}
		errs = append(errs, c.validateGrant(at, k.Role, k.Tenants, seen)...)
	}
	errs = append(errs, c.validateTLS(seen)...)
	errs = append(errs, c.validateOIDC(seen)...)
	errs = append(errs, c.HTTP.validate()...)
	return errors.Join(errs...)
}

// validate checks one tenant entry; at says where it was written.
func (t Tenant) validate(at string) []error {
	var errs []error
	if !idPattern.MatchString(t.ID) {
		errs = append(errs, fmt.Errorf("%s.id: %q is not a valid tenant id (lower-case letters, digits, '-' and '_', up to 63)", at, t.ID))
	}
	n := 0
	for _, s := range []string{t.DSN, t.DSNEnv, t.DSNFile} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		errs = append(errs, fmt.Errorf("%s: set exactly one of dsn_env, dsn_file or dsn (dsn only for development: it puts a secret in the file)", at))
	}
	if t.Datamap == "" {
		errs = append(errs, fmt.Errorf("%s.datamap: the path of the tenant's data map is required", at))
	}
	if t.Policy.DeadlineDays < 1 || t.Policy.DeadlineDays > 365 {
		errs = append(errs, fmt.Errorf("%s.policy.deadline_days: %d is out of range 1..365", at, t.Policy.DeadlineDays))
	}
	if t.MaxOpenConns < 2 {
		errs = append(errs, fmt.Errorf("%s.max_open_conns: %d is too few; a request may hold two connections (default 8)", at, t.MaxOpenConns))
	}
	for _, k := range t.Policy.ApprovalRequired {
		if !slices.Contains(approvableKinds, k) {
			errs = append(errs, fmt.Errorf("%s.policy.approval_required: %q cannot wait for approval; list only %s "+
				"(CONFIRM is immediate, CONSENT is free to revoke, CORRECT runs in the call)", at, k, strings.Join(approvableKinds, ", ")))
		}
	}
	for _, k := range t.Policy.VerificationRequired {
		if !slices.Contains(verifiableKinds, k) {
			errs = append(errs, fmt.Errorf("%s.policy.verification_required: %q cannot wait for verification; list only %s "+
				"(CONFIRM is immediate, CONSENT is free to revoke, CORRECT runs in the call)", at, k, strings.Join(verifiableKinds, ", ")))
		}
	}
	errs = append(errs, t.validateTitularTokens(at)...)
	errs = append(errs, t.validateNotice(at)...)
	return append(errs, t.validateWebhooks(at)...)
}

// validatePool checks a tenant's pool holds what this process's workers may
// take of it at once: workers.per_tenant requests, each EXTRACT or
// ANONYMIZE holding two connections (a read snapshot and the write).
func (c *Config) validatePool(t Tenant, at string) []error {
	if need := 2 * c.Workers.PerTenant; c.Workers.PerTenant > 0 && t.MaxOpenConns >= 2 && t.MaxOpenConns < need {
		return []error{fmt.Errorf("%s.max_open_conns: %d is below 2 × workers.per_tenant (%d): each EXTRACT or ANONYMIZE holds two connections; raise max_open_conns or lower workers.per_tenant",
			at, t.MaxOpenConns, need)}
	}
	return nil
}

func (c *Config) validateWorkers() []error {
	w := c.Workers
	var errs []error
	if w.Concurrency < 1 || w.PerTenant < 1 || w.MaxAttempts < 1 {
		errs = append(errs, errors.New("workers: concurrency, per_tenant and max_attempts must be at least 1"))
	}
	if w.MinPollInterval <= 0 || w.PollInterval < w.MinPollInterval {
		errs = append(errs, fmt.Errorf("workers: min_poll_interval (%s) must be positive and at most poll_interval (%s)", w.MinPollInterval, w.PollInterval))
	}
	if w.OwnershipLease < 3*time.Second {
		errs = append(errs, fmt.Errorf("workers.ownership_lease: %s is too short; a replica renews it every third of it (default 3m)", w.OwnershipLease))
	}
	if w.Lease <= 0 || w.SweepInterval <= 0 {
		errs = append(errs, errors.New("workers: lease and sweep_interval must be positive"))
	}
	return errs
}

// Tenant returns the tenant with the given id, from the config file or
// its tenants_dir as loaded.
func (c *Config) Tenant(id string) (Tenant, bool) {
	for _, t := range c.Tenants {
		if t.ID == id {
			return t, true
		}
	}
	return Tenant{}, false
}

// ResolveDSN returns the tenant's DSN from its env var, file or inline value.
func (t Tenant) ResolveDSN() (string, error) {
	switch {
	case t.DSNEnv != "":
		v := strings.TrimSpace(os.Getenv(t.DSNEnv))
		if v == "" {
			return "", fmt.Errorf("tenant %s: environment variable %s is empty; export it with the tenant's DSN", t.ID, t.DSNEnv)
		}
		return v, nil
	case t.DSNFile != "":
		b, err := os.ReadFile(t.DSNFile)
		if err != nil {
			return "", fmt.Errorf("tenant %s: read dsn_file: %w", t.ID, err)
		}
		return strings.TrimSpace(string(b)), nil
	default:
		return t.DSN, nil
	}
}

// Deadline is the tenant's request deadline, doubled for small agents.
func (p Policy) Deadline() time.Duration {
	d := p.DeadlineDays
	if p.SmallAgent {
		d *= 2
	}
	return time.Duration(d) * 24 * time.Hour
}
