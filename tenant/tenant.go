// Package tenant holds titular's tenants: the catalog (the config file's
// list and a watched directory of tenant files), each tenant's
// configuration, data map, keys and database pool, its health, and the
// connection budgets the pools share per MySQL server. A call's tenant id
// selects exactly one of them; nothing here ever reaches across tenants.
package tenant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/config"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/store"
)

// ErrUnknown is returned for a tenant id that is not in the catalog.
var ErrUnknown = errors.New("unknown tenant")

// ErrUnavailable wraps why a tenant in the catalog cannot be used now (its
// database does not answer, its data map is broken); it is retried.
var ErrUnavailable = errors.New("tenant unavailable")

// Tenant is one tenant, opened and ready to use.
type Tenant struct {
	Config    config.Tenant
	Map       *datamap.Map
	Store     *store.Store
	ExportKey []byte
	// Anonymizers builds the map's anonymizers. They are keyed per request
	// (anonymize.NewRequestKey), never with a key the tenant keeps.
	Anonymizers *anonymize.Registry
	// Endpoints are the tenant's webhook endpoints by name, secrets read.
	Endpoints map[string]Endpoint

	budget *Budget
	idle   int // the pool's idle-connection limit

	mu      sync.Mutex
	users   int
	retired bool
	unused  *sync.Cond
}

// Endpoint is a webhook endpoint with its signing secret.
type Endpoint struct {
	URL    string
	Secret []byte
}

// ReleaseIdle closes the tenant's idle connections now: the scheduler calls
// it when the tenant goes quiet, so idle tenants hold no connection.
func (t *Tenant) ReleaseIdle() {
	if s := t.Store.DB().Stats(); s.Idle > 0 {
		dropIdle(t.Store.DB(), t.idle)
	}
}

// Registry is the catalog of tenants and their open pools. Tenants open in
// the background (Run) and on first use; one that fails is reported and
// retried with backoff, never fatal to the others.
type Registry struct {
	cfg     *config.Config
	keys    *keyring.Keyring
	log     *slog.Logger
	anon    *anonymize.Registry
	budgets *budgets
	maps    *mapCache

	// OnCommit learns the background work each committed change of a
	// tenant left; OnUp that a tenant opened; OnRemove that one left the
	// catalog (its work in hand finishes, nothing new should start). Set
	// before the first Get; they must not block.
	OnCommit func(tenantID string, w store.Work)
	OnUp     func(tenantID string)
	OnRemove func(tenantID string)
	// Migrate makes opening a tenant apply titular's migrations first
	// (serve --migrate); CheckSchema makes it check the data map against
	// the live schema (serve: a map that does not fit would fail every
	// request), which commands such as ledger verify do not need.
	Migrate, CheckSchema bool

	mu       sync.Mutex
	entries  map[string]*entry
	ids      []string // sorted
	problems map[string]error
	closed   bool
	initial  initialPass
	kick     chan struct{}
	closing  chan struct{}
	retiring sync.WaitGroup
	retired  map[*Tenant]bool // retiring, pool not closed yet
}

// entry is one tenant of the catalog, open or not.
type entry struct {
	cfg      config.Tenant
	t        *Tenant
	opening  *opening
	health   Health
	err      error // why the last open failed
	failures int
}

// opening is a tenant being opened; callers asking for it meanwhile wait
// on done instead of opening it again.
type opening struct {
	done chan struct{}
	t    *Tenant
	err  error
}

// NewRegistry returns a registry over the config's tenants.
func NewRegistry(cfg *config.Config, keys *keyring.Keyring, log *slog.Logger) *Registry {
	r := &Registry{cfg: cfg, keys: keys, log: log, anon: anonymize.NewRegistry(),
		budgets: newBudgets(cfg.Databases), maps: newMapCache(),
		entries: map[string]*entry{}, problems: map[string]error{}, kick: make(chan struct{}, 1),
		closing: make(chan struct{}), retired: map[*Tenant]bool{}}
	r.apply(cfg.Tenants)
	for _, p := range cfg.TenantFileProblems {
		r.problems[problemKey(p)] = p
	}
	return r
}

// Anonymizers is the registry data maps take their anonymizers from. A
// program embedding titular registers its own on it before serving, since
// each tenant's map is validated against it when the tenant first opens.
func (r *Registry) Anonymizers() *anonymize.Registry { return r.anon }

// IDs lists the tenants of the catalog, sorted.
func (r *Registry) IDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

// Known reports whether id is in the catalog.
func (r *Registry) Known(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.entries[id] != nil
}

// Budgets returns the state of every server's connection budget.
func (r *Registry) Budgets() []BudgetStats { return r.budgets.stats() }

