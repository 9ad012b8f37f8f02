package bench

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// fleetTitulares is how many titulares each fleet tenant's small CRM holds.
const fleetTitulares = 20

// createSettings are the server settings while the fleet is created (see
// provision).
var createSettings = []setting{{"innodb_flush_log_at_trx_commit", "2"}}

// fleetTenant is one tenant of the fleet: its id in the generated config,
// its database, and the seed its small CRM was generated from.
type fleetTenant struct {
	id, db string
	seed   uint64
	// down marks an unreachable tenant: no database, a DSN nothing answers.
	down bool
	dsn  string
}

// databaseNames names the fleet's databases. Only names the bench builds
// itself are ever created or dropped: titular_fleet_NNNN with Keep, else
// titular_fleet_<random>_NNNN, fresh for this run.
func (f *fleet) databaseNames() {
	prefix := "titular_fleet_"
	if !f.opts.Keep {
		prefix += randomHex(3) + "_"
	}
	f.tenants = make([]fleetTenant, f.fo.Tenants)
	for i := range f.tenants {
		f.tenants[i] = fleetTenant{id: fmt.Sprintf("tenant-%04d", i+1), db: fmt.Sprintf("%s%04d", prefix, i+1), seed: uint64(i + 1)}
		f.tenants[i].dsn = f.dsn(f.tenants[i].db)
	}
	f.dbPattern = prefix + strings.Repeat("_", 4)
}

// dsn is the server DSN pointed at database name, with the driver options
// titular uses.
func (f *fleet) dsn(name string) string {
	cfg := f.server.Clone()
	cfg.DBName = name
	cfg.ParseTime, cfg.Loc = true, time.UTC
	return cfg.FormatDSN()
}

// provision creates the fleet's databases, or with Keep reuses those a
// previous run left at the latest schema version with a full small CRM.
// Creating a database is about 55 statements, most of them DDL (3 CRM
// tables, titular's 18 tables and 8 triggers): about 230 ms alone here, so
// several are created at once (8 measured best on 2 vCPUs, where the
// server's CPU is then the bound), and the redo log is flushed once a
// second instead of at every commit while they are (a crash would lose the
// last second, nothing for throwaway databases; about 6% faster here), put
// back before anything is measured. innodb_file_per_table=OFF measured no
// faster and grows the system tablespace for good, so it stays as it is.
func (f *fleet) provision(ctx context.Context) error {
	start := time.Now()
	reuse, err := f.reusable(ctx)
	if err != nil {
		return err
	}
	var todo []fleetTenant
	for _, t := range f.tenants {
		if !reuse[t.db] {
			todo = append(todo, t)
		}
	}
	if len(reuse) > 0 {
		f.progress("reusing %d tenant databases kept by an earlier run", len(reuse))
	}
	defer func() {
		f.figures = append(f.figures, figure("provisioning", time.Since(start).Seconds(), "s", 1, fmt.Sprintf(
			"%d tenant databases created (%d at a time) and %d kept ones reused: the small CRM and store.Migrate each", len(todo), f.fo.Provisioners, len(reuse))))
	}()
	if len(todo) == 0 {
		return nil
	}
	creation := serverSettings{admin: f.admin}
	defer func() {
		if err := creation.restore(ctx); err != nil {
			f.progress("%v", err)
		}
	}()
	for _, s := range createSettings {
		if err := creation.set(ctx, s.name, s.value); err != nil {
			f.progress("creating without that setting: %v", err)
		}
	}
	f.progress("creating %d tenant databases (%d at a time, %d titulares each)", len(todo), f.fo.Provisioners, fleetTitulares)
	count := newCounter(f, "created", len(todo))
	err = parallel(ctx, f.fo.Provisioners, todo, func(ctx context.Context, t fleetTenant) error {
		if err := f.createTenant(ctx, t, f.opts.Keep); err != nil {
			return fmt.Errorf("tenant database %s: %w", t.db, err)
		}
		count.add()
		return nil
	})
	if err != nil {
		return err
	}
	took := time.Since(start)
	f.progress("created %d tenant databases in %s (%.1f/s)", len(todo), took.Round(time.Millisecond), float64(len(todo))/took.Seconds())
	return nil
}

// reusable returns, with Keep, the existing fleet databases that can serve
// as they are: at the latest schema version and holding the small CRM.
func (f *fleet) reusable(ctx context.Context) (map[string]bool, error) {
	out := map[string]bool{}
	if !f.opts.Keep {
		return out, nil
	}
	existing, err := f.existingDatabases(ctx)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var candidates []fleetTenant
	for _, t := range f.tenants {
		if existing[t.db] {
			candidates = append(candidates, t)
		}
	}
	err = parallel(ctx, f.fo.Provisioners, candidates, func(ctx context.Context, t fleetTenant) error {
		db, err := tenant.OpenDSN(ctx, t.dsn, 1)
		if err != nil {
			return fmt.Errorf("kept database %s: %w", t.db, err)
		}
		defer func() { _ = db.Close() }() // only read through
		cur, latest, err := store.SchemaVersion(ctx, db)
		var n int
		if err == nil && cur == latest && db.QueryRowContext(ctx, "SELECT COUNT(*) FROM clientes").Scan(&n) == nil && n == fleetTitulares {
			mu.Lock()
			out[t.db] = true
			mu.Unlock()
		}
		return nil
	})
	return out, err
}

