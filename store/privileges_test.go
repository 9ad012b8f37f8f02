package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/store/storetest"
)

// readmeGrants returns the README's GRANT statements for account
// ('titular' or 'titular_migrate'), for database db and the test's
// account: what the tests below run is what the README tells operators.
func readmeGrants(t *testing.T, account, db string) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "\n## The database user\n")
	if start < 0 {
		t.Fatal(`README.md has no "## The database user" section`)
	}
	s = s[start+1:]
	if end := strings.Index(s, "\n## "); end >= 0 {
		s = s[:end]
	}
	suffix := " TO '" + account + "'@'%';"
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "GRANT ") && strings.HasSuffix(l, suffix) {
			l = strings.TrimSuffix(l, suffix) + " TO {user}"
			out = append(out, strings.ReplaceAll(l, "`acme`", "`"+db+"`"))
		}
	}
	if len(out) == 0 {
		t.Fatalf("the README's database user section has no GRANT … TO '%s'@'%%';", account)
	}
	return out
}

// The README's table of runtime privileges is RuntimePrivileges.
func TestRuntimePrivilegesMatchREADME(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| (`lgpd_.*?) \\| ([A-Z, ]+) \\|$")
	got := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		for _, tbl := range strings.Split(m[1], ", ") {
			got[strings.Trim(tbl, "`")] = strings.Split(m[2], ", ")
		}
	}
	want := RuntimePrivileges()
	for tbl, privs := range want {
		if !slices.Equal(got[tbl], privs) {
			t.Errorf("README: %s gets %v; store.RuntimePrivileges says %v", tbl, got[tbl], privs)
		}
	}
	for tbl := range got {
		if want[tbl] == nil {
			t.Errorf("README lists %s, which RuntimePrivileges does not", tbl)
		}
	}
}