// Get returns the tenant, opening it on first use. Tenants open
// independently: one whose database is slow to answer delays only its own
// callers. A tenant that failed to open answers ErrUnavailable, with the
// reason, until its next retry is due.
func (r *Registry) Get(ctx context.Context, id string) (*Tenant, error) {
	r.mu.Lock()
	e := r.entries[id]
	switch {
	case e == nil:
		r.mu.Unlock()
		return nil, ErrUnknown
	case e.t != nil:
		t := e.t
		r.mu.Unlock()
		return t, nil
	case r.closed:
		r.mu.Unlock()
		return nil, fmt.Errorf("tenant %s: the registry is closed", id)
	}
	o := e.opening
	if o == nil {
		if e.health.State == StateDown && time.Now().Before(e.health.RetryAt) {
			err := e.err
			r.mu.Unlock()
			return nil, err
		}
		o = r.startOpenLocked(e) //nolint:contextcheck // the open is shared by every waiter: see openInto
	}
	r.mu.Unlock()
	select {
	case <-o.done:
		return o.t, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Use is Get for background work: the tenant's pool stays open until done
// is called, even if the tenant leaves the catalog meanwhile.
func (r *Registry) Use(ctx context.Context, id string) (t *Tenant, done func(), err error) {
	for range 3 {
		t, err = r.Get(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		t.mu.Lock()
		if !t.retired {
			t.users++
			t.mu.Unlock()
			return t, sync.OnceFunc(t.done), nil
		}
		t.mu.Unlock() // replaced meanwhile: take the new one
	}
	return nil, nil, fmt.Errorf("%w: tenant %s is being reconfigured; retry", ErrUnavailable, id)
}

func (t *Tenant) done() {
	t.mu.Lock()
	t.users--
	if t.users == 0 && t.retired {
		t.unused.Broadcast()
	}
	t.mu.Unlock()
}

// startOpenLocked opens e in the background; r.mu is held.
func (r *Registry) startOpenLocked(e *entry) *opening {
	o := &opening{done: make(chan struct{})}
	e.opening = o
	go r.openInto(e.cfg, o)
	return o
}

// openInto opens tc, publishes the tenant (or the error) to o's waiters and
// to later callers, and records the tenant's health. A tenant removed or
// reconfigured meanwhile is closed again. The open is shared by every
// waiter, so it runs on its own context bounded by openTimeout, never on
// the context of whichever caller happened to start it (each waiter stops
// waiting on its own context in Get).
func (r *Registry) openInto(tc config.Tenant, o *opening) {
	octx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	t, err := r.openTenant(octx, tc)
	reason := ""
	if err != nil {
		reason = describe(err)
		err = fmt.Errorf("%w: tenant %s: %s", ErrUnavailable, tc.ID, reason)
	}
	r.mu.Lock()
	e := r.entries[tc.ID]
	stale := e == nil || e.opening != o || r.closed
	if stale {
		if t != nil {
			r.retireLocked(t)
			t = nil
		}
		if err == nil {
			err = fmt.Errorf("%w: tenant %s was removed or reconfigured while opening; retry", ErrUnavailable, tc.ID)
		}
	} else {
		e.opening = nil
		r.initial.attempted(tc.ID)
		if err != nil {
			e.failures++
			e.err = err
			e.t = nil
			r.setHealthLocked(e, StateDown, reason, r.retryDelay(e.failures))
		} else {
			e.failures, e.err, e.t = 0, nil, t
			r.setHealthLocked(e, StateUp, "", 0)
		}
	}
	onUp := r.OnUp
	r.mu.Unlock()
	o.t, o.err = t, err
	close(o.done)
	if !stale && err == nil && onUp != nil {
		onUp(tc.ID)
	}
}

// retryDelay is the wait before the n-th retry of a tenant that failed to
// open: 1s doubling to the longest backstop poll.
func (r *Registry) retryDelay(failures int) time.Duration {
	d := time.Second
	for i := 1; i < failures && d < r.cfg.Workers.PollInterval; i++ {
		d *= 2
	}
	return min(d, r.cfg.Workers.PollInterval)
}

// retireLocked stops handing out t and closes its pool once the background
// work using it is done; r.mu is held.
func (r *Registry) retireLocked(t *Tenant) {
	t.mu.Lock()
	t.retired = true
	t.mu.Unlock()
	r.retired[t] = true
	r.retiring.Go(func() {
		// Background work in hand finishes (bounded by the request lease, or
		// cut short by Close); API calls that took the tenant just before
		// get a moment more.
		deadline := time.AfterFunc(r.cfg.Workers.Lease, t.abandon)
		t.mu.Lock()
		for t.users > 0 {
			t.unused.Wait()
		}
		t.mu.Unlock()
		deadline.Stop()
		select {
		case <-time.After(retireGrace):
		case <-r.closing:
		}
		r.mu.Lock()
		delete(r.retired, t)
		r.mu.Unlock()
		t.close()
	})
}

// abandon stops waiting for the tenant's users.
func (t *Tenant) abandon() {
	t.mu.Lock()
	t.users = 0
	t.unused.Broadcast()
	t.mu.Unlock()
}

// retireGrace lets API calls that took a tenant just before it was removed
// finish before its pool closes.
var retireGrace = 2 * time.Second

func (t *Tenant) close() {
	if t.budget != nil {
		t.budget.removePool(t.Store.DB())
	}
	_ = t.Store.DB().Close()
}

// Close closes every pool, those of retired tenants included.
func (r *Registry) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.closing)
	var open []*Tenant
	for _, e := range r.entries {
		if e.t != nil {
			open = append(open, e.t)
			e.t = nil
		}
	}
	for t := range r.retired {
		t.abandon()
	}
	r.mu.Unlock()
	for _, t := range open {
		t.close()
	}
	r.retiring.Wait()
	return nil
}