// existingDatabases lists the databases named like this run's.
func (f *fleet) existingDatabases(ctx context.Context) (map[string]bool, error) {
	rows, err := f.admin.QueryContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?", f.dbPattern)
	if err != nil {
		return nil, fmt.Errorf("list fleet databases: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list fleet databases: %w", err)
		}
		out[name] = true
	}
	return out, rows.Err()
}

// createTenant creates one tenant database: the small CRM, then titular's
// tables through store.Migrate, as an operator's `titular migrate` would.
// With replace, a database of that name (kept, but unusable) goes first.
func (f *fleet) createTenant(ctx context.Context, t fleetTenant, replace bool) error {
	if replace {
		if _, err := f.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+t.db+"`"); err != nil {
			return fmt.Errorf("drop the unusable kept database: %w", err)
		}
	}
	if _, err := f.admin.ExecContext(ctx, "CREATE DATABASE `"+t.db+"` CHARACTER SET utf8mb4"); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	f.created.Add(1)
	db, err := tenant.OpenDSN(ctx, t.dsn, 2)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // each statement has committed or failed by now
	if err := seed.CreateSmall(ctx, db, t.seed, fleetTitulares); err != nil {
		return err
	}
	if _, err := store.Migrate(ctx, db); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// dropDatabases drops every fleet database this run created (never kept
// ones, never any name it did not build).
func (f *fleet) dropDatabases(ctx context.Context) {
	if f.opts.Keep {
		f.progress("kept the fleet databases %s0001 … %s%04d for the next --keep run", strings.TrimSuffix(f.dbPattern, "____"),
			strings.TrimSuffix(f.dbPattern, "____"), f.fo.Tenants)
		return
	}
	if f.created.Load() == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	existing, err := f.existingDatabases(ctx)
	if err != nil {
		f.progress("could not list the fleet databases to drop them: %v; drop %s%% by hand", err, strings.TrimSuffix(f.dbPattern, "____"))
		return
	}
	var drop []fleetTenant
	for _, t := range f.tenants {
		if existing[t.db] {
			drop = append(drop, t)
		}
	}
	start := time.Now()
	count := newCounter(f, "dropped", len(drop))
	// A database that cannot be dropped does not stop the others.
	var mu sync.Mutex
	var failed []string
	var first error
	_ = parallel(ctx, f.fo.Provisioners, drop, func(ctx context.Context, t fleetTenant) error {
		if _, err := f.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+t.db+"`"); err != nil {
			mu.Lock()
			failed = append(failed, t.db)
			first = cmp.Or(first, err)
			mu.Unlock()
			return nil
		}
		count.add()
		return nil
	})
	if len(failed) > 0 {
		f.progress("could not drop %d of the %d fleet databases (%s, …): %v\n"+
			"  Errno 39 \"Directory not empty\" is a stray <table>.TRG- file MariaDB can leave behind when triggers are created in several databases at once; "+
			"remove the *.TRG- files from those databases' directories in the server's datadir, then DROP DATABASE each %s%% database",
			len(failed), len(drop), failed[0], first, strings.TrimSuffix(f.dbPattern, "____"))
		return
	}
	f.progress("dropped %d tenant databases in %s", len(drop), time.Since(start).Round(time.Millisecond))
}

// parallel runs fn on every item from n goroutines, stopping at the first
// error.
func parallel[T any](ctx context.Context, n int, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan T)
	var wg sync.WaitGroup
	for range max(1, min(n, len(items))) {
		wg.Go(func() {
			for it := range work {
				if err := fn(ctx, it); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for _, it := range items {
		select {
		case work <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
}

// counter prints a progress line every tenth of total, or every 5 seconds.
type counter struct {
	f           *fleet
	what        string
	total       int
	done        atomic.Int64
	mu          sync.Mutex
	start, last time.Time
}

func newCounter(f *fleet, what string, total int) *counter {
	now := time.Now()
	return &counter{f: f, what: what, total: total, start: now, last: now}
}

func (c *counter) add() {
	n := int(c.done.Add(1))
	step := max(1, c.total/10)
	c.mu.Lock()
	defer c.mu.Unlock()
	if n%step == 0 || n == c.total || time.Since(c.last) >= 5*time.Second {
		c.last = time.Now()
		el := time.Since(c.start)
		c.f.progress("%s %d/%d tenant databases (%s, %.1f/s)", c.what, n, c.total, el.Round(100*time.Millisecond), float64(n)/el.Seconds())
	}
}

// serverConfig parses the bench DSN as the server to create the fleet on.
func serverConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The driver's message may quote the DSN, password included.
		return nil, fmt.Errorf("bench: the DSN is not valid; expected user:password@tcp(host:3306)/")
	}
	cfg.DBName = ""
	return cfg, nil
}

// openAdmin opens a pool on the server itself (no database) of n connections.
func openAdmin(ctx context.Context, server *mysql.Config, n int) (*sql.DB, error) {
	db, err := sql.Open("mysql", server.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("open server: %w", err)
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close() // the ping's error is the one to report
		return nil, fmt.Errorf("the database server at %s does not answer: %w (check --dsn)", server.Addr, err)
	}
	return db, nil
}
