package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/titular/titular/anonymize"
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
		e fleetEntry
		tenantCheck
	}
	var out []checked
	forEachTenant(ctx, entries, cmd.concurrency, func(ctx context.Context, e fleetEntry) tenantCheck {
		return checkTenant(ctx, cfg, e)
	}, func(e fleetEntry, c tenantCheck) {
		out = append(out, checked{e, c})
		prog.step(len(c.fails) > 0)
	})
	prog.finish()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tenants check: interrupted: %w", err)
	}
	slices.SortStableFunc(out, func(a, b checked) int { return strings.Compare(a.e.ID, b.e.ID) })
	failed, warned := 0, 0
	for _, c := range out {
		if len(c.fails) == 0 {
			fmt.Fprintf(stdout, "OK    %s (%s)\n", c.e.ID, c.e.Source)
		} else {
			failed++
			fmt.Fprintf(stdout, "FAIL  %s (%s)\n", c.e.ID, c.e.Source)
		}
		for _, f := range c.fails {
			fmt.Fprintf(stdout, "      - %s\n", f)
		}
		for _, w := range c.warns {
			fmt.Fprintf(stdout, "      ! %s\n", w)
		}
		if len(c.warns) > 0 {
			warned++
		}
	}
	fmt.Fprintf(stdout, "tenants check: %s, %d OK, %d failed\n", tenantCount(len(out)), len(out)-failed, failed)
	if warned > 0 {
		fmt.Fprintf(stdout, "tenants check: %s with warnings (!), which serve does not refuse\n", tenantCount(warned))
	}
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

// tenantCheck is what checking a tenant found, one line each: fails are
// why it could not be served, warns what is wrong but does not stop serve.
type tenantCheck struct{ fails, warns []string }

// checkTenant returns why the tenant could not be served; no fails when it
// can. It goes on past a failed step when the next ones do not depend on
// it, so one run shows everything to fix.
func checkTenant(ctx context.Context, cfg *config.Config, e fleetEntry) tenantCheck {
	if e.Problem != "" {
		return tenantCheck{fails: []string{e.fileFailure().String()}}
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	fails := checkSecrets(cfg, e.Tenant)
	warns := append(e.Tenant.NoticeWarnings(), unnamedPurposeWarnings(e.Tenant.Datamap)...)
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
		pf, pw := checkPrivileges(ctx, db, e.Tenant.Datamap)
		fails, warns = append(fails, pf...), append(warns, pw...)
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
	return tenantCheck{fails: fails, warns: warns}
}

// maxPrivilegeTables caps the tables named per privilege list.
const maxPrivilegeTables = 6

// checkPrivileges compares the privileges of the tenant's database account
// with what serve needs (a fail when one is missing) and with what it
// should not have (a warning): ALTER, DROP or TRIGGER on titular's tables
// let the account get past the append-only triggers (TRUNCATE needs DROP
// only). The data map's tables are those it names; a map that does not
// load is reported by the data map check, and only titular's tables are
// checked then.
func checkPrivileges(ctx context.Context, db *sql.DB, mapPath string) (fails, warns []string) {
	var crmTables []string
	if m, err := datamap.Load(mapPath, crm.DatamapOptions(anonymize.NewRegistry())...); err == nil {
		for _, en := range m.Entities {
			crmTables = append(crmTables, en.Table)
		}
	}
	rep, err := store.CheckRuntimePrivileges(ctx, db, crmTables)
	if err != nil {
		return nil, []string{"could not read the account's privileges: " + classify(err).String()}
	}
	if len(rep.Missing) > 0 {
		var lacks []string
		for _, g := range rep.Missing {
			on := strings.Join(g.Tables, ", ")
			if n := len(g.Tables); n > maxPrivilegeTables {
				on = fmt.Sprintf("%d tables: %s and %d more", n, strings.Join(g.Tables[:maxPrivilegeTables], ", "), n-maxPrivilegeTables)
			}
			lacks = append(lacks, strings.Join(g.Privileges, ", ")+" on "+on)
		}
		msg := "the database account lacks privileges serve needs: " + strings.Join(lacks, "; ") +
			"; grant them (README, \"The database user\")"
		if rep.Uncertain {
			// Its roles may grant them: say so rather than fail.
			warns = append(warns, msg+"; the account has roles the server does not list the privileges of, which may grant them")
		} else {
			fails = append(fails, msg)
		}
	}
	if len(rep.Unsafe) > 0 {
		warns = append(warns, "the database account has "+strings.Join(rep.Unsafe, ", ")+" on titular's tables, "+
			"which get past the ledger's append-only triggers (TRUNCATE needs only DROP): "+
			"serve with an account without them and keep them for the one titular migrate runs as (README, \"The database user\")")
	}
	return fails, warns
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
	}{{"export", t.ExportKey}, {"subject", t.SubjectKey}, {"ledger", t.LedgerKey}} {
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
