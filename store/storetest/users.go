package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// User is an account a test created, dropped when the test ends.
type User struct {
	Name, Host, Password string
	serverDSN            string
}

// Account is the account as GRANT names it: 'name'@'host'.
func (u *User) Account() string { return "'" + u.Name + "'@'" + u.Host + "'" }

// DSN is serverDSN's server as this user, on database, with the options
// titular needs.
func (u *User) DSN(tb testing.TB, database string) string {
	tb.Helper()
	cfg, err := mysql.ParseDSN(u.serverDSN)
	if err != nil {
		tb.Fatalf("server DSN: %v", err)
	}
	cfg.User, cfg.Passwd, cfg.DBName = u.Name, u.Password, database
	cfg.ParseTime, cfg.Loc = true, time.UTC
	return cfg.FormatDSN()
}

// Open opens a pool on database as this user, closed when the test ends.
func (u *User) Open(tb testing.TB, database string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("mysql", u.DSN(tb, database))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// NewUser creates an account with a random name and password on the
// server of serverDSN (an account that may create users), runs each of
// grants as that account with {user} replaced by the new one
// ('name'@'host'), and drops it when the test ends. The host is the one
// the test's connections come from as the server sees them, so the server
// picks this account for them (an anonymous account on localhost would
// otherwise win over 'name'@'%').
func NewUser(tb testing.TB, serverDSN string, grants ...string) *User {
	tb.Helper()
	admin, err := sql.Open("mysql", serverDSN)
	if err != nil {
		tb.Fatalf("open the server: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b [6]byte
	var p [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	if _, err := rand.Read(p[:]); err != nil {
		tb.Fatal(err)
	}
	u := &User{Name: "titular_u_" + hex.EncodeToString(b[:]), Password: hex.EncodeToString(p[:]), serverDSN: serverDSN}
	var who string
	if err := admin.QueryRowContext(ctx, "SELECT USER()").Scan(&who); err != nil {
		_ = admin.Close()
		tb.Fatalf("no server to create a test user on: %v", err)
	}
	u.Host = who[strings.LastIndexByte(who, '@')+1:]
	if _, err := admin.ExecContext(ctx, "CREATE USER "+u.Account()+" IDENTIFIED BY '"+u.Password+"'"); err != nil {
		_ = admin.Close()
		tb.Fatalf("create test user: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP USER IF EXISTS "+u.Account()); err != nil {
			tb.Errorf("drop test user %s: %v", u.Name, err)
		}
	})
	for _, g := range grants {
		if _, err := admin.ExecContext(ctx, strings.ReplaceAll(g, "{user}", u.Account())); err != nil {
			tb.Fatalf("%s: %v", g, err)
		}
	}
	return u
}
