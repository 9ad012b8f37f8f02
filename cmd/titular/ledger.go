package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/config"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/service"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// runLedger dispatches `titular ledger verify|checkpoint|keygen`.
func runLedger(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("ledger: the subcommand is 'verify', 'checkpoint' or 'keygen'")
	}
	switch args[0] {
	case "verify":
		return runLedgerVerify(ctx, args[1:], out)
	case "checkpoint":
		return runLedgerCheckpoint(ctx, args[1:], out)
	case "keygen":
		return runLedgerKeygen(args[1:], out)
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("ledger: unknown subcommand %q; use verify, checkpoint or keygen", args[0])
}

// runLedgerVerify recomputes a tenant's ledger from its leaves and checks it
// against the stored head, the latest stored checkpoint and the given ones.
func runLedgerVerify(ctx context.Context, args []string, out io.Writer) error {
	cmd := newConfigCommand("ledger verify")
	tenantID := cmd.fs.String("tenant", "", "tenant id (required)")
	pubKey := cmd.fs.String("public-key", "", "verifier key file (.pub); default: derived from the configured signing key")
	var cpFiles []string
	cmd.fs.Func("checkpoint", "a signed checkpoint published earlier (repeatable)", func(v string) error {
		cpFiles = append(cpFiles, v)
		return nil
	})
	log, cfg, err := loadLedgerCommand(cmd, args, tenantID)
	if err != nil {
		return err
	}
	var vkey string
	if *pubKey != "" {
		b, err := os.ReadFile(*pubKey)
		if err != nil {
			return fmt.Errorf("--public-key: %w", err)
		}
		vkey = string(b)
	} else {
		skey, err := loadSigningKey(cfg, log, false)
		if err != nil {
			return err
		}
		if vkey, err = ledger.VerifierKey(skey); err != nil {
			return err
		}
	}
	verifier, err := ledger.NewVerifier(vkey)
	if err != nil {
		return err
	}
	previous, err := previousVerifiers(cfg)
	if err != nil {
		return err
	}
	checks := ledger.Checks{Origin: ledger.Origin(cfg.Ledger.Host, *tenantID), Verifier: verifier, Previous: previous}
	for _, f := range cpFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("--checkpoint: %w", err)
		}
		checks.Checkpoints = append(checks.Checkpoints, b)
	}
	st, closeDB, err := openLedgerStore(ctx, cfg, *tenantID, log)
	if err != nil {
		return err
	}
	defer closeDB()
	rep, err := st.VerifyLedger(ctx, checks)
	if err != nil {
		return fmt.Errorf("the ledger of tenant %s does NOT verify: %w", *tenantID, err)
	}
	pending, err := st.PendingLeaves(ctx)
	if err != nil {
		return err
	}
	largest := "none"
	if n := len(rep.Checkpoints); n > 0 {
		largest = fmt.Sprintf("largest size %d", rep.Checkpoints[n-1].Size)
	}
	fmt.Fprintf(out, "ledger of tenant %s verifies: %d entries, %d stored nodes, root %s\n",
		*tenantID, rep.Size, rep.Nodes, base64.StdEncoding.EncodeToString(rep.Root))
	fmt.Fprintf(out, "checkpoints verified: %d (%s); leaves awaiting integration: %d\n", len(rep.Checkpoints), largest, pending)
	return nil
}

// runLedgerCheckpoint prints the latest signed checkpoint, signing a new
// one when the ledger grew, for publishing outside the database.
func runLedgerCheckpoint(ctx context.Context, args []string, out io.Writer) error {
	cmd := newConfigCommand("ledger checkpoint")
	tenantID := cmd.fs.String("tenant", "", "tenant id (required)")
	log, cfg, err := loadLedgerCommand(cmd, args, tenantID)
	if err != nil {
		return err
	}
	signer, verifier, previous, err := loadSigner(cfg, log)
	if err != nil {
		return err
	}
	st, closeDB, err := openLedgerStore(ctx, cfg, *tenantID, log)
	if err != nil {
		return err
	}
	defer closeDB()
	cp, err := st.Checkpoint(ctx, signer, verifier, ledger.Origin(cfg.Ledger.Host, *tenantID), previous...)
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, cp.Note)
	return err
}

// runLedgerKeygen writes a checkpoint signing key pair for production.
func runLedgerKeygen(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("ledger keygen", flag.ContinueOnError)
	prefix := fs.String("out", "", "write PREFIX.key (secret, mode 0600) and PREFIX.pub (required)")
	name := fs.String("name", "titular.local", "key name in signature lines; use ledger.host")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *prefix == "" {
		return errors.New("ledger keygen: --out PREFIX is required")
	}
	skey, vkey, err := ledger.GenerateKey(*name)
	if err != nil {
		return err
	}
	if err := writeKeyPair(*prefix, skey, vkey); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s.key (secret) and %s.pub\nverifier key: %s\nin the config: ledger: {host: %s, signing_key_file: %s.key}\n"+
		"replacing a key: also list the old key's .pub line in ledger.previous_verifier_keys, so its checkpoints still verify\n",
		*prefix, *prefix, vkey, *name, *prefix)
	return nil
}

