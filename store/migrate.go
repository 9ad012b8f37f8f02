package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/titular/titular/internal/sqlq"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one embedded, versioned SQL file.
type Migration struct {
	Version    int
	Name       string
	Statements []string
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and '_'", name)
		}
		b, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), Statements: SplitStatements(string(b))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// MigrationResult says what Migrate did.
type MigrationResult struct {
	Applied []string
	// Resumed are the Applied migrations an earlier run had begun: some of
	// their statements had already taken effect (see alreadyApplied).
	Resumed []string
	Current int
}

// ErrMigrationLocked is returned when another process kept this database's
// migration lock for the whole wait.
var ErrMigrationLocked = errors.New("another titular is migrating this database; try again in a minute")

// MigrationError says which statement of which migration failed; Statement
// is 0 when the statements ran but recording the version failed.
type MigrationError struct {
	Migration string
	Statement int
	Err       error
}

func (e *MigrationError) Error() string {
	if e.Statement == 0 {
		return fmt.Sprintf("migrate %s: record version: %v", e.Migration, e.Err)
	}
	return fmt.Sprintf("migrate %s, statement %d: %v", e.Migration, e.Statement, e.Err)
}

func (e *MigrationError) Unwrap() error { return e.Err }

// triggerLockWait is how long a statement waits for the server-wide
// trigger lock (TriggerDDLLock). Every database on the server migrating at
// once queues on it, one quick statement each, so it waits longer than a
// caller's wait for its own database's lock, whatever that is.
const triggerLockWait = 2 * time.Minute

// migrateLockWait is how long Migrate waits for another process migrating
// the same database before giving up.
const migrateLockWait = 60 * time.Second

// Migrate applies every embedded migration not yet recorded in
// lgpd_schema_migrations. A named lock (GET_LOCK, on MySQL and MariaDB alike)
// keeps concurrent replicas from migrating one database at once, while other
// databases on the same server migrate in parallel. DDL is not transactional
// in MySQL, so a run interrupted inside a migration leaves some of its
// statements applied and the version unrecorded; the next run runs the
// migration again, and its statements are written to be re-runnable (IF NOT
// EXISTS, DROP … IF EXISTS before CREATE TRIGGER, INSERT IGNORE) or, where
// MySQL has no such form (ADD COLUMN, CREATE INDEX), their "already exists"
// error counts as done. A new migration keeps to these forms, and changes
// data only in ways that may run twice (INSERT IGNORE, guarded UPDATEs).
//
// Before it changes anything, Migrate checks that the account may apply
// the pending migrations (see preflight): a *PreflightError, matching
// ErrMigratePrivileges or ErrBinlogTriggers, says what is missing and that
// nothing was changed. With nothing pending it changes nothing, so it needs
// no DDL privilege then.
func Migrate(ctx context.Context, db *sql.DB) (MigrationResult, error) {
	migs, err := Migrations()
	if err != nil {
		return MigrationResult{}, err
	}
	return migrate(ctx, db, migrateOptions{migs: migs, lockWait: migrateLockWait})
}

type migrateOptions struct {
	migs     []Migration
	lockWait time.Duration
	// strict fails on "already exists" too; tests apply the migrations to a
	// fresh database this way, so a migration that re-creates an existing
	// object by mistake is caught rather than taken for a resumed run.
	strict bool
}

