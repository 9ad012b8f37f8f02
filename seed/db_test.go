package seed

import (
	"database/sql"
	"testing"

	"github.com/titular/titular/store/storetest"
)

// newDB gives the test a fresh database (dropped when it ends). It never
// skips: no server means a failed test that says what to do.
func newDB(tb testing.TB) *sql.DB {
	tb.Helper()
	db, _ := storetest.NewDatabase(tb)
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