// Every table the migrations create has its runtime privileges, and every
// statement of the store on titular's tables is covered by them: a new
// statement or table that needs another privilege fails here before it
// fails on a least-privileged account.
func TestRuntimePrivilegesCoverTheStore(t *testing.T) {
	t.Parallel()
	needs := RuntimePrivileges()
	for _, tbl := range migratedTables(t) {
		if needs[tbl] == nil {
			t.Errorf("migrations create %s, which RuntimePrivileges does not list", tbl)
		}
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	verbs := []struct {
		re   *regexp.Regexp
		priv []string
	}{
		{regexp.MustCompile(`(?i)\bINSERT\s+(?:IGNORE\s+)?INTO\s+(lgpd_\w+)`), []string{"INSERT"}},
		{regexp.MustCompile(`(?is)\bINSERT\s+INTO\s+(lgpd_\w+)[^;]{0,600}?ON\s+DUPLICATE\s+KEY\s+UPDATE`), []string{"UPDATE"}},
		{regexp.MustCompile(`(?i)\bUPDATE\s+(lgpd_\w+)`), []string{"UPDATE"}},
		{regexp.MustCompile(`(?i)\bDELETE\s+(?:\w+\s+)?FROM\s+(lgpd_\w+)`), []string{"DELETE"}},
		{regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+(lgpd_\w+)`), []string{"SELECT"}},
		{regexp.MustCompile(`(?i)\bTRUNCATE\s+(?:TABLE\s+)?(lgpd_\w+)`), []string{"DROP"}},
	}
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "migrate.go" {
			continue
		}
		b, err := os.ReadFile(f) //nolint:gosec // G304: the package's own sources
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range verbs {
			for _, m := range v.re.FindAllStringSubmatch(string(b), -1) {
				found++
				for _, p := range v.priv {
					if !slices.Contains(needs[m[1]], p) {
						t.Errorf("%s: %q needs %s on %s, which RuntimePrivileges does not list", f, strings.Join(strings.Fields(m[0]), " "), p, m[1])
					}
				}
			}
		}
	}
	if found < 40 {
		t.Errorf("found only %d statements on titular's tables in the store's sources; the patterns no longer match them", found)
	}
}

// A migration account missing privileges is stopped before anything
// changes, with the list of what it lacks.
func TestMigrate_PreflightNamesMissingPrivileges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, _ := storetest.NewDatabase(t)
	name := databaseName(t, root)
	u := storetest.NewUser(t, storetest.DSN(t, ""), "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON `"+name+"`.* TO {user}")
	_, err := Migrate(ctx, u.Open(t, name))
	var pe *PreflightError
	if !errors.As(err, &pe) || !errors.Is(err, ErrMigratePrivileges) || errors.Is(err, ErrBinlogTriggers) {
		t.Fatalf("Migrate as an account without DDL = %v; want a *PreflightError matching ErrMigratePrivileges only", err)
	}
	if want := []string{"ALTER", "INDEX", "DROP", "TRIGGER", "CREATE VIEW"}; !slices.Equal(pe.Missing, want) {
		t.Errorf("Missing = %v, want %v", pe.Missing, want)
	}
	for _, s := range []string{"nothing was changed", "ALTER, INDEX, DROP, TRIGGER, CREATE VIEW", name, "The database user"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("the error does not say %q: %v", s, err)
		}
	}
	if n := countRows(t, root, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"); n != 0 {
		t.Errorf("the refused migration left %d tables behind", n)
	}
}

// The README's two accounts: the migration account migrates; the runtime
// account has what serve needs and nothing that gets past the append-only
// triggers; the triggers keep working for it, running as their definer.
func TestREADMEAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, _ := storetest.NewDatabase(t)
	name := databaseName(t, root)
	migrator := storetest.NewUser(t, storetest.DSN(t, ""), readmeGrants(t, "titular_migrate", name)...)
	runtime := storetest.NewUser(t, storetest.DSN(t, ""), readmeGrants(t, "titular", name)...)
	rt := runtime.Open(t, name)

	// The runtime account cannot migrate a fresh database, and says why.
	if _, err := Migrate(ctx, rt); !errors.Is(err, ErrMigratePrivileges) {
		t.Fatalf("Migrate as the runtime account = %v; want ErrMigratePrivileges", err)
	}
	res, err := Migrate(ctx, migrator.Open(t, name))
	if err != nil {
		t.Fatalf("Migrate as the README's migration account: %v", err)
	}
	if len(res.Applied) != len(mustMigrations(t)) {
		t.Fatalf("applied %v", res.Applied)
	}
	// Up to date, it changes nothing and needs no DDL: serve --migrate
	// with the runtime account works.
	if res, err := Migrate(ctx, rt); err != nil || len(res.Applied) != 0 {
		t.Fatalf("Migrate as the runtime account, up to date = %+v, %v; want nothing applied", res, err)
	}

	rep, err := CheckRuntimePrivileges(ctx, rt, []string{"customers"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Missing) != 0 || len(rep.Unsafe) != 0 || rep.Uncertain || rep.Database != name {
		t.Errorf("the README's runtime account: %+v; want nothing missing or unsafe", rep)
	}

	// What it may not do.
	for stmt, code := range map[string]uint16{
		"TRUNCATE TABLE lgpd_ledger_entries":            1142, // needs DROP
		"DROP TRIGGER lgpd_ledger_entries_no_delete":    1142, // needs TRIGGER
		"ALTER TABLE lgpd_consents ADD COLUMN x INT":    1142,
		"DROP TABLE lgpd_consents":                      1142,
		"DELETE FROM lgpd_ledger_entries":               1644, // the trigger (SIGNAL)
		"UPDATE lgpd_consents SET channel = 'x'":        1644,
		"CREATE TABLE lgpd_ledger_entries_copy (a INT)": 1142,
	} {
		if _, err := rt.ExecContext(ctx, "INSERT IGNORE INTO lgpd_consents (id, subject_ref, purpose_id, action, at, channel, request_id, evidence_ip) VALUES (1, 's', 'p', 'GRANT', UTC_TIMESTAMP(6), 'web', 'r1', '10.0.0.1')"); err != nil {
			t.Fatal(err)
		}
		if _, err := rt.ExecContext(ctx, "INSERT IGNORE INTO lgpd_ledger_entries (seq, leaf, leaf_hash, mac, created_at) VALUES (0, 'x', REPEAT('a', 32), REPEAT('b', 32), UTC_TIMESTAMP(6))"); err != nil {
			t.Fatal(err)
		}
		_, err := rt.ExecContext(ctx, stmt)
		if got := sqlq.Number(err); got != code {
			t.Errorf("%s as the runtime account: %v; want error %d", stmt, err, code)
		}
	}
	// What it must still do through the triggers, which run as the
	// migration account: clear consent evidence.
	if _, err := rt.ExecContext(ctx, "UPDATE lgpd_consents SET evidence_ip = NULL WHERE id = 1"); err != nil {
		t.Errorf("clearing consent evidence as the runtime account: %v", err)
	}
	if n := countRows(t, root, "SELECT COUNT(*) FROM lgpd_ledger_entries"); n != 1 {
		t.Errorf("lgpd_ledger_entries has %d rows; the refused statements changed it", n)
	}

	// root has all of it: reported unsafe.
	rep, err = CheckRuntimePrivileges(ctx, root, []string{"customers"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Missing) != 0 || !slices.Equal(rep.Unsafe, UnsafePrivileges) {
		t.Errorf("root: %+v; want nothing missing, %v unsafe", rep, UnsafePrivileges)
	}
}

// An account short of privileges: what it lacks, grouped, per table.
func TestCheckRuntimePrivileges_Missing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, _ := storetest.NewDatabase(t)
	name := databaseName(t, root)
	if _, err := Migrate(ctx, root); err != nil {
		t.Fatal(err)
	}
	if _, err := root.ExecContext(ctx, "CREATE TABLE customers (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	u := storetest.NewUser(t, storetest.DSN(t, ""),
		"GRANT SELECT, INSERT ON `"+name+"`.* TO {user}",
		"GRANT UPDATE, DELETE, TRIGGER ON `"+name+"`.`lgpd_requests` TO {user}",
		"GRANT UPDATE (`id`) ON `"+name+"`.`customers` TO {user}")
	rep, err := CheckRuntimePrivileges(ctx, u.Open(t, name), []string{"customers"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, g := range rep.Missing {
		got[strings.Join(g.Privileges, ", ")] = g.Tables
	}
	want := map[string][]string{
		"DELETE":         {"customers", "lgpd_export_chunks", "lgpd_exports", "lgpd_ledger_pending"},
		"UPDATE":         {"lgpd_blocks", "lgpd_consent_current", "lgpd_consents", "lgpd_decision_reviews", "lgpd_incidents", "lgpd_leases", "lgpd_ledger_head", "lgpd_outbox", "lgpd_outbox_deliveries", "lgpd_purposes", "lgpd_subject_blocks", "lgpd_subject_locks", "lgpd_subject_merges", "lgpd_terms"},
		"UPDATE, DELETE": {"lgpd_subject_index"},
	}
	if !maps.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Errorf("Missing = %v, want %v", fmt.Sprint(got), want)
	}
	if !slices.Equal(rep.Unsafe, []string{"TRIGGER"}) {
		t.Errorf("Unsafe = %v, want [TRIGGER] (granted on lgpd_requests)", rep.Unsafe)
	}
}

func databaseName(t *testing.T, db *sql.DB) string {
	t.Helper()
	var name string
	if err := db.QueryRow("SELECT DATABASE()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}
