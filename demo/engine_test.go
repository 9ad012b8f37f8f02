package demo

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/titular/titular/tenant"
)

func TestClassify(t *testing.T) {
	for q, want := range map[string]stmtKind{
		"START TRANSACTION":            stmtBegin,
		"begin":                        stmtBegin,
		"START TRANSACTION READ ONLY":  stmtBeginReadOnly,
		"start transaction  read only": stmtBeginReadOnly,
		"COMMIT":                       stmtEnd,
		"ROLLBACK":                     stmtEnd,
		"ROLLBACK TO SAVEPOINT x":      stmtOther,
		"SELECT 1":                     stmtRead,
		"  select n from t for update": stmtRead,
		"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ": stmtRead,
		"INSERT INTO t VALUES (1)":                        stmtOther,
		"UPDATE t SET n = 2":                              stmtOther,
	} {
		if got := classify(q); got != want {
			t.Errorf("classify(%q) = %d, want %d", q, got, want)
		}
	}
}

func startTestEngine(t *testing.T, conns int) *sql.DB {
	t.Helper()
	ctx := context.Background()
	e, err := StartEngine(ctx, "127.0.0.1:0", "gate_test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	db, err := tenant.OpenDSN(ctx, e.DSN(), conns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestGateKeepsConcurrentWrites: many connections running read-modify-write
// transactions and autocommit inserts at once lose nothing, which the bare
// engine does not guarantee.
func TestGateKeepsConcurrentWrites(t *testing.T) {
	db := startTestEngine(t, 8)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE counter (id INT NOT NULL, n INT NOT NULL, PRIMARY KEY (id))",
		"INSERT INTO counter VALUES (1, 0)",
		"CREATE TABLE events (id INT NOT NULL AUTO_INCREMENT, at DATETIME NOT NULL, PRIMARY KEY (id))",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*2)
	for range workers {
		wg.Go(func() {
			for range rounds {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					errs <- err
					return
				}
				var n int
				if err := tx.QueryRowContext(ctx, "SELECT n FROM counter WHERE id = 1").Scan(&n); err != nil {
					errs <- err
					tx.Rollback()
					return
				}
				if _, err := tx.ExecContext(ctx, "UPDATE counter SET n = ? WHERE id = 1", n+1); err != nil {
					errs <- err
					tx.Rollback()
					return
				}
				if err := tx.Commit(); err != nil {
					errs <- err
				}
				if _, err := db.ExecContext(ctx, "INSERT INTO events (at) VALUES (?)", time.Now()); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n, events int
	if err := db.QueryRowContext(ctx, "SELECT n FROM counter WHERE id = 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM events").Scan(&events); err != nil {
		t.Fatal(err)
	}
	if n != workers*rounds || events != workers*rounds {
		t.Errorf("counter = %d, events = %d; want %d each (writes were lost)", n, events, workers*rounds)
	}
}

// TestReadOnlySnapshotBesideWrite: the workers' pattern, a read-only
// transaction open beside a write transaction of the same goroutine, in
// either order, plus autocommit reads, does not deadlock.
func TestReadOnlySnapshotBesideWrite(t *testing.T) {
	db := startTestEngine(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (id INT NOT NULL, PRIMARY KEY (id))"); err != nil {
		t.Fatal(err)
	}
	// The write transaction first, then the snapshot (as ANONYMIZE does),
	// then an autocommit read on a third connection.
	write, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := write.ExecContext(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	read, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	defer read.Rollback()
	var n int
	if err := read.QueryRowContext(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := write.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after commit: %d rows, %v", n, err)
	}
}
