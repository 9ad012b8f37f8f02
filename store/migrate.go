package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
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
	Current int
}

// Migrate applies every embedded migration not yet recorded in
// lgpd_schema_migrations. A named lock (GET_LOCK, on MySQL and MariaDB alike)
// keeps concurrent replicas from migrating at once; statements are written to
// be re-runnable, since DDL is not transactional in MySQL.
func Migrate(ctx context.Context, db *sql.DB) (MigrationResult, error) {
	var res MigrationResult
	migs, err := Migrations()
	if err != nil {
		return res, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('titular_migrate', 60)").Scan(&got); err != nil {
		return res, fmt.Errorf("migrate: take lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		return res, errors.New("migrate: another titular is migrating this database; try again in a minute")
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK('titular_migrate')") //nolint:errcheck // released with the session anyway

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS lgpd_schema_migrations (
  version    INT          NOT NULL,
  name       VARCHAR(200) NOT NULL,
  applied_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`); err != nil {
		return res, fmt.Errorf("migrate: create version table: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT version FROM lgpd_schema_migrations")
	if err != nil {
		return res, fmt.Errorf("migrate: read versions: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return res, fmt.Errorf("migrate: read versions: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Close(); err != nil {
		return res, fmt.Errorf("migrate: read versions: %w", err)
	}
	for _, m := range migs {
		if applied[m.Version] {
			res.Current = m.Version
			continue
		}
		for i, stmt := range m.Statements {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return res, fmt.Errorf("migrate %s, statement %d: %w", m.Name, i+1, err)
			}
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO lgpd_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, time.Now().UTC()); err != nil {
			return res, fmt.Errorf("migrate %s: record version: %w", m.Name, err)
		}
		res.Applied = append(res.Applied, m.Name)
		res.Current = m.Version
	}
	return res, nil
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
		if isMissingTable(err) {
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
