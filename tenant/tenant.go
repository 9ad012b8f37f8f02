// Package tenant holds titular's tenants: each one's configuration, data map,
// keys and a lazily opened, bounded database pool. A call's tenant id selects
// exactly one of them; nothing here ever reaches across tenants.
package tenant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/go-sql-driver/mysql"
	"go.opentelemetry.io/otel/attribute"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/config"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/store"
)

// ErrUnknown is returned for a tenant id that is not configured.
var ErrUnknown = errors.New("unknown tenant")

// Tenant is one configured tenant, ready to use.
type Tenant struct {
	Config    config.Tenant
	Map       *datamap.Map
	Store     *store.Store
	ExportKey []byte
	// Anonymizers builds the map's anonymizers; AnonymizeKey keys them
	// (keyring purpose "anonymize").
	Anonymizers  *anonymize.Registry
	AnonymizeKey *anonymize.Key
}

// Registry opens tenants on first use and closes their pools on shutdown.
type Registry struct {
	cfg  *config.Config
	keys *keyring.Keyring
	log  *slog.Logger
	anon *anonymize.Registry

	mu      sync.Mutex
	open    map[string]*Tenant
	opening map[string]*opening
	closed  bool
}

// opening is a tenant being opened; callers asking for it meanwhile wait
// on done instead of opening it again.
type opening struct {
	done chan struct{}
	t    *Tenant
	err  error
}

// openTimeout bounds opening a tenant (data map, keys, pool and ping): the
// first caller's cancellation must not fail the others waiting for it.
const openTimeout = 30 * time.Second

// NewRegistry returns a registry over the configured tenants.
func NewRegistry(cfg *config.Config, keys *keyring.Keyring, log *slog.Logger) *Registry {
	return &Registry{cfg: cfg, keys: keys, log: log, anon: anonymize.NewRegistry(), open: map[string]*Tenant{}, opening: map[string]*opening{}}
}

// Anonymizers is the registry data maps take their anonymizers from. A
// program embedding titular registers its own on it before serving, since
// each tenant's map is validated against it when the tenant first opens.
func (r *Registry) Anonymizers() *anonymize.Registry { return r.anon }

// IDs lists the configured tenant ids in config order.
func (r *Registry) IDs() []string {
	ids := make([]string, len(r.cfg.Tenants))
	for i, t := range r.cfg.Tenants {
		ids[i] = t.ID
	}
	return ids
}

// Known reports whether id is a configured tenant.
func (r *Registry) Known(id string) bool {
	_, ok := r.cfg.Tenant(id)
	return ok
}

// Get returns the tenant, opening its pool, data map and keys on first use.
// Tenants open independently: one whose database is slow to answer delays
// only its own callers. A failed open is not remembered; the next call
// tries again.
func (r *Registry) Get(ctx context.Context, id string) (*Tenant, error) {
	r.mu.Lock()
	if t, ok := r.open[id]; ok {
		r.mu.Unlock()
		return t, nil
	}
	tc, ok := r.cfg.Tenant(id)
	if !ok {
		r.mu.Unlock()
		return nil, ErrUnknown
	}
	if r.closed {
		r.mu.Unlock()
		return nil, fmt.Errorf("tenant %s: the registry is closed", id)
	}
	o, ok := r.opening[id]
	if !ok {
		o = &opening{done: make(chan struct{})}
		r.opening[id] = o
		go r.openInto(ctx, tc, o)
	}
	r.mu.Unlock()
	select {
	case <-o.done:
		return o.t, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// openInto opens tc, publishes it (or the error) to o's waiters and, when
// it opened, to later callers; a registry closed meanwhile closes it again.
func (r *Registry) openInto(ctx context.Context, tc config.Tenant, o *opening) {
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), openTimeout)
	defer cancel()
	t, err := r.openTenant(octx, tc)
	r.mu.Lock()
	delete(r.opening, tc.ID)
	if err == nil && r.closed {
		_ = t.Store.DB().Close()
		t, err = nil, fmt.Errorf("tenant %s: the registry is closed", tc.ID)
	}
	if err == nil {
		r.open[tc.ID] = t
	}
	o.t, o.err = t, err
	r.mu.Unlock()
	close(o.done)
}

func (r *Registry) openTenant(ctx context.Context, tc config.Tenant) (*Tenant, error) {
	m, err := datamap.Load(tc.Datamap, store.DatamapOptions(r.anon)...)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: data map: %w", tc.ID, err)
	}
	anonSecret, err := r.keys.Key(tc.ID, "anonymize", tc.AnonymizeKey)
	if err != nil {
		return nil, err
	}
	anonKey, err := anonymize.NewKey(anonSecret)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: anonymize key: %w", tc.ID, err)
	}
	key, err := r.keys.Key(tc.ID, "export", tc.ExportKey)
	if err != nil {
		return nil, err
	}
	// Subject references and ledger MACs are keyed outside the database.
	subjectKey, err := r.keys.Key(tc.ID, "subject", tc.SubjectKey)
	if err != nil {
		return nil, err
	}
	ledgerKey, err := r.keys.Key(tc.ID, "ledger", tc.LedgerKey)
	if err != nil {
		return nil, err
	}
	db, err := Open(ctx, tc)
	if err != nil {
		return nil, err
	}
	return &Tenant{Config: tc, Map: m, Store: store.New(db, store.WithSubjectKey(subjectKey), store.WithLedgerKey(ledgerKey)), ExportKey: key, Anonymizers: r.anon, AnonymizeKey: anonKey}, nil
}

// Open opens and pings a tenant's pool, with the driver options titular
// relies on (UTC times, parsed DATETIMEs).
func Open(ctx context.Context, tc config.Tenant) (*sql.DB, error) {
	dsn, err := tc.ResolveDSN()
	if err != nil {
		return nil, err
	}
	db, err := OpenDSN(ctx, dsn, tc.MaxOpenConns)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", tc.ID, err)
	}
	return db, nil
}

// OpenDSN opens a bounded pool on dsn and checks that it answers.
func OpenDSN(ctx context.Context, dsn string, maxOpen int) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The driver's message may quote the DSN, password included.
		return nil, errors.New("the DSN is not valid; expected user:password@tcp(host:3306)/database")
	}
	if cfg.DBName == "" {
		return nil, errors.New("the DSN names no database; append /database_name")
	}
	cfg.ParseTime, cfg.Loc = true, time.UTC
	// Arguments are interpolated into the statement text client-side, so a
	// query with arguments is one round trip instead of prepare, execute
	// and close (three); titular's statements are mostly one-shot, so the
	// prepared form never pays off. It is safe: the connection collation is
	// the driver's utf8mb4 default (it rejects interpolation with the
	// multibyte collations where escaping can be subverted, such as GBK or
	// SJIS), it escapes strings and []byte values itself, honouring
	// NO_BACKSLASH_ESCAPES, and formats times in Loc (UTC, as stored).
	cfg.InterpolateParams = true
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("database connector: %w", err)
	}
	// Traced when tracing is configured (statements with placeholders, never
	// values); a no-op otherwise.
	db := otelsql.OpenDB(connector, otelsql.WithAttributes(attribute.String("db.system.name", "mysql")))
	if maxOpen <= 0 {
		maxOpen = 8
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxOpen)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s at %s does not answer: %w", cfg.DBName, cfg.Addr, err)
	}
	return db, nil
}

// Close closes every open pool.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	var errs []error
	for id, t := range r.open {
		errs = append(errs, t.Store.DB().Close())
		delete(r.open, id)
	}
	return errors.Join(errs...)
}
