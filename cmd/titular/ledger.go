package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/titular/titular/config"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/server"
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
		skey, err := server.LedgerSigningKey(cfg, log, false)
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
	previous, err := server.PreviousLedgerVerifiers(cfg)
	if err != nil {
		return err
	}
	checks := ledger.Checks{Origin: ledger.Origin(cfg.Ledger.Host, *tenantID), Verifier: verifier, Previous: previous}
	for _, f := range cpFiles {
		b, err := os.ReadFile(f) //nolint:gosec // G304: the operator names the checkpoint files (--checkpoint)
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
	witnessed, err := cosignedCheckpoints(ctx, cfg, st, checks.Origin)
	if err != nil {
		return fmt.Errorf("the ledger of tenant %s does NOT verify: %w", *tenantID, err)
	}
	for _, w := range witnessed {
		checks.Checkpoints = append(checks.Checkpoints, []byte(w.Note))
	}
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
	for _, w := range witnessed {
		fmt.Fprintf(out, "witness %s: cosigned size %d, which the ledger extends\n", w.Witness, w.Size)
	}
	if len(cfg.Ledger.Witnesses) == 0 {
		fmt.Fprintln(out, "no witnesses configured: a rollback to an older consistent copy is caught only with --checkpoint")
	}
	return nil
}

// cosignedCheckpoints returns, for each configured witness, the latest
// checkpoint it cosigned, its cosignature checked with the witness's key.
// The ledger must not be shorter than any, nor hold another root at its
// size: a witness cosigns only checkpoints that extend what it saw before.
func cosignedCheckpoints(ctx context.Context, cfg *config.Config, st *store.Store, origin string) ([]store.Cosigned, error) {
	var out []store.Cosigned
	for i, w := range cfg.Ledger.Witnesses {
		v, err := ledger.NewCosignatureVerifier(w.Key)
		if err != nil {
			return nil, fmt.Errorf("ledger.witnesses[%d].key: %w", i, err)
		}
		c, err := st.LatestCosigned(ctx, w.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		cp, err := ledger.OpenCosigned([]byte(c.Note), v)
		if err != nil {
			return nil, fmt.Errorf("the stored cosignature of witness %s at size %d: %w", w.Name, c.Size, err)
		}
		if cp.Origin != origin || cp.Size != c.Size {
			return nil, fmt.Errorf("the stored cosignature of witness %s is of %s at size %d, not of this ledger at size %d", w.Name, cp.Origin, cp.Size, c.Size)
		}
		out = append(out, c)
	}
	return out, nil
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
	signer, verifier, previous, err := server.LedgerSigner(cfg, log)
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
	if err := server.WriteLedgerKeyPair(*prefix, skey, vkey); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s.key (secret) and %s.pub\nverifier key: %s\nin the config: ledger: {host: %s, signing_key_file: %s.key}\n"+
		"titulares check receipts with this public key: titular receipt verify RECEIPT --key %s.pub (serve also publishes it at GET /v1/tenants/{tenant}/ledger/public-key)\n"+
		"replacing a key: also list the old key's .pub line in ledger.previous_verifier_keys, so its checkpoints still verify\n",
		*prefix, *prefix, vkey, *name, *prefix, *prefix)
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
	return store.New(db, store.WithLedgerKey(ledgerKey), store.WithSubjectKey(subjectKey)), func() { _ = db.Close() }, nil
}
