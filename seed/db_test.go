package seed

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// serverDSN is the MySQL-compatible server the integration tests use:
// $TITULAR_TEST_DSN (its database name is ignored) or the local default.
func serverDSN() string {
	if v := os.Getenv("TITULAR_TEST_DSN"); v != "" {
		return v
	}
	return "root@tcp(127.0.0.1:3306)/"
}

func dsnFor(tb testing.TB, dbName string) string {
	tb.Helper()
	cfg, err := mysql.ParseDSN(serverDSN())
	if err != nil {
		tb.Fatalf("TITULAR_TEST_DSN is not a valid DSN: %v", err)
	}
	cfg.DBName = dbName
	cfg.MultiStatements = false // as in production: the schema must run statement by statement
	return cfg.FormatDSN()
}

// newDB creates a database with a random name and drops it when the test
// ends. It never skips: no server means a failed test that says what to do.
func newDB(tb testing.TB) *sql.DB {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "titular_seed_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("mysql", dsnFor(tb, ""))
	if err != nil {
		tb.Fatalf("open test server: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		tb.Fatalf("no MySQL-compatible server for the seed tests: %v\n"+
			"Start MariaDB on 127.0.0.1:3306 (scripts/test.sh provisions one) or set TITULAR_TEST_DSN.", err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4"); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	db, err := sql.Open("mysql", dsnFor(tb, name))
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(func() {
		db.Close()
		a, err := sql.Open("mysql", dsnFor(tb, ""))
		if err != nil {
			tb.Errorf("drop test database: %v", err)
			return
		}
		defer a.Close()
		if _, err := a.Exec("DROP DATABASE IF EXISTS `" + name + "`"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	return db
}

// count runs a COUNT query and fails the test on error.
func count(tb testing.TB, db *sql.DB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// strs runs a query returning one string column (NULLs are skipped).
func strs(tb testing.TB, db *sql.DB, query string, args ...any) []string {
	tb.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			tb.Fatal(err)
		}
		if s.Valid {
			out = append(out, s.String)
		}
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
