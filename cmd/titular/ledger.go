package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"golang.org/x/mod/sumdb/note"

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
// against the stored head, the latest stored checkpoint, the given ones, the
// cosigned checkpoints kept in the database and in ledger.witnessed_dir, and
// what each configured witness answers now.
func runLedgerVerify(ctx context.Context, args []string, out io.Writer) error {
	cmd := newConfigCommand("ledger verify")
	tenantID := cmd.fs.String("tenant", "", "tenant id (required)")
	pubKey := cmd.fs.String("public-key", "", "verifier key file (.pub); default: derived from the configured signing key")
	offline := cmd.fs.Bool("offline", false, "do not ask the configured witnesses what they cosigned (a restore of the whole database then goes unnoticed unless ledger.witnessed_dir or --checkpoint remembers)")
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
	var signer note.Signer // nil with --public-key: an auditor without the signing key
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
		if signer, err = ledger.NewSigner(skey); err != nil {
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
	fail := func(err error) error {
		return fmt.Errorf("the ledger of tenant %s does NOT verify: %w", *tenantID, err)
	}
	witnessed, err := server.CosignedCheckpoints(ctx, cfg, st, checks.Origin)
	if err != nil {
		return fail(err)
	}
	for _, w := range witnessed {
		checks.Checkpoints = append(checks.Checkpoints, []byte(w.Note))
	}
	kept, err := server.KeptCheckpoints(cfg, *tenantID, checks.Origin)
	if err != nil {
		return fail(err)
	}
	for _, k := range kept {
		checks.Checkpoints = append(checks.Checkpoints, k.Note)
	}
	// The checkpoint shown to the witnesses: the latest stored one, read
	// before the tree so that the tree is checked against it.
	latest, latestErr := st.LatestCheckpoint(ctx)
	if latestErr != nil && !errors.Is(latestErr, store.ErrNotFound) {
		return latestErr
	}
	rep, err := st.VerifyLedger(ctx, checks)
	if err != nil {
		return fail(err)
	}
	var asked []askedWitness
	if !*offline && len(cfg.Ledger.Witnesses) > 0 {
		show := shownCheckpoint{note: []byte(latest.Note), size: latest.Size}
		if latestErr != nil { // no checkpoint stored: sign one of the verified tree, not stored
			if signer == nil {
				return fail(errors.New("no checkpoint is stored to show the witnesses and --public-key gives no signing key; " +
					"run titular ledger checkpoint first, or pass --offline"))
			}
			n, err := ledger.SignCheckpoint(signer, checks.Origin, rep.Size, rep.Root)
			if err != nil {
				return err
			}
			show = shownCheckpoint{note: n, size: rep.Size}
		}
		if asked, err = askWitnesses(ctx, cfg, st, checks, show); err != nil {
			return fail(err)
		}
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
		fmt.Fprintf(out, "witness %s: cosigned size %d, which the ledger extends (copy in the database)\n", w.Witness, w.Size)
	}
	for _, k := range kept {
		fmt.Fprintf(out, "witness %s: cosigned size %d, which the ledger extends (copy in %s)\n", k.Witness, k.Size, k.Path)
	}
	for _, a := range asked {
		if a.before == 0 {
			fmt.Fprintf(out, "witness %s (asked now): had not cosigned this ledger before; it cosigned size %d now\n", a.witness, a.size)
		} else {
			fmt.Fprintf(out, "witness %s (asked now): last cosigned size %d, which the ledger's checkpoint of size %d extends\n", a.witness, a.before, a.size)
		}
	}
	switch {
	case len(cfg.Ledger.Witnesses) == 0:
		fmt.Fprintln(out, "no witnesses configured: a rollback to an older consistent copy is caught only with --checkpoint")
	case *offline:
		fmt.Fprintf(out, "witnesses not asked (--offline): a restore of the whole database is caught only by the copies in %s and --checkpoint\n", cfg.Ledger.WitnessedDir)
	}
	return nil
}

// shownCheckpoint is the signed checkpoint shown to the witnesses.
type shownCheckpoint struct {
	note []byte
	size uint64
}

// askedWitness is a witness's answer: the size it had cosigned before and
// the size it agreed the ledger extends that to.
type askedWitness struct {
	witness      string
	before, size uint64
}

// askWitnesses asks every configured witness what it cosigned for this
// ledger (ledger.AskWitness). The witnesses' memory is outside the database:
// a restore of an older copy, cosignatures table included, still disagrees
// with it. A witness that moved past the shown checkpoint while verify ran
// (serve pushing a newer one) is asked again once with the newer checkpoint.
func askWitnesses(ctx context.Context, cfg *config.Config, st *store.Store, checks ledger.Checks, show shownCheckpoint) ([]askedWitness, error) {
	client := &http.Client{Timeout: 15 * time.Second}
	var out []askedWitness
	for i, w := range cfg.Ledger.Witnesses {
		v, err := ledger.NewCosignatureVerifier(w.Key)
		if err != nil {
			return nil, fmt.Errorf("ledger.witnesses[%d].key: %w", i, err)
		}
		for again := true; ; again = false {
			size := show.size
			view, err := ledger.AskWitness(ctx, client, w.URL, v, show.note, size, func(old uint64) ([][]byte, error) {
				return st.ConsistencyProof(ctx, old, size)
			})
			var rolled *ledger.ErrRolledBack
			if errors.As(err, &rolled) && !rolled.Forked && again {
				newer, err := st.LatestCheckpoint(ctx)
				if err == nil && newer.Size >= rolled.WitnessSize {
					if _, err := ledger.OpenCheckpoint([]byte(newer.Note), checks.Origin, checks.Verifier, checks.Previous...); err != nil {
						return nil, fmt.Errorf("the latest stored checkpoint: %w", err)
					}
					show = shownCheckpoint{note: []byte(newer.Note), size: newer.Size}
					continue
				}
			}
			switch {
			case errors.As(err, &rolled):
				rolled.Witness = w.Name // the configured name, as serve's logs say it
				return nil, rolled
			case err != nil:
				return nil, fmt.Errorf("could not ask witness %s what it cosigned: %w; check that it is reachable, or pass --offline to verify without asking", w.Name, err)
			}
			out = append(out, askedWitness{witness: w.Name, before: view.Size, size: size})
			break
		}
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