// writeKeyPair writes the secret key exclusively (never over an existing
// key) and the public key beside it.
func writeKeyPair(prefix, skey, vkey string) error {
	f, err := os.OpenFile(prefix+".key", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write signing key: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write signing key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write signing key: %w", err)
	}
	if err := os.WriteFile(prefix+".pub", []byte(vkey+"\n"), 0o644); err != nil {
		return fmt.Errorf("write verifier key: %w", err)
	}
	return nil
}

// loadLedgerCommand is cmd.load, plus the check that --tenant (tenantID,
// registered on cmd) names a configured tenant.
func loadLedgerCommand(cmd *configCommand, args []string, tenantID *string) (*slog.Logger, *config.Config, error) {
	cfg, log, err := cmd.load(args)
	if err != nil {
		return nil, nil, err
	}
	if _, ok := cfg.Tenant(*tenantID); !ok {
		return nil, nil, fmt.Errorf("--tenant %q is not a configured tenant", *tenantID)
	}
	return log, cfg, nil
}

// openLedgerStore opens one tenant's store with its ledger and subject keys,
// without loading its data map: the ledger needs neither.
func openLedgerStore(ctx context.Context, cfg *config.Config, id string, log *slog.Logger) (*store.Store, func(), error) {
	tc, _ := cfg.Tenant(id)
	keys := keyring.New(cfg.StateDir, log)
	ledgerKey, err := keys.Key(id, "ledger", tc.LedgerKey)
	if err != nil {
		return nil, nil, err
	}
	subjectKey, err := keys.Key(id, "subject", tc.SubjectKey)
	if err != nil {
		return nil, nil, err
	}
	db, err := tenant.Open(ctx, tc)
	if err != nil {
		return nil, nil, err
	}
	return store.New(db, store.WithLedgerKey(ledgerKey), store.WithSubjectKey(subjectKey)), func() { db.Close() }, nil
}

// newLedgerService builds the ledger service with the configured signer.
func newLedgerService(cfg *config.Config, tenants *tenant.Registry, log *slog.Logger) (*service.Ledger, error) {
	signer, verifier, previous, err := loadSigner(cfg, log)
	if err != nil {
		return nil, err
	}
	return service.NewLedger(tenants, signer, verifier, previous, cfg.Ledger.Host, log), nil
}

// previousVerifiers parses ledger.previous_verifier_keys.
func previousVerifiers(cfg *config.Config) ([]note.Verifier, error) {
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

// loadSigner returns the checkpoint signer, its verifier, and the verifiers
// of signing keys rotated out (ledger.previous_verifier_keys).
func loadSigner(cfg *config.Config, log *slog.Logger) (note.Signer, note.Verifier, []note.Verifier, error) {
	skey, err := loadSigningKey(cfg, log, true)
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
	previous, err := previousVerifiers(cfg)
	return signer, verifier, previous, err
}

// loadSigningKey returns the checkpoint signing key from the configured file
// or environment variable. With neither (development) it uses, or when
// generate is set creates, <state_dir>/keys/ledger-signing.key, with a
// warning (DESIGN §2); the key never goes into a tenant database.
func loadSigningKey(cfg *config.Config, log *slog.Logger, generate bool) (string, error) {
	switch {
	case cfg.Ledger.SigningKeyEnv != "":
		v := strings.TrimSpace(os.Getenv(cfg.Ledger.SigningKeyEnv))
		if v == "" {
			return "", fmt.Errorf("ledger: environment variable %s is empty; export the key written by titular ledger keygen", cfg.Ledger.SigningKeyEnv)
		}
		return v, nil
	case cfg.Ledger.SigningKeyFile != "":
		b, err := os.ReadFile(cfg.Ledger.SigningKeyFile)
		if err != nil {
			return "", fmt.Errorf("ledger.signing_key_file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	prefix := filepath.Join(cfg.StateDir, "keys", "ledger-signing")
	b, err := os.ReadFile(prefix + ".key")
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
	if err := writeKeyPair(prefix, skey, vkey); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process generated it first; use theirs.
			return loadSigningKey(cfg, log, false)
		}
		return "", err
	}
	log.Warn("generated a development ledger signing key; configure ledger.signing_key_file for production (titular ledger keygen)",
		"path", prefix+".key", "verifier_key", vkey)
	return skey, nil
}
