package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
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
	if l.CheckpointInterval < time.Second {
		errs = append(errs, fmt.Errorf("ledger.checkpoint_interval: %s is too short; use 1s or more", l.CheckpointInterval))
	}
	return errs
}
