package store

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/store/storetest"
)

// migratedTables lists every table the embedded migrations create.
func migratedTables(t *testing.T) []string {
	t.Helper()
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?i)CREATE TABLE (?:IF NOT EXISTS )?`?(\\w+)`?")
	out := []string{"lgpd_schema_migrations"}
	for _, m := range migs {
		for _, st := range m.Statements {
			if sm := re.FindStringSubmatch(st); sm != nil {
				out = append(out, sm[1])
			}
		}
	}
	return out
}

func tablesIn(t *testing.T, s *Store) []string {
	t.Helper()
	return crmtest.Column[string](t, s.DB(), "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME")
}

func TestMigrations_Embedded(t *testing.T) {
	t.Parallel()
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) == 0 || migs[0].Version != 1 || migs[0].Name != "0001_requests" {
		t.Fatalf("first migration = %+v, want version 1 named 0001_requests", migs)
	}
	for i := 1; i < len(migs); i++ {
		if migs[i].Version <= migs[i-1].Version {
			t.Errorf("migrations out of order or duplicated: %d after %d", migs[i].Version, migs[i-1].Version)
		}
	}
	for _, m := range migs {
		if len(m.Statements) == 0 {
			t.Errorf("migration %s has no statements", m.Name)
		}
	}
}

func TestMigrate_EmptyDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.NewDatabase(t)
	s := New(db)
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	latest := migs[len(migs)-1].Version

	cur, lat, err := SchemaVersion(ctx, db)
	if err != nil || cur != 0 || lat != latest {
		t.Fatalf("SchemaVersion before migrate = %d, %d, %v; want 0, %d, nil", cur, lat, err, latest)
	}

	res, err := Migrate(ctx, db)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if len(res.Applied) != len(migs) || res.Current != latest {
		t.Fatalf("first Migrate = %+v; want %d applied, current %d", res, len(migs), latest)
	}
	for i, m := range migs {
		if res.Applied[i] != m.Name {
			t.Errorf("Applied[%d] = %q, want %q", i, res.Applied[i], m.Name)
		}
	}
	have := tablesIn(t, s)
	want := migratedTables(t)
	for _, name := range []string{"lgpd_requests", "lgpd_request_events", "lgpd_exports", "lgpd_export_chunks"} {
		if !slices.Contains(want, name) {
			t.Errorf("migrations do not create %s", name)
		}
	}
	for _, name := range want {
		if !slices.Contains(have, name) {
			t.Errorf("table %s missing after Migrate; have %v", name, have)
		}
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_schema_migrations"); n != len(migs) {
		t.Errorf("lgpd_schema_migrations has %d rows, want %d", n, len(migs))
	}
	cur, lat, err = SchemaVersion(ctx, db)
	if err != nil || cur != latest || lat != latest {
		t.Fatalf("SchemaVersion after migrate = %d, %d, %v; want %d, %d, nil", cur, lat, err, latest, latest)
	}

	// Data written between runs survives the second run, which applies nothing.
	r := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	res, err = Migrate(ctx, db)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(res.Applied) != 0 || res.Current != latest {
		t.Fatalf("second Migrate = %+v; want nothing applied, current %d", res, latest)
	}
	if _, err := s.GetRequest(ctx, r.ID); err != nil {
		t.Fatalf("request written before the second Migrate: %v", err)
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_schema_migrations"); n != len(migs) {
		t.Errorf("lgpd_schema_migrations has %d rows after second run, want %d", n, len(migs))
	}
	if got := tablesIn(t, s); !slices.Equal(got, have) {
		t.Errorf("tables changed on second run: %v -> %v", have, got)
	}
}

// Replicas starting together must not apply a migration twice.
func TestMigrate_Concurrent(t *testing.T) {
	t.Parallel()
	db, _ := storetest.NewDatabase(t)
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]MigrationResult, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = Migrate(context.Background(), db) })
	}
	wg.Wait()
	applied := 0
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("migrate %d: %v", i, errs[i])
		}
		applied += len(results[i].Applied)
	}
	if applied != len(migs) {
		t.Errorf("concurrent runs applied %d migrations in total, want %d", applied, len(migs))
	}
}

