package tenant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/go-sql-driver/mysql"
	"go.opentelemetry.io/otel/attribute"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/config"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/store"
)

// openTimeout bounds opening a tenant (data map, keys, pool, schema
// checks); connectTimeout bounds reaching its database, so a hung server
// is reported in seconds.
const (
	openTimeout    = 30 * time.Second
	connectTimeout = 5 * time.Second
)

// openTenant opens tc: its data map (checked against the live schema when
// the registry says so), keys, webhook secrets and a pool within its
// server's connection budget, migrated when the registry says so. It keeps
// no connection once done.
func (r *Registry) openTenant(ctx context.Context, tc config.Tenant) (*Tenant, error) {
	m, err := r.maps.load(tc.Datamap, r.anon)
	if err != nil {
		return nil, fmt.Errorf("data map: %w", err)
	}
	t := &Tenant{Config: tc, Map: m, Anonymizers: r.anon}
	t.unused = sync.NewCond(&t.mu)
	if tc.AnonymizeKey != (keyring.Source{}) {
		// Kept keys are what made anonymized values recomputable: ANONYMIZE
		// now draws a key per request (anonymize.NewRequestKey).
		r.log.Warn("anonymize_key is no longer used and can be removed: anonymization derives its values from a secret drawn for each request and never stored", "tenant", tc.ID)
	}
	if t.ExportKey, err = r.keys.Key(tc.ID, "export", tc.ExportKey); err != nil {
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
	if t.Endpoints, err = endpoints(tc); err != nil {
		return nil, err
	}
	if err := t.checkRecipients(); err != nil {
		return nil, err
	}
	dsn, err := tc.ResolveDSN()
	if err != nil {
		return nil, err
	}
	dcfg, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	key, maxConns := r.cfg.Databases.Budget(tc.Server, dcfg.Addr)
	t.budget = r.budgets.get(key, maxConns)
	t.idle = min(tc.MaxOpenConns, maxConns)
	db, err := openPool(ctx, dcfg, t.idle, t.budget, tc.ID)
	if err != nil {
		return nil, err
	}
	db.SetConnMaxIdleTime(r.cfg.Databases.IdleTimeout)
	onCommit := func(w store.Work) {
		if r.OnCommit != nil {
			r.OnCommit(tc.ID, w)
		}
	}
	t.Store = store.New(db, store.WithSubjectKey(subjectKey), store.WithLedgerKey(ledgerKey), store.WithOnCommit(onCommit),
		store.WithEvents(t, t.ExportKey))
	if err := r.checkDatabase(ctx, t); err != nil {
		_ = db.Close()
		return nil, err
	}
	t.budget.addPool(db, t.idle)
	dropIdle(db, t.idle)
	return t, nil
}

// checkDatabase migrates t's database when asked, then checks that it is
// migrated and, when asked, that the data map matches its schema.
func (r *Registry) checkDatabase(ctx context.Context, t *Tenant) error {
	db := t.Store.DB()
	if r.Migrate {
		if _, err := store.Migrate(ctx, db); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	cur, latest, err := store.SchemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if cur < latest {
		return fmt.Errorf("titular's tables are at version %d of %d; run titular migrate (or serve --migrate)", cur, latest)
	}
	if !r.CheckSchema {
		return nil
	}
	s, err := crm.LoadSchema(ctx, db)
	if err != nil {
		return err
	}
	if err := t.Map.CheckSchema(s); err != nil {
		return fmt.Errorf("the data map does not match the database (run titular datamap check): %w", err)
	}
	return nil
}

// endpoints reads the secrets of tc's webhooks and checks their events.
func endpoints(tc config.Tenant) (map[string]Endpoint, error) {
	out := make(map[string]Endpoint, len(tc.Webhooks))
	for _, w := range tc.Webhooks {
		for _, e := range w.Events {
			if e != "*" && !slices.Contains(store.EventTypes(), e) {
				return nil, fmt.Errorf("webhook %s: unknown event %q; known: %v", w.Name, e, store.EventTypes())
			}
		}
		secret, err := w.Secret()
		if err != nil {
			return nil, err
		}
		out[w.Name] = Endpoint{URL: w.URL, Secret: secret}
	}
	return out, nil
}

// Open opens and pings a tenant's pool on its own, outside any budget, with
// the driver options titular relies on (UTC times, parsed DATETIMEs): for
// commands that visit tenants one at a time.
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
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if maxOpen <= 0 {
		maxOpen = 8
	}
	db, err := openPool(ctx, cfg, maxOpen, nil, "")
	if err != nil {
		return nil, err
	}
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

func parseDSN(dsn string) (*mysql.Config, error) {
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
	if cfg.Timeout == 0 || cfg.Timeout > connectTimeout {
		cfg.Timeout = connectTimeout
	}
	return cfg, nil
}

// openPool opens a pool of at most maxOpen connections, drawn from budget
// when there is one, and pings it.
func openPool(ctx context.Context, cfg *mysql.Config, maxOpen int, budget *Budget, tenantID string) (*sql.DB, error) {
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("database connector: %w", err)
	}
	if budget != nil {
		connector = budgetConnector{Connector: connector, budget: budget, tenant: tenantID}
	}
	// Traced when tracing is configured (statements with placeholders, never
	// values); a no-op otherwise.
	db := otelsql.OpenDB(connector, otelsql.WithAttributes(attribute.String("db.system.name", "mysql")))
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxOpen)
	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close() // nothing was served; the ping error is the one to report
		return nil, fmt.Errorf("database %s does not answer: %w", cfg.DBName, err)
	}
	return db, nil
}

// budgets holds one Budget per MySQL server.
type budgets struct {
	mu sync.Mutex
	m  map[string]*Budget
}

func newBudgets(config.Databases) *budgets { return &budgets{m: map[string]*Budget{}} }

func (b *budgets) get(key string, maxConns int) *Budget {
	b.mu.Lock()
	defer b.mu.Unlock()
	if x, ok := b.m[key]; ok {
		return x
	}
	x := NewBudget(key, maxConns)
	b.m[key] = x
	return x
}

func (b *budgets) stats() []BudgetStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]BudgetStats, 0, len(b.m))
	for _, x := range b.m {
		out = append(out, x.Stats())
	}
	slices.SortFunc(out, func(a, b BudgetStats) int {
		if a.Server < b.Server {
			return -1
		}
		if a.Server > b.Server {
			return 1
		}
		return 0
	})
	return out
}

// mapCache loads each data map file once, however many tenants share it,
// and again only when the file changes.
type mapCache struct {
	mu sync.Mutex
	m  map[string]cachedMap
}

type cachedMap struct {
	mod  time.Time
	size int64
	m    *datamap.Map
	err  error
}

func newMapCache() *mapCache { return &mapCache{m: map[string]cachedMap{}} }

func (c *mapCache) load(path string, anon *anonymize.Registry) (*datamap.Map, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if x, ok := c.m[path]; ok && x.mod.Equal(fi.ModTime()) && x.size == fi.Size() {
		return x.m, x.err
	}
	m, err := datamap.Load(path, crm.DatamapOptions(anon)...)
	c.m[path] = cachedMap{mod: fi.ModTime(), size: fi.Size(), m: m, err: err}
	return m, err
}
