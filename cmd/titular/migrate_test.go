package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/titular/titular/config"
	"github.com/titular/titular/store"
)

// TestMigrateFleet: `titular migrate` over a tenants_dir migrates the
// usable tenants concurrently, reports the unreachable and broken ones by
// tenant with a reason and fails; run again, it only reports what is left,
// and it finishes a tenant whose migration was interrupted.
func TestMigrateFleet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleetFixture(t)
	migs, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	latest := migs[len(migs)-1]
	var names []string
	for _, m := range migs {
		names = append(names, m.Name)
	}
	applied := fmt.Sprintf(": applied %s (now version %d)\n", strings.Join(names, ", "), latest.Version)

	out, progress, err := f.run(t, migrateCmd, "--concurrency", "3")
	if err == nil || !strings.Contains(err.Error(), "3 of 6 tenants failed") || !strings.Contains(err.Error(), "run titular migrate again") {
		t.Errorf("first run: err = %v; want 3 of 6 tenants failed", err)
	}
	for _, want := range []string{
		"tenant alpha" + applied,
		"tenant bravo" + applied,
		"tenant empty" + applied,
		"tenant down: FAILED: cannot connect to the database at 127.0.0.1:1: connection refused; check the DSN's host:port and that the server runs\n",
		"tenant denied: FAILED: cannot connect to the database at " + f.server + ": MySQL error",
		"tenant broken: FAILED: invalid tenant file: yaml: line 1:",
		"migrate: 6 tenants: 0 up to date, 3 migrated, 3 failed\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("first run: output lacks %q:\n%s", want, out)
		}
	}
	// The closing list of failures, sorted by tenant, with each one's source.
	_, failures, ok := strings.Cut(out, "\nFailed:\n")
	lines := strings.Split(strings.TrimSpace(failures), "\n")
	if !ok || len(lines) != 3 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "broken  broken.yaml  invalid tenant file:") ||
		!strings.HasPrefix(strings.TrimSpace(lines[1]), "denied  denied.yaml  cannot connect") || !strings.Contains(lines[1], "access denied") ||
		!strings.HasPrefix(strings.TrimSpace(lines[2]), "down    down.yaml    cannot connect to the database at 127.0.0.1:1: connection refused") {
		t.Errorf("closing failure list:\n%s", failures)
	}
	if !strings.HasSuffix(progress, "migrate: 6/6 tenants, 3 failed\n") {
		t.Errorf("progress on stderr ends %q; want the final count", progress)
	}
	for _, id := range []string{"alpha", "bravo", "empty"} {
		if cur, lat, err := store.SchemaVersion(ctx, f.db[id]); err != nil || cur != lat {
			t.Errorf("%s at version %d/%d (%v) after migrate", id, cur, lat, err)
		}
	}

	// Run again: only what is left. Up-to-date tenants print no line.
	out, _, err = f.run(t, migrateCmd)
	if err == nil || !strings.Contains(out, "migrate: 6 tenants: 3 up to date, 0 migrated, 3 failed\n") ||
		strings.Contains(out, "applied") || strings.Contains(out, "tenant alpha") {
		t.Errorf("second run: %v\n%s", err, out)
	}

	// bravo was interrupted inside 0005_consent_evidence (its ADD COLUMN
	// took effect, the version was not recorded): the next run finishes it.
	if _, err := f.db["bravo"].Exec("DELETE FROM lgpd_schema_migrations WHERE version >= 5"); err != nil {
		t.Fatal(err)
	}
	out, _, err = f.run(t, migrateCmd, "--tenant", "bravo")
	// Later migrations whose effect is there too are listed with it.
	resumed := regexp.MustCompile(`0005_consent_evidence(, \w+)* resumed where an interrupted run stopped`)
	if err != nil || !strings.Contains(out, "tenant bravo: applied 0005_consent_evidence") ||
		!resumed.MatchString(out) ||
		!strings.Contains(out, "migrate: 1 tenant: 0 up to date, 1 migrated, 0 failed\n") {
		t.Errorf("resuming bravo: %v\n%s", err, out)
	}

	for args, want := range map[string]string{
		"--tenant nosuch":   `tenant "nosuch" is neither in the config file nor in its tenants_dir`,
		"--concurrency 0":   "--concurrency 0: use 1 or more",
		"--tenant   broken": "1 of 1 tenants failed",
	} {
		_, _, err := f.run(t, migrateCmd, strings.Fields(args)...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("migrate %s: err = %v; want %q", args, err, want)
		}
	}
}

// migrateAll (serve --migrate) migrates the usable tenants and fails on
// the unreachable ones, naming them without their DSN; broken tenant files
// are left to serve, which reports them without stopping.
func TestMigrateAll(t *testing.T) {
	t.Parallel()
	f := newFleetFixture(t)
	cfg, err := config.Load(f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	reported := map[string]int{}
	err = migrateAll(context.Background(), cfg, func(id string, res store.MigrationResult) { reported[id] = res.Current })
	latest := latestMigration(t).Version
	if len(reported) != 3 || reported["alpha"] != latest || reported["bravo"] != latest || reported["empty"] != latest {
		t.Errorf("reported %v; want alpha, bravo and empty at version %d", reported, latest)
	}
	if err == nil || !strings.Contains(err.Error(), "2 of 5 tenants failed to migrate") ||
		!strings.Contains(err.Error(), "tenant down: cannot connect to the database at 127.0.0.1:1: connection refused") ||
		strings.Contains(err.Error(), fixturePassword) || strings.Contains(err.Error(), "broken") {
		t.Errorf("migrateAll: %v", err)
	}
}
