package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
	"github.com/titular/titular/store/storetest"
)

// tenants check looks at each tenant's database account: one with just
// rows on its database is OK, root (everything) is OK with a warning, one
// without DELETE fails with the tables it cannot serve.
func TestTenantsCheckPrivileges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.NewDatabase(t)
	if _, err := seed.Seed(ctx, db, seed.Options{Subjects: 20, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	server := storetest.DSN(t, "")
	least := storetest.NewUser(t, server, "GRANT SELECT, INSERT, UPDATE, DELETE ON `"+name+"`.* TO {user}")
	short := storetest.NewUser(t, server, "GRANT SELECT, INSERT, UPDATE ON `"+name+"`.* TO {user}")
	mapPath, err := filepath.Abs("../../examples/realestate/datamap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "titular.yaml")
	cfg := fmt.Sprintf("state_dir: %q\ntenants:\n", filepath.Join(dir, "state"))
	for id, dsn := range map[string]string{"least": least.DSN(t, name), "root": storetest.DSN(t, name), "short": short.DSN(t, name)} {
		// The notice's contacts are set: the warnings here are the privileges'.
		cfg += fmt.Sprintf("  - {id: %s, dsn: %q, datamap: %q, controller: {contact: privacidade@example.com}, dpo: {name: Encarregado Exemplo, contact: dpo@example.com}}\n", id, dsn, mapPath)
	}
	writeFile(t, cfgPath, cfg)

	var o, e bytes.Buffer
	err = runTenantsCheck(ctx, []string{"--config", cfgPath, "--log-format", "text"}, &o, &e)
	out := o.String()
	if err == nil || !strings.Contains(err.Error(), "1 of 3 tenants failed") {
		t.Errorf("err = %v; want 1 of 3 tenants failed", err)
	}
	for _, want := range []string{
		"OK    least (config)\nOK    root (config)\n" +
			"      ! the database account has ALTER, DROP, TRIGGER on titular's tables, which get past the ledger's append-only triggers (TRUNCATE needs only DROP)",
		"FAIL  short (config)\n      - the database account lacks privileges serve needs: DELETE on ",
		"grant them (README, \"The database user\")\n",
		"tenants check: 3 tenants, 2 OK, 1 failed\ntenants check: 1 tenant with warnings (!), which serve does not refuse\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The data map's tables are checked too: DELETE is missing on more
	// than titular's four tables that need it.
	m := regexp.MustCompile(`DELETE on (\d+) tables: [a-z_]+(?:, [a-z_]+){5} and (\d+) more; grant`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("short's missing DELETE is not listed as N tables, six named and the count of the others:\n%s", out)
	}
	if n, more := atoi(t, m[1]), atoi(t, m[2]); n != 6+more || n <= 4 {
		t.Errorf("DELETE missing on %d tables, %d not named; want more than titular's 4, 6 named", n, more)
	}
	all := out + e.String() + fmt.Sprint(err)
	for _, secret := range []string{least.Name, least.Password, short.Name, short.Password, "root@", "@tcp("} {
		if strings.Contains(all, secret) {
			t.Errorf("the output shows %q:\n%s", secret, all)
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// migrate as an account without DDL stops before changing anything and
// says what the account lacks.
func TestMigratePreflightFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.NewDatabase(t)
	var name string
	if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	u := storetest.NewUser(t, storetest.DSN(t, ""), "GRANT SELECT, INSERT, UPDATE, DELETE ON `"+name+"`.* TO {user}")
	mapPath, err := filepath.Abs("../../examples/realestate/datamap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "titular.yaml")
	writeFile(t, cfgPath, fmt.Sprintf("state_dir: %q\ntenants:\n  - {id: acme, dsn: %q, datamap: %q}\n", filepath.Join(dir, "state"), u.DSN(t, name), mapPath))
	var o, e bytes.Buffer
	err = runMigrateTo(ctx, []string{"--config", cfgPath, "--log-format", "text"}, &o, &e)
	if err == nil {
		t.Fatal("migrate as an account without DDL succeeded")
	}
	want := "tenant acme: FAILED: migrate: nothing was changed: the account lacks CREATE, ALTER, INDEX, DROP, TRIGGER, CREATE VIEW on database " + name
	if !strings.Contains(o.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, o.String())
	}
	if strings.Contains(o.String()+e.String(), u.Password) || strings.Contains(o.String()+e.String(), u.Name) {
		t.Errorf("the output shows the account:\n%s%s", o.String(), e.String())
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d tables after the refused migration (%v); want none", n, err)
	}
}
