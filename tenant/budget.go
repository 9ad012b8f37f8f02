package tenant

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"slices"
	"sync"
	"sync/atomic"
)

// Budget bounds the connections titular holds to one MySQL server, across
// every tenant database on it, so a thousand tenants need no more of the
// server's max_connections than a handful do. A connection is counted from
// the moment it is dialled until it is closed, whichever tenant's pool holds
// it. When the budget is spent, callers wait their turn tenant by tenant
// (round robin), so a burst on one tenant cannot starve the others, and
// pools holding idle connections are asked to let them go.
type Budget struct {
	key string
	max int

	mu     sync.Mutex
	used   int
	queues map[string][]*budgetWaiter // tenant -> waiters, oldest first
	ring   []string                   // tenants with waiters, served in turn
	next   int
	pools  map[*sql.DB]int // pool -> its idle limit, for reclaiming
	waits  int64           // how many acquisitions had to wait, ever

	// waiting mirrors the number of queued callers, read without the lock
	// each time a connection goes back to its pool.
	waiting    atomic.Int32
	reclaiming atomic.Bool
}

type budgetWaiter struct {
	ch      chan struct{}
	granted bool
}

// NewBudget returns a budget of maxConns connections for the server known
// by key.
func NewBudget(key string, maxConns int) *Budget {
	return &Budget{key: key, max: maxConns, queues: map[string][]*budgetWaiter{}, pools: map[*sql.DB]int{}}
}

// BudgetStats is a budget's state, for metrics and tests.
type BudgetStats struct {
	Server        string
	Max, Open     int
	Waiting       int
	WaitsTotal    int64
	TenantsQueued int
}

// Stats returns the budget's current state.
func (b *Budget) Stats() BudgetStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, q := range b.queues {
		n += len(q)
	}
	return BudgetStats{Server: b.key, Max: b.max, Open: b.used, Waiting: n, WaitsTotal: b.waits, TenantsQueued: len(b.ring)}
}

// acquire takes one connection slot for tenant, waiting its turn when the
// budget is spent.
func (b *Budget) acquire(ctx context.Context, tenant string) error {
	b.mu.Lock()
	if b.used < b.max && len(b.ring) == 0 {
		b.used++
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{ch: make(chan struct{})}
	if len(b.queues[tenant]) == 0 {
		b.ring = append(b.ring, tenant)
	}
	b.queues[tenant] = append(b.queues[tenant], w)
	b.waits++
	b.waiting.Add(1)
	b.mu.Unlock()
	b.reclaim()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		if w.granted {
			// The slot arrived as the caller gave up: pass it on.
			b.releaseLocked()
		} else {
			b.dropWaiter(tenant, w)
		}
		b.mu.Unlock()
		return ctx.Err()
	}
}

// release returns one slot: to the next tenant in turn that is waiting, or
// to the budget.
func (b *Budget) release() {
	b.mu.Lock()
	b.releaseLocked()
	b.mu.Unlock()
}

func (b *Budget) releaseLocked() {
	if len(b.ring) == 0 {
		b.used--
		return
	}
	if b.next >= len(b.ring) {
		b.next = 0
	}
	tenant := b.ring[b.next]
	q := b.queues[tenant]
	w := q[0]
	if len(q) == 1 {
		delete(b.queues, tenant)
		b.ring = append(b.ring[:b.next], b.ring[b.next+1:]...)
	} else {
		b.queues[tenant] = q[1:]
		b.next++
	}
	w.granted = true
	b.waiting.Add(-1)
	close(w.ch)
}

