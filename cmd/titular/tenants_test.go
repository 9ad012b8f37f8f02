package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/titular/titular/fleet/fleettest"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
	"github.com/titular/titular/store/storetest"
)

// fleetFixture is a config with one tenant of its own (alpha) and a
// tenants_dir: bravo (seeded like alpha), empty (a database without the
// CRM's tables), down (nothing listens at its port), denied (a user the
// server does not know, with a password) and broken (not YAML).
type fleetFixture struct {
	cfgPath, tenantsDir, mapPath string
	db                           map[string]*sql.DB
	dsn                          map[string]string
	server                       string // host:port of the test server
}

// fixturePassword is in the DSNs of down and denied; no output may show it.
const fixturePassword = "s3cret-fleet-pw"

func newFleetFixture(t *testing.T) *fleetFixture {
	t.Helper()
	ctx := context.Background()
	f := &fleetFixture{db: map[string]*sql.DB{}, dsn: map[string]string{}}
	var err error
	if f.mapPath, err = filepath.Abs("../../examples/realestate/datamap.yaml"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"alpha", "bravo", "empty"} {
		f.db[id], f.dsn[id] = storetest.NewDatabase(t)
		if id == "empty" {
			continue
		}
		if _, err := seed.Seed(ctx, f.db[id], seed.Options{Subjects: 20, Seed: 7}); err != nil {
			t.Fatalf("seed %s: %v", id, err)
		}
	}
	srv, err := mysql.ParseDSN(storetest.ServerDSN())
	if err != nil {
		t.Fatal(err)
	}
	f.server = srv.Addr
	denied := *srv
	denied.User, denied.Passwd, denied.DBName = "titular_nobody", fixturePassword, "x"

	dir := t.TempDir()
	f.tenantsDir = filepath.Join(dir, "tenants")
	if err := os.Mkdir(f.tenantsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	f.cfgPath = filepath.Join(dir, "titular.yaml")
	writeFile(t, f.cfgPath, fmt.Sprintf("state_dir: %q\ntenants_dir: tenants\ntenants:\n  - {id: alpha, dsn: %q, datamap: %q}\n",
		filepath.Join(dir, "state"), f.dsn["alpha"], f.mapPath))
	f.writeTenant(t, "bravo", f.dsn["bravo"])
	f.writeTenant(t, "empty", f.dsn["empty"])
	f.writeTenant(t, "down", "titular:"+fixturePassword+"@tcp(127.0.0.1:1)/x")
	f.writeTenant(t, "denied", denied.FormatDSN())
	writeFile(t, filepath.Join(f.tenantsDir, "broken.yaml"), "dsn: [unclosed\n  datamap: x\n")
	return f
}

func (f *fleetFixture) writeTenant(t *testing.T, id, dsn string, extra ...string) {
	t.Helper()
	writeFile(t, filepath.Join(f.tenantsDir, id+".yaml"), fmt.Sprintf("dsn: %q\ndatamap: %q\n%s", dsn, f.mapPath, strings.Join(extra, "\n")))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// run runs a fleet command (run is runMigrateTo or a runTenants
// subcommand) with the fixture's config, and checks that nothing it printed
// shows a DSN, a user or a password.
func (f *fleetFixture) run(t *testing.T, run func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) error, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(context.Background(), append([]string{"--config", f.cfgPath, "--log-format", "text"}, args...), &o, &e)
	all := o.String() + e.String()
	if err != nil {
		all += err.Error()
	}
	needles := []string{fixturePassword, "titular_nobody", "root@", "@tcp("}
	for _, dsn := range f.dsn {
		needles = append(needles, dsn)
	}
	for _, n := range needles {
		if strings.Contains(all, n) {
			t.Errorf("the output shows %q, part of a DSN:\n%s", n, all)
		}
	}
	return o.String(), e.String(), err
}

func migrateCmd(ctx context.Context, args []string, o, e *bytes.Buffer) error {
	return runMigrateTo(ctx, args, o, e)
}

func tenantsCmd(sub string) func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) error {
	return func(ctx context.Context, args []string, o, e *bytes.Buffer) error {
		return runTenants(ctx, append([]string{sub}, args...), o, e)
	}
}

func latestMigration(t *testing.T) store.Migration {
	t.Helper()
	migs, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	return migs[len(migs)-1]
}

func TestTenantsListAndCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleetFixture(t)
	latest := latestMigration(t).Version

	// Before migrating: the check sends alpha to titular migrate, and its
	// data map matches the seeded schema.
	out, _, err := f.run(t, tenantsCmd("check"), "--tenant", "alpha")
	if err == nil || !strings.Contains(out, "FAIL  alpha (config)\n") ||
		!strings.Contains(out, fmt.Sprintf("- schema at version 0 of %d; run titular migrate", latest)) || strings.Contains(out, "data map") {
		t.Fatalf("check of an unmigrated, seeded tenant: %v\n%s", err, out)
	}

	for _, id := range []string{"alpha", "bravo"} { // empty stays unmigrated
		if _, err := store.Migrate(ctx, f.db[id]); err != nil {
			t.Fatal(err)
		}
	}
	// bravo's queue: two open requests (one past due), one completed past
	// its due date, which is neither queued nor overdue.
	for _, r := range []struct {
		status store.Status
		due    time.Duration
	}{{store.StatusReceived, -time.Hour}, {store.StatusAwaitingApproval, time.Hour}, {store.StatusCompleted, -time.Hour}} {
		now := time.Now().UTC()
		if _, err := f.db["bravo"].Exec(`INSERT INTO lgpd_requests (id, kind, status, created_by, subject_ref, received_at, due_at, updated_at)
 VALUES (UUID(), 'EXTRACT', ?, 'test', UUID(), ?, ?, ?)`, r.status, now, now.Add(r.due), now); err != nil {
			t.Fatal(err)
		}
	}
	stalled := fleettest.StalledServer(t)
	f.writeTenant(t, "stalled", "titular:"+fixturePassword+"@tcp("+stalled+")/x")

	t.Run("list", func(t *testing.T) {
		start := time.Now()
		out, _, err := f.run(t, tenantsCmd("list"), "--concurrency", "3")
		if err != nil {
			t.Fatalf("tenants list: %v\n%s", err, out)
		}
		// A server that never answers costs its tenant the timeout, not the
		// listing (without one, this would wait forever).
		if d := time.Since(start); d > 3*listTimeout {
			t.Errorf("tenants list took %s with a stalled server; each tenant is bounded by %s", d, listTimeout)
		}
		want := map[string]string{
			"alpha":   fmt.Sprintf(`config\s+%s\s+yes\s+%d/%d\s+0\s+0`, regexp.QuoteMeta(f.server), latest, latest),
			"bravo":   fmt.Sprintf(`bravo\.yaml\s+%s\s+yes\s+%d/%d\s+2\s+1`, regexp.QuoteMeta(f.server), latest, latest),
			"broken":  `broken\.yaml\s+-\s+no \(invalid tenant file\)\s+-\s+-\s+-`,
			"denied":  fmt.Sprintf(`denied\.yaml\s+%s\s+no \(MySQL error \d+ \(SQLSTATE 28000\): access denied\)\s+-\s+-\s+-`, regexp.QuoteMeta(f.server)),
			"down":    `down\.yaml\s+127\.0\.0\.1:1\s+no \(connection refused\)\s+-\s+-\s+-`,
			"empty":   fmt.Sprintf(`empty\.yaml\s+%s\s+yes\s+0/%d \(run titular migrate\)\s+-\s+-`, regexp.QuoteMeta(f.server), latest),
			"stalled": fmt.Sprintf(`stalled\.yaml\s+%s\s+no \(no answer in time\)\s+-\s+-\s+-`, regexp.QuoteMeta(stalled)),
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(want)+1 || !regexp.MustCompile(`^TENANT\s+SOURCE\s+SERVER\s+REACHABLE\s+SCHEMA\s+QUEUE\s+OVERDUE$`).MatchString(lines[0]) {
			t.Fatalf("want a header and %d tenants:\n%s", len(want), out)
		}
		schemaAt := strings.Index(lines[0], "SCHEMA")
		for i, id := range []string{"alpha", "bravo", "broken", "denied", "down", "empty", "stalled"} { // sorted by id
			l := lines[i+1]
			if !regexp.MustCompile(`^` + id + `\s+` + want[id] + `$`).MatchString(l) {
				t.Errorf("line of %s = %q; want it to match %s", id, l, want[id])
			}
			if len(l) <= schemaAt || l[schemaAt-1] != ' ' || l[schemaAt] == ' ' {
				t.Errorf("line of %s is not aligned under SCHEMA:\n%s", id, out)
			}
		}
	})

	t.Run("list --json", func(t *testing.T) {
		out, _, err := f.run(t, tenantsCmd("list"), "--json")
		if err != nil {
			t.Fatal(err)
		}
		var got []struct {
			ID            string `json:"id"`
			Source        string `json:"source"`
			Server        string `json:"server"`
			Reachable     bool   `json:"reachable"`
			Problem       string `json:"problem"`
			SchemaVersion *int   `json:"schema_version"`
			LatestVersion int    `json:"latest_version"`
			QueueDepth    *int64 `json:"queue_depth"`
			Overdue       *int64 `json:"overdue"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 7 {
			t.Fatalf("--json: %v, %d tenants\n%s", err, len(got), out)
		}
		byID := map[string]int{}
		for i, g := range got {
			byID[g.ID] = i
			if g.LatestVersion != latest {
				t.Errorf("%s: latest_version %d, want %d", g.ID, g.LatestVersion, latest)
			}
		}
		b := got[byID["bravo"]]
		if !b.Reachable || b.Server != f.server || b.SchemaVersion == nil || *b.SchemaVersion != latest ||
			b.QueueDepth == nil || *b.QueueDepth != 2 || b.Overdue == nil || *b.Overdue != 1 || b.Problem != "" {
			t.Errorf("bravo: %+v; want reachable at %s, version %d, 2 queued, 1 overdue", b, f.server, latest)
		}
		if e := got[byID["empty"]]; e.SchemaVersion == nil || *e.SchemaVersion != 0 || e.QueueDepth != nil {
			t.Errorf("empty: %+v; want version 0 and no queue", e)
		}
		for id, want := range map[string]string{
			"down":    "cannot connect to the database at 127.0.0.1:1: connection refused; check",
			"broken":  "invalid tenant file: yaml: line",
			"stalled": "no answer in time",
		} {
			if g := got[byID[id]]; g.Reachable || !strings.Contains(g.Problem, want) {
				t.Errorf("%s: %+v; want unreachable with %q", id, g, want)
			}
		}
	})

	if err := os.Remove(filepath.Join(f.tenantsDir, "stalled.yaml")); err != nil {
		t.Fatal(err)
	}
	// keyless shares alpha's database and names an export key that is not there.
	f.writeTenant(t, "keyless", f.dsn["alpha"], "export_key: {env: TITULAR_TEST_NO_SUCH_KEY}")

	t.Run("check", func(t *testing.T) {
		out, _, err := f.run(t, tenantsCmd("check"), "--concurrency", "2")
		if err == nil || !strings.Contains(err.Error(), "5 of 7 tenants failed") {
			t.Errorf("check err = %v; want 5 of 7 tenants failed", err)
		}
		for _, want := range []string{
			"OK    alpha (config)\n",
			"OK    bravo (bravo.yaml)\n",
			"FAIL  broken (broken.yaml)\n      - invalid tenant file: yaml: line 1:",
			"FAIL  denied (denied.yaml)\n      - cannot connect to the database at " + f.server + ": MySQL error",
			"FAIL  down (down.yaml)\n      - cannot connect to the database at 127.0.0.1:1: connection refused; check the DSN's host:port",
			fmt.Sprintf("FAIL  empty (empty.yaml)\n      - schema at version 0 of %d; run titular migrate\n      - data map datamap.yaml: ", latest),
			"FAIL  keyless (keyless.yaml)\n      - export key: environment variable TITULAR_TEST_NO_SUCH_KEY must hold at least 64 hex characters",
			"tenants check: 7 tenants, 2 OK, 5 failed\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("check output lacks %q:\n%s", want, out)
			}
		}
		// The fixture's tenants name neither contact nor encarregado: the
		// check warns, and does not fail, since the copy says "não informado".
		if !strings.Contains(out, "OK    alpha (config)\n      ! the titular's copy will say \"não informado\" for controller.contact, dpo.name, dpo.contact") {
			t.Errorf("check does not warn about alpha's missing notice contacts:\n%s", out)
		}
		if !strings.Contains(out, "- data map datamap.yaml: the tenant database has no tables; seed it or check the DSN\n") {
			t.Errorf("the empty tenant's data map problem is not listed:\n%s", out)
		}
	})
}

// forEachTenant runs n at once, never more, and hands every result back.
func TestForEachTenantBoundsConcurrency(t *testing.T) {
	const n = 4
	entries := make([]fleetEntry, 25)
	for i := range entries {
		entries[i].ID = fmt.Sprintf("t%02d", i)
	}
	var running, peak atomic.Int32
	full := make(chan struct{})
	var once sync.Once
	got := map[string]bool{}
	forEachTenant(context.Background(), entries, n, func(_ context.Context, e fleetEntry) string {
		r := running.Add(1)
		defer running.Add(-1)
		for { // peak = max(peak, r)
			p := peak.Load()
			if r <= p || peak.CompareAndSwap(p, r) {
				break
			}
		}
		if r == n {
			once.Do(func() { close(full) })
		}
		select { // the first ones wait until n run together
		case <-full:
		case <-time.After(10 * time.Second):
		}
		return e.ID
	}, func(e fleetEntry, id string) {
		if e.ID != id || got[id] {
			t.Errorf("result %q for entry %q", id, e.ID)
		}
		got[id] = true
	})
	if len(got) != len(entries) || peak.Load() != n {
		t.Errorf("%d results for %d entries, at most %d at once; want all, %d at once", len(got), len(entries), peak.Load(), n)
	}
}

// Once ctx ends, no more tenants start.
func TestForEachTenantStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entries := make([]fleetEntry, 100)
	ran := 0
	forEachTenant(ctx, entries, 2, func(context.Context, fleetEntry) bool { return true }, func(fleetEntry, bool) {
		ran++
		if ran == 3 {
			cancel()
		}
	})
	if ran >= len(entries) {
		t.Errorf("%d of %d entries ran after the cancel at the third", ran, len(entries))
	}
}

func TestClassifyShowsNoSecrets(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		err       error
		want, not string
	}{
		{&mysql.MySQLError{Number: 1045, SQLState: [5]byte{'2', '8', '0', '0', '0'}, Message: "Access denied for user 'alice'@'10.0.0.1' (using password: YES)"},
			"MySQL error 1045 (SQLSTATE 28000): access denied; check the user and password of the DSN", "alice"},
		{fmt.Errorf("database x at h:1 does not answer: %w", refused), "connection refused; check the DSN's host:port", "h:1"},
		{fmt.Errorf("ping: %w", context.DeadlineExceeded), "no answer in time", ""},
		{&net.DNSError{Err: "no such host", Name: "db.internal"}, "host name not found", "db.internal"},
		{fmt.Errorf("migrate: %w", store.ErrMigrationLocked), "another titular is migrating this database", ""},
		{&store.MigrationError{Migration: "0005_x", Statement: 2, Err: &mysql.MySQLError{Number: 1142, Message: "ALTER command denied to user 'bob'"}},
			"MySQL error 1142: a privilege is missing", "bob"},
		{errors.New("bad config\nnear alice:pw@tcp(h:1)/db"), "bad config; near <DSN>", "pw"},
	}
	for _, tt := range tests {
		got := classify(tt.err).String()
		if !strings.Contains(got, tt.want) || (tt.not != "" && strings.Contains(got, tt.not)) || strings.Contains(got, "\n") {
			t.Errorf("classify(%v) = %q; want one line with %q, without %q", tt.err, got, tt.want, tt.not)
		}
	}
}

// Off a terminal, a thousand tenants make a line per tenth, not a thousand.
func TestProgressOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "migrate", 1000, false)
	for i := range 1000 {
		p.step(i%100 == 0)
	}
	p.finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) > 11 || lines[len(lines)-1] != "migrate: 1000/1000 tenants, 10 failed" {
		t.Errorf("%d progress lines, last %q; want at most 11, the last with the final count", len(lines), lines[len(lines)-1])
	}
	var quiet bytes.Buffer
	q := newProgress(&quiet, "tenants list", 3, true)
	q.step(false)
	q.finish()
	if quiet.Len() != 0 {
		t.Errorf("progress asked only for terminals printed %q to a buffer", quiet.String())
	}
}

// A tenant file the config could not use is that tenant's failure, named
// after the file, its path left out.
func TestProblemEntry(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tenants")
	e := problemEntry(dir, fmt.Errorf("%s: yaml: line 1: bad\n  more", filepath.Join(dir, "acme.yml")))
	if e.ID != "acme" || e.Source != "acme.yml" || e.Problem != "yaml: line 1: bad; more" {
		t.Errorf("problemEntry = %+v", e)
	}
	e = problemEntry(dir, errors.New("tenants_dir: open "+dir+": no such file or directory"))
	if e.ID != "(tenants_dir)" || !strings.Contains(e.Problem, "no such file") {
		t.Errorf("problemEntry of the directory itself = %+v", e)
	}
}
