package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/titular/titular/ledger"
)

// Ledger configures the tamper-evident ledger's checkpoints.
type Ledger struct {
	// Host names the log in checkpoint origins, "<host>/ledger/<tenant>"
	// (default "titular.local"). Pick one and keep it: it is in every
	// checkpoint published.
	Host string `yaml:"host"`
	// The Ed25519 signing key, as written by `titular ledger keygen`, comes
	// from a file or an environment variable, never from this file. Unset:
	// a development key is generated into state_dir with a warning.
	SigningKeyFile string `yaml:"signing_key_file"`
	SigningKeyEnv  string `yaml:"signing_key_env"`
	// CheckpointInterval is how often `serve` signs a checkpoint of each
	// tenant's ledger when it grew (default 1m).
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// PreviousVerifierKeys are the public verifier keys ("name+hash+key", as
	// in a .pub file) of signing keys rotated out: checkpoints they signed
	// still verify, and serve keeps extending them. Public, so inline.
	PreviousVerifierKeys []string `yaml:"previous_verifier_keys"`
	// Witnesses cosign each new checkpoint (C2SP tlog-witness): serve
	// submits it with a consistency proof from the size the witness last
	// cosigned and keeps the cosignature (in the database and in
	// WitnessedDir); `titular ledger verify` then asks each witness the
	// size it cosigned and fails a ledger rolled back below it, even with
	// the whole database restored. Without witnesses, only checkpoints
	// published elsewhere catch such a rollback.
	Witnesses []Witness `yaml:"witnesses"`
	// WitnessedDir is where serve keeps, per tenant and witness, the latest
	// cosigned checkpoint (default <state_dir>/witnessed): evidence outside
	// the database, which `ledger verify` reads too. Back it up apart from
	// the database; a restore of the database does not roll it back.
	WitnessedDir string `yaml:"witnessed_dir"`
}

// WitnessedFile is the file holding the latest checkpoint witness cosigned
// for tenant's ledger. Tenant ids and witness names are validated as path
// safe (letters, digits, '.', '_', '-', not starting with '.').
func (c *Config) WitnessedFile(tenant, witness string) string {
	return filepath.Join(c.Ledger.WitnessedDir, tenant, witness+".cosigned")
}

// Witness is one outside witness of the ledger's checkpoints.
type Witness struct {
	// Name identifies the witness in logs and in stored cosignatures;
	// keep it once used.
	Name string `yaml:"name"`
	// URL is the witness's prefix: titular POSTs to URL/add-checkpoint.
	// https, or http to a loopback address only.
	URL string `yaml:"url"`
	// Key is the witness's public key, "name+hash+key" (Ed25519, as a note
	// verifier key or its cosignature/v1 form).
	Key string `yaml:"key"`
}

// verifierKeyPattern is the shape of a signed-note verifier key: name,
// 8 hex digits of key hash, base64 key.
var verifierKeyPattern = regexp.MustCompile(`^[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$`)

// hostPattern accepts DNS-like names: the origin line must be one line of
// printable text, and signed-note key names forbid spaces and '+'.
var hostPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?$`)

func (c *Config) ledgerDefaults() {
	if c.Ledger.Host == "" {
		c.Ledger.Host = "titular.local"
	}
	if c.Ledger.CheckpointInterval == 0 {
		c.Ledger.CheckpointInterval = time.Minute
	}
	if c.Ledger.WitnessedDir == "" {
		c.Ledger.WitnessedDir = filepath.Join(c.StateDir, "witnessed")
	}
	c.Ledger.WitnessedDir = c.Resolve(c.Ledger.WitnessedDir)
	if c.Ledger.SigningKeyFile != "" {
		c.Ledger.SigningKeyFile = c.Resolve(c.Ledger.SigningKeyFile)
	}
}

func (c *Config) validateLedger() []error {
	var errs []error
	l := c.Ledger
	if !hostPattern.MatchString(l.Host) {
		errs = append(errs, fmt.Errorf("ledger.host: %q is not a host name (letters, digits, '.', '-', optional :port)", l.Host))
	}
	if l.SigningKeyFile != "" && l.SigningKeyEnv != "" {
		errs = append(errs, errors.New("ledger: set signing_key_file or signing_key_env, not both"))
	}
	for i, k := range l.PreviousVerifierKeys {
		if !verifierKeyPattern.MatchString(strings.TrimSpace(k)) {
			errs = append(errs, fmt.Errorf("ledger.previous_verifier_keys[%d]: not a verifier key; paste the line of the old key's .pub file (name+hash+key)", i))
		}
	}
	errs = append(errs, validateWitnesses(l.Witnesses)...)
	if l.CheckpointInterval < time.Second {
		errs = append(errs, fmt.Errorf("ledger.checkpoint_interval: %s is too short; use 1s or more", l.CheckpointInterval))
	}
	return errs
}

var witnessNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$`)

func validateWitnesses(ws []Witness) []error {
	var errs []error
	seen := map[string]bool{}
	for i, w := range ws {
		at := fmt.Sprintf("ledger.witnesses[%d]", i)
		if !witnessNamePattern.MatchString(w.Name) {
			errs = append(errs, fmt.Errorf("%s.name: %q must be letters, digits, '.', '_' or '-'", at, w.Name))
		}
		if seen[w.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is listed twice", at, w.Name))
		}
		seen[w.Name] = true
		u, err := url.Parse(w.URL)
		switch {
		case err != nil || u.Host == "":
			errs = append(errs, fmt.Errorf("%s.url: %q is not an absolute URL; use https://witness.example/prefix", at, w.URL))
		case u.Scheme == "https":
		case u.Scheme == "http" && isLoopback(u.Hostname()):
		default:
			errs = append(errs, fmt.Errorf("%s.url: use https (plain http only to a loopback address)", at))
		}
		if _, err := ledger.NewCosignatureVerifier(w.Key); err != nil {
			errs = append(errs, fmt.Errorf("%s.key: %v; paste the witness's public key", at, err))
		}
	}
	return errs
}