func (b *Budget) dropWaiter(tenant string, w *budgetWaiter) {
	b.waiting.Add(-1)
	q := b.queues[tenant]
	for i, x := range q {
		if x == w {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	if len(q) > 0 {
		b.queues[tenant] = q
		return
	}
	delete(b.queues, tenant)
	for i, id := range b.ring {
		if id == tenant {
			b.ring = append(b.ring[:i], b.ring[i+1:]...)
			if b.next > i {
				b.next--
			}
			break
		}
	}
}

// addPool makes a tenant's pool one the budget may ask to close its idle
// connections; idle is the pool's usual idle limit.
func (b *Budget) addPool(db *sql.DB, idle int) {
	b.mu.Lock()
	b.pools[db] = idle
	b.mu.Unlock()
}

func (b *Budget) removePool(db *sql.DB) {
	b.mu.Lock()
	delete(b.pools, db)
	b.mu.Unlock()
}

// reclaim closes idle connections of the server's pools, as many as there
// are callers waiting, from the pools holding the most, in the background
// and one sweep at a time: a connection sitting idle in one tenant's pool
// is one nobody uses while another tenant waits. Connections in use go
// back to the budget instead of their pool while anyone waits (IsValid).
func (b *Budget) reclaim() {
	if !b.reclaiming.CompareAndSwap(false, true) {
		return
	}
	b.mu.Lock()
	type pool struct {
		db         *sql.DB
		idle, keep int
	}
	pools := make([]pool, 0, len(b.pools))
	for db, keep := range b.pools {
		pools = append(pools, pool{db: db, keep: keep})
	}
	b.mu.Unlock()
	go func() {
		defer b.reclaiming.Store(false)
		for i := range pools {
			pools[i].idle = pools[i].db.Stats().Idle
		}
		slices.SortFunc(pools, func(x, y pool) int { return y.idle - x.idle })
		need := int(b.waiting.Load())
		for _, p := range pools {
			if need <= 0 || p.idle == 0 {
				return
			}
			k := min(p.idle, need)
			// database/sql closes the idle connections above a lowered limit
			// at once.
			p.db.SetMaxIdleConns(p.idle - k)
			p.db.SetMaxIdleConns(p.keep)
			need -= k
		}
	}()
}

// dropIdle closes a pool's idle connections now (database/sql closes the
// excess at once when the limit falls) and restores its limit.
func dropIdle(db *sql.DB, idle int) {
	db.SetMaxIdleConns(0)
	db.SetMaxIdleConns(idle)
}

// budgetConnector dials through the driver's connector once the budget
// grants a slot; the connection gives the slot back when closed.
type budgetConnector struct {
	driver.Connector
	budget *Budget
	tenant string
}

func (c budgetConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := c.budget.acquire(ctx, c.tenant); err != nil {
		return nil, err
	}
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		c.budget.release()
		return nil, err
	}
	return &budgetConn{Conn: conn, budget: c.budget, release: sync.OnceFunc(c.budget.release)}, nil
}

// budgetConn is the driver's connection with its slot. It passes through
// every optional interface database/sql looks for, so wrapping changes
// nothing but the count.
type budgetConn struct {
	driver.Conn
	budget  *Budget
	release func()
}

var (
	_ driver.ConnBeginTx         = (*budgetConn)(nil)
	_ driver.ConnPrepareContext  = (*budgetConn)(nil)
	_ driver.ExecerContext       = (*budgetConn)(nil)
	_ driver.QueryerContext      = (*budgetConn)(nil)
	_ driver.Pinger              = (*budgetConn)(nil)
	_ driver.SessionResetter     = (*budgetConn)(nil)
	_ driver.Validator           = (*budgetConn)(nil)
	_ driver.NamedValueChecker   = (*budgetConn)(nil)
	_ driver.Conn                = (*budgetConn)(nil)
	_ driver.Connector           = budgetConnector{}
	_ interface{ Close() error } = (*budgetConn)(nil)
)

func (c *budgetConn) Close() error {
	defer c.release()
	return c.Conn.Close()
}

func (c *budgetConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.Conn.Begin() //nolint:staticcheck // the fallback database/sql itself uses
}

func (c *budgetConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c *budgetConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *budgetConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *budgetConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *budgetConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// IsValid is asked as a connection goes back to its pool: while callers
// wait for the budget, it says no, so database/sql closes the connection
// and its slot goes to the next tenant in turn instead of idling here.
func (c *budgetConn) IsValid() bool {
	if c.budget.waiting.Load() > 0 {
		return false
	}
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *budgetConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
