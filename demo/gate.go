package demo

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
)

// gate makes the in-memory engine safe for several client connections. The
// engine keeps a transaction's table copies in the session and writes them
// back whole at commit, and edits shared table data in place, so two
// connections working at once lose each other's writes or race. The gate:
//   - runs one statement at a time in the engine;
//   - lets one read-write transaction (or autocommit statement) run at a
//     time: a connection holds the write token from START TRANSACTION to
//     COMMIT or ROLLBACK;
//   - lets read-only transactions (START TRANSACTION READ ONLY) and
//     autocommit reads (SELECT, SHOW, SET) run beside it: they never commit
//     writes (an autocommit read writes back, at its commit, the very tables
//     it just read, unchanged since no other statement ran meanwhile), and
//     titular's workers read a snapshot on one connection while writing on
//     another.
//
// A goroutine that holds a read-write transaction and then writes through a
// second connection would wait for itself: after tokenWait the second write
// fails instead of hanging the demo. So would one that reads through the
// pool while the pool's other connections all wait for the token its
// transaction holds: titular's worker reads only in its snapshot and its
// transaction (TestExtractReadsOnlyInItsTransactions in package service).
type gate struct {
	stmt  sync.Mutex
	token chan struct{} // capacity 1: the write token

	mu    sync.Mutex
	conns map[uint32]*connState
}

// connState is what the gate knows about one client connection.
type connState struct {
	holds    bool // holds the write token for its open transaction
	readOnly bool // inside START TRANSACTION READ ONLY
}

func newGate() *gate {
	return &gate{token: make(chan struct{}, 1), conns: map[uint32]*connState{}}
}

// wrap is the server's handler wrapper.
func (g *gate) wrap(h mysql.Handler) (mysql.Handler, error) {
	return &gatedHandler{Handler: h, g: g}, nil
}

func (g *gate) state(id uint32) *connState {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.conns[id]
	if s == nil {
		s = &connState{}
		g.conns[id] = s
	}
	return s
}

// tokenWait bounds the wait for the write token.
const tokenWait = 30 * time.Second

func (g *gate) acquire(ctx context.Context) error {
	t := time.NewTimer(tokenWait)
	defer t.Stop()
	select {
	case g.token <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errors.New("demo engine: another transaction has held the database for 30s; retry")
	}
}

func (g *gate) release() { <-g.token }

// forget ends whatever the connection held: the engine rolls back an open
// transaction of a closed or reset connection.
func (g *gate) forget(id uint32) {
	g.mu.Lock()
	s := g.conns[id]
	delete(g.conns, id)
	g.mu.Unlock()
	if s != nil && s.holds {
		g.release()
	}
}

// stmtKind classifies a statement for the gate.
type stmtKind int

const (
	stmtOther stmtKind = iota
	stmtRead           // SELECT, SHOW, SET and the like: never changes table data
	stmtBegin
	stmtBeginReadOnly
	stmtEnd // COMMIT or ROLLBACK
)

func classify(query string) stmtKind {
	q := strings.ToUpper(strings.Join(strings.Fields(query), " "))
	q = strings.TrimSuffix(q, ";")
	switch {
	case strings.HasPrefix(q, "START TRANSACTION") && strings.Contains(q, "READ ONLY"):
		return stmtBeginReadOnly
	case strings.HasPrefix(q, "START TRANSACTION"), q == "BEGIN", q == "BEGIN WORK":
		return stmtBegin
	case strings.HasPrefix(q, "COMMIT"), strings.HasPrefix(q, "ROLLBACK") && !strings.Contains(q, " TO "):
		return stmtEnd
	}
	first, _, _ := strings.Cut(q, " ")
	switch strings.TrimLeft(first, "(") {
	case "SELECT", "SHOW", "SET", "DESCRIBE", "DESC", "EXPLAIN", "USE":
		return stmtRead
	}
	return stmtOther
}

// run executes one statement of connection id through exec, taking and
// releasing the write token as the statement's kind requires.
func (g *gate) run(ctx context.Context, id uint32, query string, exec func() error) error {
	s := g.state(id)
	kind := classify(query)
	// A new transaction implicitly commits an open one (as in MySQL).
	opens := kind == stmtBegin && !s.holds
	autocommit := kind == stmtOther && !s.holds && !s.readOnly
	if opens || autocommit {
		if err := g.acquire(ctx); err != nil {
			return err
		}
	}
	g.stmt.Lock()
	err := exec()
	g.stmt.Unlock()

	releaseNow := autocommit
	switch kind {
	case stmtBegin:
		s.holds, s.readOnly = err == nil, false
		releaseNow = opens && err != nil
	case stmtBeginReadOnly:
		releaseNow, s.holds, s.readOnly = s.holds, false, err == nil
	case stmtEnd:
		releaseNow, s.holds, s.readOnly = s.holds, false, false
	}
	if releaseNow {
		g.release()
	}
	return err
}

// gatedHandler routes every statement through the gate.
type gatedHandler struct {
	mysql.Handler
	g *gate
}

func (h *gatedHandler) ComQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) error {
	return h.g.run(ctx, c.ConnectionID, query, func() error { return h.Handler.ComQuery(ctx, c, query, cb) })
}

func (h *gatedHandler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) (string, error) {
	var rest string
	err := h.g.run(ctx, c.ConnectionID, query, func() error {
		var err error
		rest, err = h.Handler.ComMultiQuery(ctx, c, query, cb)
		return err
	})
	return rest, err
}

func (h *gatedHandler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, p *mysql.PrepareData) ([]*querypb.Field, error) {
	// Preparing only analyses; one statement at a time is enough.
	h.g.stmt.Lock()
	defer h.g.stmt.Unlock()
	return h.Handler.ComPrepare(ctx, c, query, p)
}

func (h *gatedHandler) ComStmtExecute(ctx context.Context, c *mysql.Conn, p *mysql.PrepareData, cb func(*sqltypes.Result) error) error {
	return h.g.run(ctx, c.ConnectionID, p.PrepareStmt, func() error { return h.Handler.ComStmtExecute(ctx, c, p, cb) })
}

// ComResetConnection and ConnectionClosed let the engine roll back first,
// then give back the connection's token.
func (h *gatedHandler) ComResetConnection(c *mysql.Conn) error {
	h.g.stmt.Lock()
	err := h.Handler.ComResetConnection(c)
	h.g.stmt.Unlock()
	h.g.forget(c.ConnectionID)
	return err
}

func (h *gatedHandler) ConnectionClosed(c *mysql.Conn) {
	h.g.stmt.Lock()
	h.Handler.ConnectionClosed(c)
	h.g.stmt.Unlock()
	h.g.forget(c.ConnectionID)
}
