// Package demo runs titular's zero-setup demo: an embedded, in-memory
// MySQL-compatible engine (github.com/dolthub/go-mysql-server) serving the
// MySQL protocol on a loopback port, with the demo real-estate CRM seeded and
// titular's migrations applied. Production stays on real MySQL/MariaDB; this
// package exists so a newcomer needs nothing installed.
//
// Known limits of the engine (v0.20.0) and how the demo lives with them:
//   - foreign keys need the native index provider: the provider is created
//     with it;
//   - concurrent transactions overwrite each other's writes: a gate
//     (gate.go) serializes read-write transactions and statements across
//     connections, which is what a one-connection pool would do without
//     deadlocking the worker, which holds a read-only snapshot and a write
//     transaction at once;
//   - FOR UPDATE SKIP LOCKED locks nothing: the demo runs one worker;
//   - SAVEPOINT is not supported in memory sessions; titular uses none
//     (a DELETE kept by a foreign key relies on statement-level rollback);
//   - a statement with a branch that looks up one primary key is taken to
//     return at most one row, and fails when a UNION makes it return more
//     ("max1Row iterator returned more than one row"): titular's ledger
//     reads leaf hashes and upper nodes in two statements (store.fetchNodes);
//     TestDemoLedgerAPI and TestDemoLedgerProofShapes hold the ledger to it;
//   - everything is in memory and gone when the process exits.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/sirupsen/logrus"
)

// Engine is a running embedded database server.
type Engine struct {
	srv      *server.Server
	addr     string
	database string
	done     chan error
}

// StartEngine creates an empty database named database in a fresh in-memory
// engine and serves it over the MySQL protocol on addr ("127.0.0.1:0" picks
// a free port). User root, no password: bind it to loopback only.
func StartEngine(ctx context.Context, addr, database string) (*Engine, error) {
	// The engine logs through logrus's standard logger, queries included on
	// errors; titular's logs never carry query text, so it is silenced.
	logrus.SetOutput(io.Discard)

	pro, ok := memory.NewDBProviderWithOpts(memory.NativeIndexProvider(true)).(*memory.DbProvider)
	if !ok {
		return nil, errors.New("demo engine: unexpected database provider type")
	}
	sctx := sql.NewContext(ctx, sql.WithSession(memory.NewSession(sql.NewBaseSession(), pro)))
	if err := pro.CreateDatabase(sctx, database); err != nil {
		return nil, fmt.Errorf("demo engine: create database: %w", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo engine: listen: %w", err)
	}
	cfg := server.Config{
		Protocol: "tcp",
		Address:  l.Addr().String(),
		Listener: l,
		// One statement per COM_QUERY keeps the gate's view of transactions exact.
		DisableClientMultiStatements: true,
	}
	g := newGate()
	srv, err := server.NewServerWithHandler(cfg, sqle.NewDefault(pro), sql.NewContext,
		memory.NewSessionBuilder(pro), nil, g.wrap)
	if err != nil {
		_ = l.Close() // never served; the server error is the one to report
		return nil, fmt.Errorf("demo engine: %w", err)
	}
	e := &Engine{srv: srv, addr: l.Addr().String(), database: database, done: make(chan error, 1)}
	go func() { e.done <- srv.Start() }()
	return e, nil
}

// Addr is the engine's MySQL protocol address.
func (e *Engine) Addr() string { return e.addr }

// DSN is a go-sql-driver/mysql DSN for the engine's database.
func (e *Engine) DSN() string { return fmt.Sprintf("root@tcp(%s)/%s", e.addr, e.database) }

// Close stops the server; the data is gone.
func (e *Engine) Close() error {
	err := e.srv.Close()
	if serr := <-e.done; err == nil {
		err = serr // what serving ended with (nil today), not dropped
	}
	return err
}