func migrate(ctx context.Context, db *sql.DB, o migrateOptions) (MigrationResult, error) {
	var res MigrationResult
	conn, err := db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	unlock, err := lockMigrations(ctx, conn, o.lockWait)
	if err != nil {
		return res, err
	}
	defer unlock()

	applied, haveTable, err := appliedVersions(ctx, conn)
	if err != nil {
		return res, err
	}
	var pending []Migration
	for _, m := range o.migs {
		if !applied[m.Version] {
			pending = append(pending, m)
		}
	}
	if len(pending) == 0 {
		// Up to date: nothing to create, so an account without DDL
		// privileges (serve's own, with --migrate) gets through.
		res.Current = currentVersion(o.migs)
		return res, nil
	}
	// Before anything changes: an account that cannot finish the pending
	// migrations fails here, with what to do, rather than halfway.
	if err := preflight(ctx, conn, pending, !haveTable); err != nil {
		return res, err
	}
	if !haveTable {
		if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS lgpd_schema_migrations (
  version    INT          NOT NULL,
  name       VARCHAR(200) NOT NULL,
  applied_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`); err != nil {
			return res, fmt.Errorf("migrate: create version table: %w", err)
		}
	}
	for _, m := range o.migs {
		if applied[m.Version] {
			res.Current = m.Version
			continue
		}
		resumed := false
		for i, stmt := range m.Statements {
			_, err := execMigration(ctx, conn, stmt, triggerLockWait)
			if err != nil && !o.strict && alreadyApplied(err) {
				resumed, err = true, nil
			}
			if err != nil {
				return res, &MigrationError{Migration: m.Name, Statement: i + 1, Err: err}
			}
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO lgpd_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, time.Now().UTC()); err != nil {
			return res, &MigrationError{Migration: m.Name, Err: err}
		}
		res.Applied = append(res.Applied, m.Name)
		if resumed {
			res.Resumed = append(res.Resumed, m.Name)
		}
		res.Current = m.Version
	}
	return res, nil
}

// lockMigrations takes the migration lock of conn's database, waiting up to
// wait for another process to finish, and returns its release.
func lockMigrations(ctx context.Context, conn *sql.Conn, wait time.Duration) (func(), error) {
	var database sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&database); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if !database.Valid || database.String == "" {
		return nil, errors.New("migrate: the connection has no database; name it in the DSN (…/database_name)")
	}
	name := migrateLockName(database.String)
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, int(wait.Seconds())).Scan(&got); err != nil {
		return nil, fmt.Errorf("migrate: take lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		return nil, fmt.Errorf("migrate: %w", ErrMigrationLocked)
	}
	return func() {
		// Released with the session anyway, should this fail.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(?)", name)
	}, nil
}

// triggerDDL matches CREATE and DROP TRIGGER statements.
var triggerDDL = regexp.MustCompile(`(?i)^\s*(create|drop)\s+(or\s+replace\s+)?(definer\s*=\s*\S+\s+)?trigger\b`)

// tableDDL matches the statements that rewrite an existing table, and with
// it the table's trigger file when it has triggers (ALTER TABLE on
// lgpd_consents, an index on it): MariaDB backs that file up as .TRG- for
// them too, so they take the trigger lock as trigger DDL does.
var tableDDL = regexp.MustCompile(`(?i)^\s*(alter\s+table|rename\s+table|drop\s+table|(create\s+(unique\s+|fulltext\s+|spatial\s+)?|drop\s+)index)\b`)

// TriggerDDLLock is the server-wide GET_LOCK name Migrate holds around
// trigger DDL. MariaDB (10.6+, atomic DDL) backs a table's .TRG file up as
// .TRG- while it changes its triggers, and with trigger DDL running in
// several databases at once some backups are left behind: the table works,
// but DROP DATABASE then fails (errno 39, "Directory not empty") until the
// file is removed by hand. Trigger statements are quick, so the fleet's
// migrations wait on each other only for them (MySQL 8, whose triggers live
// in its data dictionary, pays the same short wait). Dropping a table with
// triggers races the same way, so whatever drops tenant databases while
// migrations may run on the server (test cleanup, the fleet bench, an
// operator's script) holds this lock around DROP DATABASE too.
const TriggerDDLLock = "titular_migrate_triggers"

// execMigration runs one statement of a migration on conn, which holds the
// database's migration lock, taking the server's trigger lock around
// trigger DDL.
func execMigration(ctx context.Context, conn *sql.Conn, stmt string, wait time.Duration) (sql.Result, error) {
	if !triggerDDL.MatchString(stmt) && !tableDDL.MatchString(stmt) {
		return conn.ExecContext(ctx, stmt)
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", TriggerDDLLock, int(wait.Seconds())).Scan(&got); err != nil {
		return nil, fmt.Errorf("take the trigger lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		return nil, fmt.Errorf("%w (waiting to change triggers)", ErrMigrationLocked)
	}
	// Released with the session anyway, should this fail.
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(?)", TriggerDDLLock) //nolint:errcheck
	return conn.ExecContext(ctx, stmt)
}

// migrateLockName is the GET_LOCK name guarding one database's migrations.
// User locks are server-wide, not per database, so a fixed name would make
// the tenant databases of a server migrate one at a time (and fail after the
// wait); the database name goes in, hashed, because MySQL limits lock names
// to 64 characters and database names may take 64 alone.
func migrateLockName(database string) string {
	sum := sha256.Sum256([]byte(database))
	return "titular_migrate:" + hex.EncodeToString(sum[:16])
}

// appliedVersions reads lgpd_schema_migrations; haveTable is false when
// the table is not there yet (nothing applied).
func appliedVersions(ctx context.Context, conn *sql.Conn) (applied map[int]bool, haveTable bool, err error) {
	applied = map[int]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT version FROM lgpd_schema_migrations")
	if sqlq.IsMissingTable(err) {
		return applied, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("migrate: read versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, false, fmt.Errorf("migrate: read versions: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("migrate: read versions: %w", err)
	}
	return applied, true, nil
}

// currentVersion is the latest of migs' versions.
func currentVersion(migs []Migration) int {
	v := 0
	for _, m := range migs {
		v = max(v, m.Version)
	}
	return v
}

// MySQL error numbers of a DDL statement whose effect is already there:
// what re-running a statement that an interrupted run had applied returns
// when MySQL has no IF [NOT] EXISTS form for it (MySQL 8 has none for ADD
// COLUMN, ADD INDEX, CREATE INDEX or DROP COLUMN). MariaDB uses the same
// numbers.
const (
	errTableExists       = 1050 // CREATE TABLE, RENAME TABLE
	errDupColumn         = 1060 // ADD COLUMN
	errDupKeyName        = 1061 // ADD INDEX, CREATE INDEX
	errCantDropMissing   = 1091 // DROP COLUMN, DROP INDEX
	errTriggerExists     = 1359 // CREATE TRIGGER
	errTriggerMissing    = 1360 // DROP TRIGGER
	errDupForeignKeyName = 1826 // ADD FOREIGN KEY
)

func alreadyApplied(err error) bool {
	switch sqlq.Number(err) {
	case errTableExists, errDupColumn, errDupKeyName, errCantDropMissing, errTriggerExists, errTriggerMissing, errDupForeignKeyName:
		return true
	}
	return false
}

// SchemaVersion reports the latest applied migration and the latest embedded
// one, so readiness can tell a database that needs `titular migrate`.
func SchemaVersion(ctx context.Context, db *sql.DB) (current, latest int, err error) {
	migs, err := Migrations()
	if err != nil {
		return 0, 0, err
	}
	latest = migs[len(migs)-1].Version
	var v sql.NullInt64
	err = db.QueryRowContext(ctx, "SELECT MAX(version) FROM lgpd_schema_migrations").Scan(&v)
	if err != nil {
		if sqlq.IsMissingTable(err) {
			return 0, latest, nil
		}
		return 0, latest, fmt.Errorf("schema version: %w", err)
	}
	return int(v.Int64), latest, nil
}

// SplitStatements splits a migration file into statements at semicolons that
// end a line, keeping BEGIN … END blocks (trigger bodies) whole. Comment-only
// lines are dropped.
func SplitStatements(src string) []string {
	var out []string
	var cur strings.Builder
	depth := 0
	for _, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		upper := strings.ToUpper(trimmed)
		if upper == "BEGIN" || strings.HasSuffix(upper, " BEGIN") {
			depth++
		}
		if depth > 0 && (upper == "END;" || upper == "END") {
			depth--
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if depth == 0 && strings.HasSuffix(trimmed, ";") {
			stmt := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")
			out = append(out, stmt)
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