func TestSchemaVersion_NoDatabaseTable(t *testing.T) {
	t.Parallel()
	db, _ := storetest.NewDatabase(t)
	if _, err := db.Exec("CREATE TABLE unrelated (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	cur, _, err := SchemaVersion(context.Background(), db)
	if err != nil || cur != 0 {
		t.Fatalf("SchemaVersion on a CRM database never migrated = %d, %v; want 0, nil", cur, err)
	}
}

const triggerSQL = `-- Append-only table.
CREATE TABLE IF NOT EXISTS ledger_t (
  id INT NOT NULL, -- the sequence
  v  INT NOT NULL,

  PRIMARY KEY (id)
);

-- No updates, ever.
CREATE TRIGGER ledger_t_no_update BEFORE UPDATE ON ledger_t
FOR EACH ROW
BEGIN
  -- refuse
  IF NEW.v <> OLD.v THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ledger_t is append-only';
  END IF;
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ledger_t is append-only';
END;

CREATE TRIGGER ledger_t_no_delete BEFORE DELETE ON ledger_t FOR EACH ROW BEGIN
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ledger_t is append-only';
end;
INSERT INTO ledger_t (id, v) VALUES (1, 1)
`

func TestSplitStatements(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"empty", "", nil},
		{"only comments and blanks", "-- a\n\n   -- b\n\n", nil},
		{"two statements", "SELECT 1;\nSELECT 2;\n", []string{"SELECT 1", "SELECT 2"}},
		{"comment and blank lines inside a statement", "CREATE TABLE t (\n  -- the key\n\n  id INT\n);\n",
			[]string{"CREATE TABLE t (\n  id INT\n)"}},
		{"indented comment", "  -- x;\nSELECT 1;", []string{"SELECT 1"}},
		{"semicolon mid-line does not split", "SELECT 'a;b' FROM t;\n", []string{"SELECT 'a;b' FROM t"}},
		{"statement spread over lines", "INSERT INTO t\nVALUES (1);\n", []string{"INSERT INTO t\nVALUES (1)"}},
		{"last statement without semicolon", "SELECT 1;\nSELECT 2\n", []string{"SELECT 1", "SELECT 2"}},
		{"trailing whitespace after semicolon", "SELECT 1;   \nSELECT 2;\t\n", []string{"SELECT 1", "SELECT 2"}},
		{"CRLF line endings", "SELECT 1;\r\n-- c\r\nSELECT 2;\r\n", []string{"SELECT 1", "SELECT 2"}},
		{"trigger body kept whole", "CREATE TRIGGER x BEFORE UPDATE ON t FOR EACH ROW\nBEGIN\n  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no';\n  SET @a = 1;\nEND;\nSELECT 1;\n",
			[]string{"CREATE TRIGGER x BEFORE UPDATE ON t FOR EACH ROW\nBEGIN\n  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no';\n  SET @a = 1;\nEND", "SELECT 1"}},
		{"BEGIN at end of line, lower-case end", "CREATE TRIGGER x BEFORE DELETE ON t FOR EACH ROW begin\n  SET @a = 1;\n  SET @b = 2;\nend;\n",
			[]string{"CREATE TRIGGER x BEFORE DELETE ON t FOR EACH ROW begin\n  SET @a = 1;\n  SET @b = 2;\nend"}},
		{"END IF inside a body does not close it", "CREATE TRIGGER x BEFORE UPDATE ON t FOR EACH ROW\nBEGIN\n  IF 1 THEN\n    SET @a = 1;\n  END IF;\n  SET @b = 2;\nEND;\n",
			[]string{"CREATE TRIGGER x BEFORE UPDATE ON t FOR EACH ROW\nBEGIN\n  IF 1 THEN\n    SET @a = 1;\n  END IF;\n  SET @b = 2;\nEND"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SplitStatements(tt.src)
			for i := range got {
				got[i] = strings.ReplaceAll(got[i], "\r", "")
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("SplitStatements(%q)\n got  %q\n want %q", tt.src, got, tt.want)
			}
		})
	}
}

