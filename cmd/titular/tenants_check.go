package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/titular/titular/config"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/store"
)

// checkTimeout bounds one tenant's check: reaching its database, its
// schema version and reading its live schema for the data map.
const checkTimeout = 30 * time.Second

// maxMapProblems caps the data-map lines shown per tenant: a map written
// for another schema fails on every table, and `titular datamap check`
// lists them all.
const maxMapProblems = 10

// runTenantsCheck is `titular tenants check`: for each tenant, what serve
// needs of it, so a fleet is fixed before serving rather than tenant by
// tenant in /readyz.
func runTenantsCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := newFleetCommand("tenants check", 16, true)
	entries, cfg, _, err := cmd.entries(args)
	if err != nil {
		return err
	}
	prog := newProgress(stderr, "tenants check", len(entries), true)
	type checked struct {
		e     fleetEntry
		fails []string
	}
	var out []checked
	forEachTenant(ctx, entries, cmd.concurrency, func(ctx context.Context, e fleetEntry) []string {
		return checkTenant(ctx, cfg, e)
	}, func(e fleetEntry, fails []string) {
		out = append(out, checked{e, fails})
		prog.step(len(fails) > 0)
	})
	prog.finish()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tenants check: interrupted: %w", err)
	}
	slices.SortStableFunc(out, func(a, b checked) int { return strings.Compare(a.e.ID, b.e.ID) })
	failed := 0
	for _, c := range out {
		if len(c.fails) == 0 {
			fmt.Fprintf(stdout, "OK    %s (%s)\n", c.e.ID, c.e.Source)
			continue
		}
		failed++
		fmt.Fprintf(stdout, "FAIL  %s (%s)\n", c.e.ID, c.e.Source)
		for _, f := range c.fails {
			fmt.Fprintf(stdout, "      - %s\n", f)
		}
	}
	fmt.Fprintf(stdout, "tenants check: %s, %d OK, %d failed\n", tenantCount(len(out)), len(out)-failed, failed)
	if failed > 0 {
		return fmt.Errorf("tenants check: %d of %d tenants failed; fix the reasons listed and run it again", failed, len(out))
	}
	return nil
}

// errNoDatabase stands for the live schema of a tenant whose database did
// not answer: its data map is still loaded and validated on its own.
var errNoDatabase = errors.New("no database to check the data map against")

// schemaError marks a failure to read the live schema, so it is described
// like the other database errors rather than quoted.
type schemaError struct{ err error }

func (e schemaError) Error() string { return e.err.Error() }
func (e schemaError) Unwrap() error { return e.err }

// checkTenant returns why the tenant could not be served, one line each;
// none when it can. It goes on past a failed step when the next ones do not
// depend on it, so one run shows everything to fix.
func checkTenant(ctx context.Context, cfg *config.Config, e fleetEntry) []string {
	if e.Problem != "" {
		return []string{e.fileFailure().String()}
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	fails := checkSecrets(cfg, e.Tenant)
	schema := func() (*datamap.Schema, error) { return nil, errNoDatabase }
	db, _, fail := openEntry(ctx, e)
	if fail != nil {
		fails = append(fails, fail.String())
	} else {
		defer func() { _ = db.Close() }()
		cur, latest, err := store.SchemaVersion(ctx, db)
		switch {
		case err != nil:
			fails = append(fails, "schema version: "+classify(err).String())
		case cur < latest:
			fails = append(fails, fmt.Sprintf("schema at version %d of %d; run titular migrate", cur, latest))
		case cur > latest:
			fails = append(fails, fmt.Sprintf("schema at version %d, newer than this titular's %d; upgrade titular", cur, latest))
		}
		schema = func() (*datamap.Schema, error) {
			s, err := crm.LoadSchema(ctx, db)
			if err != nil {
				return nil, schemaError{err}
			}
			return s, nil
		}
	}
	err := checkTenantMap(ctx, e.ID, e.Tenant.Datamap, schema)
	var se schemaError
	switch {
	case err == nil, errors.Is(err, errNoDatabase):
	case errors.As(err, &se):
		fails = append(fails, "read the live schema: "+classify(se.err).String())
	default:
		name := filepath.Base(e.Tenant.Datamap)
		lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
		for i, l := range lines {
			if i == maxMapProblems {
				fails = append(fails, fmt.Sprintf("data map %s: … and %d more; titular datamap check lists them all", name, len(lines)-i))
				break
			}
			// Lines about the map's own text start with its path and line
			// number; the file's name is enough here (datamap.yaml:42:).
			l = strings.TrimSpace(l)
			if at, ok := strings.CutPrefix(l, e.Tenant.Datamap+":"); ok {
				l = name + ":" + at
			} else {
				l = name + ": " + l
			}
			fails = append(fails, "data map "+l)
		}
	}
	return fails
}

// checkSecrets reads the keys and webhook secrets the tenant names, as
// serve will. Keys it does not name are generated into state_dir at first
// use (development), which a check must not do.
func checkSecrets(cfg *config.Config, t config.Tenant) []string {
	var fails []string
	keys := keyring.New(cfg.StateDir, slog.New(slog.DiscardHandler))
	for _, k := range []struct {
		purpose string
		src     keyring.Source
	}{{"export", t.ExportKey}, {"subject", t.SubjectKey}, {"ledger", t.LedgerKey}, {"anonymize", t.AnonymizeKey}} {
		if k.src.File == "" && k.src.Env == "" {
			continue
		}
		if _, err := keys.Key(t.ID, k.purpose, k.src); err != nil {
			msg := strings.TrimPrefix(oneLine(err.Error()), fmt.Sprintf("tenant %s %s key: ", t.ID, k.purpose))
			fails = append(fails, fmt.Sprintf("%s key: %s", k.purpose, msg))
		}
	}
	for _, w := range t.Webhooks {
		if _, err := w.Secret(); err != nil {
			fails = append(fails, oneLine(err.Error()))
		}
	}
	return fails
}
