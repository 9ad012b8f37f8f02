// Package fleettest makes fleets of tenant databases for tests: each a
// fresh database on the test server with the small CRM of package seed
// (three tables, a score of synthetic titulares) and titular's tables.
package fleettest

import (
	"context"
	"database/sql"
	"net"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
	"github.com/titular/titular/store/storetest"
)

// Titulares is how many titulares each tenant's small CRM holds.
const Titulares = 20

// Tenant is one test tenant database.
type Tenant struct {
	// Seed made its titulares: seed.SmallTitulares(Seed, Titulares).
	Seed uint64
	DSN  string
	DB   *sql.DB
}

// Titulares returns the tenant's titulares.
func (t Tenant) Titulares() []seed.SmallTitular { return seed.SmallTitulares(t.Seed, Titulares) }

// Datamap is the absolute path of the small CRM's data map.
func Datamap(tb testing.TB) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	p, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", "examples", "fleet", "datamap.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// NewTenants creates n tenant databases, a few at a time, migrated unless
// migrate is false; seeds start at first. The test's own pools keep no idle
// connection, so a fleet of them does not crowd the server.
func NewTenants(tb testing.TB, n int, first uint64, migrate bool) []Tenant {
	tb.Helper()
	RaiseMaxConnections(tb, 1000)
	out := make([]Tenant, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 8)
	var mu sync.Mutex // storetest.NewDatabase registers cleanups on tb
	var wg sync.WaitGroup
	for i := range out {
		mu.Lock()
		db, dsn := storetest.NewDatabase(tb)
		mu.Unlock()
		db.SetMaxIdleConns(0)
		out[i] = Tenant{Seed: first + uint64(i), DSN: dsn, DB: db}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ctx := context.Background()
			if err := seed.CreateSmall(ctx, db, out[i].Seed, Titulares); err != nil {
				errs[i] = err
				return
			}
			if migrate {
				_, errs[i] = store.Migrate(ctx, db)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatalf("fleet tenant: %v", err)
		}
	}
	return out
}

// RaiseMaxConnections makes the test server accept at least n connections
// (a fleet test's tenants, replicas and clients together); it never lowers
// the setting, which other tests running at once may rely on.
func RaiseMaxConnections(tb testing.TB, n int) {
	tb.Helper()
	db, err := sql.Open("mysql", storetest.DSN(tb, ""))
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var cur int
	if err := db.QueryRow("SELECT @@GLOBAL.max_connections").Scan(&cur); err != nil {
		tb.Fatalf("read max_connections: %v", err)
	}
	if cur < n {
		if _, err := db.Exec("SET GLOBAL max_connections = ?", n); err != nil {
			tb.Fatalf("raise max_connections to %d: %v", n, err)
		}
	}
}

// StalledServer starts a TCP listener that accepts connections and never
// answers — a database host that is up but hung, or behind a firewall that
// drops packets after the handshake — and returns its address.
func StalledServer(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// FreeAddr returns a loopback address nothing listened on a moment ago:
// a port that refuses connections, or one for a listener to take.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
