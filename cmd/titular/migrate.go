package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/titular/titular/config"
	"github.com/titular/titular/store"
)

func runMigrate(ctx context.Context, args []string) error {
	return runMigrateTo(ctx, args, os.Stdout, os.Stderr)
}

// runMigrateTo is `titular migrate`: every tenant (or --tenant's), a few at
// a time. Stdout gets only what an operator acts on (tenants that changed or
// failed, the counts, the failures); stderr the progress.
func runMigrateTo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := newFleetCommand("migrate", 8, true)
	entries, _, log, err := cmd.entries(args)
	if err != nil {
		return err
	}
	prog := newProgress(stderr, "migrate", len(entries), false)
	var upToDate, applied int
	var failed []migrateOutcome
	migrateFleet(ctx, entries, cmd.concurrency, func(o migrateOutcome) {
		switch {
		case o.fail != nil:
			failed = append(failed, o)
			prog.above(func() { fmt.Fprintf(stdout, "tenant %s: FAILED: %s\n", o.entry.ID, o.fail) })
		case len(o.res.Applied) == 0:
			upToDate++
		default:
			applied++
			prog.above(func() { fmt.Fprintf(stdout, "tenant %s: %s\n", o.entry.ID, describeMigration(o.res)) })
		}
		if o.fail == nil {
			log.Debug("migrated", "tenant", o.entry.ID, "applied", o.res.Applied, "version", o.res.Current)
		}
		prog.step(o.fail != nil)
	})
	prog.finish()
	notRun := len(entries) - upToDate - applied - len(failed)
	fmt.Fprintf(stdout, "migrate: %s: %d up to date, %d migrated, %d failed", tenantCount(len(entries)), upToDate, applied, len(failed))
	if notRun > 0 {
		fmt.Fprintf(stdout, ", %d not started", notRun)
	}
	fmt.Fprintln(stdout)
	var printErr error
	if len(failed) > 0 {
		fmt.Fprintf(stdout, "\nFailed:\n")
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		slices.SortFunc(failed, func(a, b migrateOutcome) int { return strings.Compare(a.entry.ID, b.entry.ID) })
		for _, o := range failed {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", o.entry.ID, o.entry.Source, o.fail)
		}
		if ferr := tw.Flush(); ferr != nil {
			// The operator did not get the list of failures: say so beside
			// the outcome, which still decides the exit status.
			printErr = fmt.Errorf("migrate: print the failed tenants: %w", ferr)
		}
	}
	switch {
	case ctx.Err() != nil:
		return errors.Join(fmt.Errorf("migrate: interrupted; run titular migrate again to finish (it resumes where it stopped)"), printErr)
	case len(failed) > 0:
		return errors.Join(fmt.Errorf("migrate: %d of %d tenants failed; fix them and run titular migrate again (it resumes where it stopped)", len(failed), len(entries)), printErr)
	}
	return nil
}

func describeMigration(res store.MigrationResult) string {
	s := fmt.Sprintf("applied %s (now version %d)", strings.Join(res.Applied, ", "), res.Current)
	if len(res.Resumed) > 0 {
		s += fmt.Sprintf("; %s resumed where an interrupted run stopped", strings.Join(res.Resumed, ", "))
	}
	return s
}

// migrateOutcome is what migrating one tenant came to: res, or why it
// failed.
type migrateOutcome struct {
	entry fleetEntry
	res   store.MigrationResult
	fail  *failure
}

// migrateFleet migrates entries, at most concurrency at once, handing each
// outcome to done (in one goroutine) as it comes. The lock Migrate takes is
// per database, so tenants sharing a server migrate in parallel, while two
// titulars migrating the same tenant still wait for each other.
func migrateFleet(ctx context.Context, entries []fleetEntry, concurrency int, done func(migrateOutcome)) {
	forEachTenant(ctx, entries, concurrency, migrateTenant, func(_ fleetEntry, o migrateOutcome) { done(o) })
}

func migrateTenant(ctx context.Context, e fleetEntry) migrateOutcome {
	o := migrateOutcome{entry: e}
	db, _, fail := openEntry(ctx, e)
	if fail != nil {
		o.fail = fail
		return o
	}
	defer func() { _ = db.Close() }()
	res, err := store.Migrate(ctx, db)
	if err != nil {
		f := classify(err)
		var me *store.MigrationError
		if errors.As(err, &me) {
			f = classify(me.Err)
			f.where = fmt.Sprintf("migration %s, statement %d", me.Migration, me.Statement)
			if me.Statement == 0 {
				f.where = fmt.Sprintf("migration %s, recording its version", me.Migration)
			}
		}
		o.fail = &f
		return o
	}
	o.res = res
	return o
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, errors.New("--config is required (example: examples/realestate/titular.yaml)")
	}
	return config.Load(path)
}

// migrateAll migrates the config's usable tenants (8 at a time), going on
// past a failing tenant so one bad database does not hold the others back;
// report hears of each tenant migrated, one at a time. Tenant files that
// could not be read are the caller's to report: serve must not fail on
// them. The error lists every failure, one line each, without secrets.
func migrateAll(ctx context.Context, cfg *config.Config, report func(string, store.MigrationResult)) error {
	var entries []fleetEntry
	for _, e := range fleetOf(cfg) {
		if e.Problem == "" {
			entries = append(entries, e)
		}
	}
	var fails []string
	migrateFleet(ctx, entries, 8, func(o migrateOutcome) {
		if o.fail != nil {
			fails = append(fails, fmt.Sprintf("tenant %s: %s", o.entry.ID, o.fail))
			return
		}
		report(o.entry.ID, o.res)
	})
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if len(fails) > 0 {
		return fmt.Errorf("%d of %d tenants failed to migrate:\n%s", len(fails), len(entries), strings.Join(fails, "\n"))
	}
	return nil
}
