// Package storetest gives each test a fresh, empty MySQL-compatible database.
// It never skips: when no server answers, the test fails and says how to get
// one (scripts/test.sh provisions it).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// ServerDSN is the server to create test databases on: $TITULAR_TEST_DSN, or
// the local default. Its database name, if any, is ignored.
func ServerDSN() string {
	if v := os.Getenv("TITULAR_TEST_DSN"); v != "" {
		return v
	}
	return "root@tcp(127.0.0.1:3306)/"
}

// DSN returns the server DSN pointed at database name, with the options
// titular needs.
func DSN(tb testing.TB, name string) string {
	tb.Helper()
	cfg, err := mysql.ParseDSN(ServerDSN())
	if err != nil {
		tb.Fatalf("TITULAR_TEST_DSN is not a valid DSN: %v", err)
	}
	cfg.DBName = name
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	return cfg.FormatDSN()
}

// NewDatabase creates a database with a random name, returns a pool on it and
// its DSN, and drops it when the test ends.
func NewDatabase(tb testing.TB) (*sql.DB, string) {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "titular_t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("mysql", DSN(tb, ""))
	if err != nil {
		tb.Fatalf("open test server: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		tb.Fatalf("no MySQL-compatible server for the integration tests at %q: %v\n"+
			"Run the tests with scripts/test.sh (it provisions MariaDB), or set TITULAR_TEST_DSN.", ServerDSN(), err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4"); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	dsn := DSN(tb, name)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(func() {
		db.Close()
		if os.Getenv("TITULAR_TEST_KEEP_DB") != "" {
			tb.Logf("kept test database %s", name)
			return
		}
		if err := dropDatabase(tb, name); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	return db, dsn
}

// triggerDDLLock is store.TriggerDDLLock (storetest cannot import store,
// whose tests import it): MariaDB can leave a stray .TRG- file behind when
// a database is dropped while trigger DDL runs elsewhere on the server,
// and the database then cannot be dropped. Dropping under the same lock
// as migrations avoids it.
const triggerDDLLock = "titular_migrate_triggers"

func dropDatabase(tb testing.TB, name string) error {
	a, err := sql.Open("mysql", DSN(tb, ""))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := a.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return UnderTriggerLock(ctx, conn, func() error { return dropOrClean(ctx, tb, conn, name) })
}

// UnderTriggerLock runs fn holding the server-wide lock every trigger DDL
// and database drop of the test run takes (store.TriggerDDLLock), on conn,
// so it does not race migrations other tests run meanwhile.
func UnderTriggerLock(ctx context.Context, conn *sql.Conn, fn func() error) error {
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 60)", triggerDDLLock).Scan(&got); err != nil {
		return err
	}
	if got.Int64 != 1 {
		return fmt.Errorf("%s not taken within 60 s", triggerDDLLock)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DO RELEASE_LOCK(?)", triggerDDLLock) //nolint:errcheck // released with the session anyway
	return fn()
}

// dropOrClean drops the database, removing a stray trigger backup first
// when MariaDB left one.
func dropOrClean(ctx context.Context, tb testing.TB, conn *sql.Conn, name string) error {
	_, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`")
	if err == nil || !strayTriggerBackup(err) {
		return err
	}
	// MariaDB still left a .TRG- backup behind (seen under kill -9 of a
	// replica and with many databases migrating at once, despite the
	// lock). The server cannot remove it itself; when its data directory
	// is on this machine, the test removes it and drops again, and says so.
	var datadir string
	if qerr := conn.QueryRowContext(ctx, "SELECT @@datadir").Scan(&datadir); qerr != nil {
		return err
	}
	stray, _ := filepath.Glob(filepath.Join(datadir, name, "*.TRG-"))
	if len(stray) == 0 {
		return fmt.Errorf("%w (the server's data directory is not on this machine: remove %s's *.TRG- files by hand)", err, name)
	}
	for _, f := range stray {
		if rerr := os.Remove(f); rerr != nil {
			return errors.Join(err, rerr)
		}
		tb.Logf("removed MariaDB's stray trigger backup %s to drop the test database", filepath.Base(f))
	}
	_, err = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`")
	return err
}

// strayTriggerBackup reports a DROP DATABASE refused because files the
// server does not own are left in the database's directory (Error 1010,
// errno 39).
func strayTriggerBackup(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1010 && strings.Contains(me.Message, "errno: 39")
}
