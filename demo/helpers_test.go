package demo_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/titular/titular/demo"
	"github.com/titular/titular/tenant"
)

// engineDB starts the demo engine with an empty database name and returns a
// two-connection pool on it; both close when the test ends.
func engineDB(t *testing.T, name string) *sql.DB {
	t.Helper()
	ctx := context.Background()
	e, err := demo.StartEngine(ctx, "127.0.0.1:0", name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	db, err := tenant.OpenDSN(ctx, e.DSN(), 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
