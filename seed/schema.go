package seed

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
)

//go:embed schema.sql
var schemaSQL string

// statements splits schema.sql into single statements: the DSN has no
// multiStatements, so each is executed on its own. Comment lines go; a
// statement ends with a ";" at the end of a line (schema.sql keeps to that).
func statements(script string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.Lines(script) {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, rest)
	}
	return out
}

// CreateSchema creates the fourteen demo tables when they do not exist. With
// reset it first drops them (and only them: titular's lgpd_ tables in the
// same database are left alone), losing their rows.
func CreateSchema(ctx context.Context, db *sql.DB, reset bool) error {
	if reset {
		if err := dropTables(ctx, db); err != nil {
			return err
		}
	}
	for _, stmt := range statements(schemaSQL) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("seed: create demo schema: %w", err)
		}
	}
	return nil
}

// dropTables drops the demo tables children first, on one connection with
// foreign key checks off so a half-created schema (or a table of another
// shape left by an older seed) never blocks the reset.
func dropTables(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("seed: reset demo schema: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION foreign_key_checks = 0"); err != nil {
		return fmt.Errorf("seed: reset demo schema: %w", err)
	}
	names := Tables()
	slices.Reverse(names)
	var dropErr error
	for _, name := range names {
		if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS `"+name+"`"); err != nil {
			dropErr = fmt.Errorf("seed: drop table %s: %w", name, err)
			break
		}
	}
	// Never hand a connection with checks off back to the pool.
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "SET SESSION foreign_key_checks = 1"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		if dropErr == nil {
			dropErr = fmt.Errorf("seed: restore foreign key checks: %w", err)
		}
	}
	return dropErr
}

// nonEmptyTable returns the first demo table that holds rows, or "".
func nonEmptyTable(ctx context.Context, db *sql.DB) (string, error) {
	for _, name := range Tables() {
		var one int
		err := db.QueryRowContext(ctx, "SELECT 1 FROM `"+name+"` LIMIT 1").Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return "", fmt.Errorf("seed: inspect table %s: %w", name, err)
		}
		return name, nil
	}
	return "", nil
}