// The split statements must run on the server as written: the triggers
// compile and their bodies' inner statements ran as part of them.
func TestSplitStatements_TriggersRunOnServer(t *testing.T) {
	t.Parallel()
	db, _ := storetest.NewDatabase(t)
	stmts := SplitStatements(triggerSQL)
	if len(stmts) != 4 {
		t.Fatalf("got %d statements, want 4: %q", len(stmts), stmts)
	}
	for i, st := range stmts {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("statement %d: %v\n%s", i+1, err, st)
		}
	}
	for _, q := range []string{"UPDATE ledger_t SET v = 2 WHERE id = 1", "DELETE FROM ledger_t WHERE id = 1"} {
		_, err := db.Exec(q)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || !strings.Contains(me.Message, "append-only") {
			t.Errorf("%s: err = %v, want the trigger's SIGNAL", q, err)
		}
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM ledger_t WHERE v = 1"); n != 1 {
		t.Errorf("ledger_t rows = %d, want the one inserted row unchanged", n)
	}
}

// schemaOf describes a database's columns, indexes and triggers, to compare
// a database migrated in one go with one whose migration was resumed.
func schemaOf(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`
SELECT CONCAT_WS(' ', 'column', TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, IFNULL(COLUMN_DEFAULT, 'no-default'))
  FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
UNION ALL
SELECT CONCAT_WS(' ', 'index', TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE)
  FROM INFORMATION_SCHEMA.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
UNION ALL
SELECT CONCAT_WS(' ', 'trigger', TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION)
  FROM INFORMATION_SCHEMA.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()
ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// referenceSchema is the schema of a database migrated in one go.
func referenceSchema(t *testing.T) []string {
	t.Helper()
	db, _ := storetest.NewDatabase(t)
	if _, err := Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return schemaOf(t, db)
}

// A run interrupted inside a migration (DDL is not transactional: some of
// its statements took effect, its version was not recorded) is finished by
// the next run, for each migration in turn, and ends with the schema of an
// uninterrupted run.
func TestMigrate_ResumesAnInterruptedMigration(t *testing.T) {
	t.Parallel()
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	want := referenceSchema(t)
	for i, m := range migs {
		t.Run(m.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := storetest.NewDatabase(t)
			// The interrupted run: the earlier migrations, then the first
			// half of this one's statements (at least one).
			partial := Migration{Version: m.Version, Name: m.Name, Statements: m.Statements[:(len(m.Statements)+1)/2]}
			upTo := append(slices.Clone(migs[:i]), partial)
			if _, err := migrate(ctx, db, migrateOptions{migs: upTo, lockWait: time.Second, strict: true}); err != nil {
				t.Fatalf("the interrupted run: %v", err)
			}
			if _, err := db.Exec("DELETE FROM lgpd_schema_migrations WHERE version = ?", m.Version); err != nil {
				t.Fatal(err)
			}

			res, err := Migrate(ctx, db)
			if err != nil {
				t.Fatalf("resuming after %d of %d statements of %s: %v", len(partial.Statements), len(m.Statements), m.Name, err)
			}
			if len(res.Applied) != len(migs)-i || res.Applied[0] != m.Name || res.Current != migs[len(migs)-1].Version {
				t.Errorf("resumed run = %+v; want %s and the later migrations applied", res, m.Name)
			}
			if got := schemaOf(t, db); !slices.Equal(got, want) {
				t.Errorf("schema after the resumed run differs from an uninterrupted run:\n got  %q\n want %q", got, want)
			}
		})
	}
}

// A version table emptied under a migrated database (every statement of
// every migration already in effect) re-runs them all without error or
// change, and the rows written meanwhile survive.
func TestMigrate_RerunsEveryMigrationOverItsOwnEffects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.NewDatabase(t)
	s := New(db)
	if _, err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	before := schemaOf(t, db)
	r := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	if _, err := db.Exec("DELETE FROM lgpd_schema_migrations"); err != nil {
		t.Fatal(err)
	}
	res, err := Migrate(ctx, db)
	if err != nil {
		t.Fatalf("re-running every migration: %v", err)
	}
	migs, _ := Migrations()
	if len(res.Applied) != len(migs) || !slices.Contains(res.Resumed, "0005_consent_evidence") {
		t.Errorf("re-run = %+v; want every migration applied, 0005_consent_evidence (ADD COLUMN, CREATE INDEX) among the resumed", res)
	}
	if got := schemaOf(t, db); !slices.Equal(got, before) {
		t.Errorf("schema changed on the re-run:\n got  %q\n want %q", got, before)
	}
	if _, err := s.GetRequest(ctx, r.ID); err != nil {
		t.Errorf("request written before the re-run: %v", err)
	}
}

// Tolerating "already exists" is for resumed runs only: applied strictly,
// the migrations pass on a fresh database (so none re-creates an object by
// mistake) and fail when their objects are already there.
func TestMigrate_StrictOnAFreshDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.NewDatabase(t)
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(ctx, db, migrateOptions{migs: migs, lockWait: time.Second, strict: true}); err != nil {
		t.Fatalf("strict migration of a fresh database: %v", err)
	}
	if _, err := db.Exec("DELETE FROM lgpd_schema_migrations"); err != nil {
		t.Fatal(err)
	}
	_, err = migrate(ctx, db, migrateOptions{migs: migs, lockWait: time.Second, strict: true})
	var me *MigrationError
	if !errors.As(err, &me) || !alreadyApplied(err) {
		t.Fatalf("strict re-run: err = %v; want a MigrationError for an object that already exists", err)
	}
}

func TestMigrateLockName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("d", 64) // the longest database name
	a, b := migrateLockName(long), migrateLockName("tenant_b")
	if len(a) > 64 || len(b) > 64 {
		t.Errorf("lock names %q (%d), %q (%d): MySQL allows 64 characters", a, len(a), b, len(b))
	}
	if a == b || migrateLockName("tenant_b") != b || !strings.HasPrefix(a, "titular_migrate:") {
		t.Errorf("lock names must be titular_migrate:<hash>, one per database and stable: %q %q", a, b)
	}
}

// holdMigrateLock takes db's migration lock on a connection of its own, as
// another titular migrating db would, until the returned func is called.
func holdMigrateLock(t *testing.T, db *sql.DB) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	if err := conn.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	var got int
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", migrateLockName(name)).Scan(&got); err != nil || got != 1 {
		t.Fatalf("take the migration lock: %d, %v", got, err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			conn.ExecContext(ctx, "SELECT RELEASE_LOCK(?)", migrateLockName(name)) //nolint:errcheck // closing the session releases it too
			conn.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// The lock is per database: a migration running in one tenant database does
// not hold back another database on the same server.
func TestMigrate_DatabasesOnOneServerMigrateConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbA, _ := storetest.NewDatabase(t)
	dbB, _ := storetest.NewDatabase(t)
	holdMigrateLock(t, dbA) // A is being migrated by someone else
	res, err := migrate(ctx, dbB, migrateOptions{migs: mustMigrations(t), lockWait: time.Second})
	if err != nil || len(res.Applied) == 0 {
		t.Fatalf("migrating B while A's migration runs: %+v, %v; want B migrated", res, err)
	}

	// Both at once, as `titular migrate` runs a fleet.
	dbC, _ := storetest.NewDatabase(t)
	dbD, _ := storetest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, db := range []*sql.DB{dbC, dbD} {
		wg.Go(func() { _, errs[i] = migrate(ctx, db, migrateOptions{migs: mustMigrations(t), lockWait: time.Second}) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("two databases migrated at once: %v", err)
	}
}

// Two migrations of the same database still exclude each other: the second
// waits for the first, and gives up with a clear error when it takes longer
// than the wait.
func TestMigrate_SameDatabaseExcludes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.NewDatabase(t)
	release := holdMigrateLock(t, db)

	_, err := migrate(ctx, db, migrateOptions{migs: mustMigrations(t), lockWait: time.Second})
	if !errors.Is(err, ErrMigrationLocked) || !strings.Contains(err.Error(), "another titular is migrating this database") {
		t.Fatalf("migrating a database whose lock is held: err = %v; want ErrMigrationLocked", err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := Migrate(ctx, db)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Migrate returned (%v) while another migration held the lock; it must wait", err)
	case <-time.After(500 * time.Millisecond):
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Migrate after the other migration ended: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Migrate still waiting after the lock was released")
	}
	if cur, latest, err := SchemaVersion(ctx, db); err != nil || cur != latest {
		t.Errorf("SchemaVersion = %d/%d, %v; want migrated", cur, latest, err)
	}
}

func mustMigrations(t *testing.T) []Migration {
	t.Helper()
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	return migs
}

// Many databases migrated at once can all be dropped afterwards. MariaDB
// leaves a table's .TRG- backup behind when trigger DDL runs in several
// databases at once, and DROP DATABASE then fails (errno 39) — what the
// server-wide trigger lock prevents.
func TestMigrate_ConcurrentTriggerDDLLeavesDatabasesDroppable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const n = 24
	dbs := make([]*sql.DB, n)
	names := make([]string, n)
	for i := range dbs {
		var dsn string
		dbs[i], dsn = storetest.NewDatabase(t)
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		names[i] = cfg.DBName
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, db := range dbs {
		wg.Go(func() { _, errs[i] = Migrate(ctx, db) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("migrating %d databases at once: %v", n, err)
	}
	for i, db := range dbs {
		if err := dropUnderTriggerLock(ctx, db, names[i]); err != nil {
			t.Errorf("drop %s after a concurrent migration: %v", names[i], err)
		}
	}
}

// dropUnderTriggerLock drops a database as TriggerDDLLock asks, so the drop
// does not race the migrations other tests run meanwhile.
func dropUnderTriggerLock(ctx context.Context, db *sql.DB, name string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return storetest.UnderTriggerLock(ctx, conn, func() error {
		_, err := conn.ExecContext(ctx, "DROP DATABASE `"+name+"`")
		return err
	})
}

// Every trigger statement of the embedded migrations takes the server's
// trigger lock, and nothing else does.
func TestTriggerDDLMatches(t *testing.T) {
	t.Parallel()
	for stmt, want := range map[string]bool{
		"CREATE TRIGGER x BEFORE UPDATE ON t FOR EACH ROW BEGIN END": true,
		"DROP TRIGGER IF EXISTS x":                                   true,
		"create or replace trigger x before delete on t":             true,
		"CREATE DEFINER=`m`@`%` TRIGGER x BEFORE DELETE ON t":        true,
		"CREATE TABLE t (trigger_name VARCHAR(64))":                  false,
		"INSERT INTO t (v) VALUES ('CREATE TRIGGER')":                false,
	} {
		if got := triggerDDL.MatchString(stmt); got != want {
			t.Errorf("triggerDDL(%q) = %v, want %v", stmt, got, want)
		}
	}
	for _, m := range mustMigrations(t) {
		for i, st := range m.Statements {
			first := strings.Fields(strings.ToUpper(st))
			isTrigger := len(first) > 1 && (first[0] == "CREATE" || first[0] == "DROP") && first[1] == "TRIGGER"
			if isTrigger && !triggerDDL.MatchString(st) {
				t.Errorf("%s statement %d is trigger DDL the lock does not cover:\n%s", m.Name, i+1, st)
			}
		}
	}
}
