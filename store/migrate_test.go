package store

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
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
	rows, err := s.DB().Query("SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
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
