package server

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/config"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/service"
	"github.com/titular/titular/tenant"
)

// The checkpoint signing key is found here for the server, which signs
// checkpoints as it runs, and for the ledger commands of the CLI, so both
// find the same key the same way.

// newLedgerService builds the ledger service with the configured signer.
func newLedgerService(cfg *config.Config, tenants *tenant.Registry, log *slog.Logger) (*service.Ledger, error) {
	signer, verifier, previous, err := LedgerSigner(cfg, log)
	if err != nil {
		return nil, err
	}
	skey, err := LedgerSigningKey(cfg, log, false)
	if err != nil {
		return nil, err
	}
	vkey, err := ledger.VerifierKey(skey)
	if err != nil {
		return nil, err
	}
	l := service.NewLedger(tenants, signer, verifier, previous, cfg.Ledger.Host, log)
	l.PublishKeys(vkey, cfg.Ledger.PreviousVerifierKeys)
	return l, nil
}

// LedgerSigner returns the checkpoint signer, its verifier, and the verifiers
// of signing keys rotated out (ledger.previous_verifier_keys).
func LedgerSigner(cfg *config.Config, log *slog.Logger) (note.Signer, note.Verifier, []note.Verifier, error) {
	skey, err := LedgerSigningKey(cfg, log, true)
	if err != nil {
		return nil, nil, nil, err
	}
	signer, err := ledger.NewSigner(skey)
	if err != nil {
		return nil, nil, nil, err
	}
	vkey, err := ledger.VerifierKey(skey)
	if err != nil {
		return nil, nil, nil, err
	}
	verifier, err := ledger.NewVerifier(vkey)
	if err != nil {
		return nil, nil, nil, err
	}
	previous, err := PreviousLedgerVerifiers(cfg)
	return signer, verifier, previous, err
}

// LedgerSigningKey returns the checkpoint signing key from the configured file
// or environment variable. With neither (development) it uses, or when
// generate is set creates, <state_dir>/keys/ledger-signing.key, with a
// warning (DESIGN §2); the key never goes into a tenant database.
func LedgerSigningKey(cfg *config.Config, log *slog.Logger, generate bool) (string, error) {
	switch {
	case cfg.Ledger.SigningKeyEnv != "":
		v := strings.TrimSpace(os.Getenv(cfg.Ledger.SigningKeyEnv))
		if v == "" {
			return "", fmt.Errorf("ledger: environment variable %s is empty; export the key written by titular ledger keygen", cfg.Ledger.SigningKeyEnv)
		}
		return v, nil
	case cfg.Ledger.SigningKeyFile != "":
		b, err := os.ReadFile(cfg.Ledger.SigningKeyFile) //nolint:gosec // G304: the operator names the key file in the config
		if err != nil {
			return "", fmt.Errorf("ledger.signing_key_file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	prefix := filepath.Join(cfg.StateDir, "keys", "ledger-signing")
	b, err := os.ReadFile(prefix + ".key") //nolint:gosec // G304: the path is <state_dir>/keys/ledger-signing.key, state_dir from the operator's config
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) || !generate {
		return "", fmt.Errorf("ledger: no signing key configured and none generated in %s: %w", filepath.Dir(prefix), err)
	}
	if err := os.MkdirAll(filepath.Dir(prefix), 0o700); err != nil {
		return "", fmt.Errorf("create key directory: %w", err)
	}
	skey, vkey, err := ledger.GenerateKey(cfg.Ledger.Host)
	if err != nil {
		return "", err
	}
	if err := WriteLedgerKeyPair(prefix, skey, vkey); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process generated it first; use theirs.
			return LedgerSigningKey(cfg, log, false)
		}
		return "", err
	}
	log.Warn("generated a development ledger signing key; configure ledger.signing_key_file for production (titular ledger keygen)",
		"path", prefix+".key", "verifier_key", vkey)
	return skey, nil
}

// PreviousLedgerVerifiers parses ledger.previous_verifier_keys.
func PreviousLedgerVerifiers(cfg *config.Config) ([]note.Verifier, error) {
	var out []note.Verifier
	for i, k := range cfg.Ledger.PreviousVerifierKeys {
		v, err := ledger.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("ledger.previous_verifier_keys[%d]: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// WriteLedgerKeyPair writes the secret key exclusively (never over an existing
// key) and the public key beside it. A secret key that could not be written
// in full is removed: a truncated key left behind would be taken for the key
// by every later start.
func WriteLedgerKeyPair(prefix, skey, vkey string) error {
	name := prefix + ".key"
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // G304: the prefix is the operator's (--out, or under state_dir)
	if err != nil {
		return fmt.Errorf("write signing key: %w", err)
	}
	_, err = f.WriteString(skey + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// The file is ours (O_EXCL): remove what was written of it.
		return errors.Join(fmt.Errorf("write signing key: %w", err), os.Remove(name)) //nolint:gosec // G703: the file just created above, from the operator's prefix
	}
	if err := os.WriteFile(prefix+".pub", []byte(vkey+"\n"), 0o644); err != nil { //nolint:gosec // G306: the verifier key is public, meant to be handed out to whoever checks checkpoints
		return fmt.Errorf("write verifier key: %w", err)
	}
	return nil
}
