package bench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/go-sql-driver/mysql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"gopkg.in/yaml.v3"

	"github.com/titular/titular/config"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/server"
	"github.com/titular/titular/service"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// tenantID is the bench tenant's id in the generated config.
const tenantID = "bench"

// Env is what a scenario measures against: the seeded tenant database, the
// data map, the titulares to look up, and a running titular with clients.
type Env struct {
	opts   Options
	dbName string
	db     *sql.DB // the tenant database, for walks and baselines
	m      *datamap.Map
	// subjects are the seed's fixed scenarios, by name (seed.Scenario*).
	subjects map[string]store.Identifiers
	// pool holds CPFs of ordinary titulares, for the concurrent clients.
	pool []store.Identifiers

	// tenant is the bench tenant as titular opens it (its own pool, the
	// same keys as the server), for scenarios that call the store directly.
	tenant *tenant.Tenant
	// ledgerKey authenticates ledger leaves the bench writes in bulk.
	ledgerKey []byte
	// ledgerChecks verify the server's signed checkpoints: the bench
	// generates the signing key, so it holds the verifier.
	ledgerChecks ledger.Checks

	srv    *server.App
	apiKey string
	grpc   *grpc.ClientConn
	http   *http.Client

	cleanup []func()
	started time.Time
}

func (e *Env) progress(format string, args ...any) {
	fmt.Fprintf(e.opts.Progress, "bench [%5.1fs] "+format+"\n", append([]any{time.Since(e.started).Seconds()}, args...)...)
}

// close undoes setup in reverse: clients, server, pool, database.
func (e *Env) close() {
	for i := len(e.cleanup) - 1; i >= 0; i-- {
		e.cleanup[i]()
	}
}

// subject returns a fixed scenario's identifiers.
func (e *Env) subject(name string) (store.Identifiers, error) {
	ids, ok := e.subjects[name]
	if !ok {
		return store.Identifiers{}, fmt.Errorf("the seed has no scenario %q", name)
	}
	return ids, nil
}

func setup(ctx context.Context, opts Options) (env *Env, err error) {
	env = &Env{opts: opts, started: time.Now()}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	if env.m, err = datamap.Load(opts.Datamap); err != nil {
		return nil, fmt.Errorf("data map: %w (pass --datamap examples/realestate/datamap.yaml)", err)
	}
	dsn, err := env.createDatabase(ctx)
	if err != nil {
		return nil, err
	}
	if env.db, err = tenant.OpenDSN(ctx, dsn, 2*opts.Clients+8); err != nil {
		return nil, err
	}
	env.cleanup = append(env.cleanup, func() { _ = env.db.Close() })
	if err := env.seed(ctx); err != nil {
		return nil, err
	}
	env.progress("migrating")
	if _, err := store.Migrate(ctx, env.db); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := env.loadPool(ctx); err != nil {
		return nil, err
	}
	if err := env.startServer(ctx, dsn); err != nil {
		return nil, err
	}
	return env, nil
}

// createDatabase creates the bench database and returns its DSN. Only a
// database the bench names itself is ever created, reseeded or dropped.
func (e *Env) createDatabase(ctx context.Context) (string, error) {
	cfg, err := mysql.ParseDSN(e.opts.DSN)
	if err != nil {
		return "", errors.New("bench: the DSN is not valid; expected user:password@tcp(host:3306)/")
	}
	e.dbName = "titular_bench"
	if !e.opts.Keep {
		e.dbName += "_" + randomHex(6)
	}
	cfg.DBName = ""
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return "", fmt.Errorf("open server: %w", err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+e.dbName+"` CHARACTER SET utf8mb4"); err != nil {
		_ = admin.Close() // the CREATE's error is the one to report
		return "", fmt.Errorf("create database %s: %w", e.dbName, err)
	}
	e.progress("database %s on %s", e.dbName, cfg.Addr)
	e.cleanup = append(e.cleanup, func() {
		defer func() { _ = admin.Close() }()
		if e.opts.Keep {
			e.progress("kept database %s", e.dbName)
			return
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(dctx, "DROP DATABASE IF EXISTS `"+e.dbName+"`"); err != nil {
			fmt.Fprintf(e.opts.Progress, "bench: could not drop database %s: %v\n", e.dbName, err)
		}
	})
	cfg.DBName = e.dbName
	cfg.ParseTime, cfg.Loc = true, time.UTC
	return cfg.FormatDSN(), nil
}

// startServer writes a config for the bench tenant and starts titular.
func (e *Env) startServer(ctx context.Context, dsn string) error {
	dir, err := os.MkdirTemp("", "titular-bench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	e.cleanup = append(e.cleanup, func() {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(e.opts.Progress, "bench: could not remove %s: %v\n", dir, err)
		}
	})
	mapPath, err := filepath.Abs(e.opts.Datamap)
	if err != nil {
		return fmt.Errorf("data map path: %w", err)
	}
	e.apiKey = randomHex(16)
	sum := sha256.Sum256([]byte(e.apiKey))
	// A webhook endpoint on loopback, so a consent revocation writes its
	// outbox event and delivery row as it does in production.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	e.cleanup = append(e.cleanup, hook.Close)
	secret := filepath.Join(dir, "webhook.secret")
	if err := os.WriteFile(secret, []byte(randomHex(24)), 0o600); err != nil {
		return fmt.Errorf("webhook secret: %w", err)
	}
	const ledgerHost = "titular.local"
	skey, vkey, err := ledger.GenerateKey(ledgerHost)
	if err != nil {
		return fmt.Errorf("ledger signing key: %w", err)
	}
	signingKey := filepath.Join(dir, "ledger-signing.key")
	if err := os.WriteFile(signingKey, []byte(skey+"\n"), 0o600); err != nil {
		return fmt.Errorf("ledger signing key: %w", err)
	}
	verifier, err := ledger.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("ledger verifier: %w", err)
	}
	e.ledgerChecks = ledger.Checks{Origin: ledger.Origin(ledgerHost, tenantID), Verifier: verifier}
	yaml := fmt.Sprintf(`grpc_addr: 127.0.0.1:0
ledger: {host: %s, signing_key_file: %q}
http_addr: 127.0.0.1:0
state_dir: %q
tenants:
  - {id: %s, name: "Incorporadora Benchmark Ltda", dsn: %q, datamap: %q, max_open_conns: %d,
     webhooks: [{name: crm, url: %q, secret_file: %q, events: [consent.revoked]}]}
auth:
  api_keys:
    - {name: bench, role: dpo, tenants: [%s], key_sha256: %s}
workers: {concurrency: %d, per_tenant: %d, poll_interval: 1s, lease: 5m, max_attempts: 3}
databases: {max_connections: %d}
`, ledgerHost, signingKey, filepath.Join(dir, "state"), tenantID, dsn, mapPath, 2*e.opts.Workers+8+e.opts.Clients, hook.URL, secret,
		tenantID, hex.EncodeToString(sum[:]), e.opts.Workers, e.opts.Workers, 2*e.opts.Workers+8+e.opts.Clients)
	cfg, err := config.Parse(filepath.Join(dir, "titular.yaml"), []byte(yaml))
	if err != nil {
		return fmt.Errorf("bench config: %w", err)
	}
	if err := e.openTenant(ctx, cfg); err != nil {
		return err
	}
	e.progress("starting titular (%d workers)", e.opts.Workers)
	if e.srv, err = server.Start(ctx, cfg, e.opts.Log, server.Options{}); err != nil {
		return fmt.Errorf("start titular: %w", err)
	}
	e.cleanup = append(e.cleanup, e.srv.Stop)
	if e.grpc, err = grpc.NewClient(e.srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		return fmt.Errorf("gRPC client: %w", err)
	}
	e.cleanup = append(e.cleanup, func() { _ = e.grpc.Close() })
	tr := &http.Transport{MaxIdleConns: 2 * e.opts.Clients, MaxIdleConnsPerHost: 2 * e.opts.Clients}
	e.http = &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	e.cleanup = append(e.cleanup, tr.CloseIdleConnections)
	return nil
}

// openTenant opens the bench tenant as the server will (the keys are
// generated into the state directory first, so both share them) and loads
// the demo purposes, which the consent scenario needs.
func (e *Env) openTenant(ctx context.Context, cfg *config.Config) error {
	keys := keyring.New(cfg.StateDir, e.opts.Log)
	reg := tenant.NewRegistry(cfg, keys, e.opts.Log)
	e.cleanup = append(e.cleanup, func() { _ = reg.Close() })
	var err error
	if e.tenant, err = reg.Get(ctx, tenantID); err != nil {
		return fmt.Errorf("open the bench tenant: %w", err)
	}
	if e.ledgerKey, err = keys.Key(tenantID, "ledger", e.tenant.Config.LedgerKey); err != nil {
		return fmt.Errorf("ledger key: %w", err)
	}
	path := filepath.Join(filepath.Dir(e.opts.Datamap), "purposes.yaml")
	raw, err := os.ReadFile(path) //nolint:gosec // G304: beside the data map the operator named with --datamap
	if err != nil {
		return fmt.Errorf("demo purposes: %w", err)
	}
	var catalog service.PurposeCatalog
	if err := yaml.Unmarshal(raw, &catalog); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, err := service.LoadPurposes(ctx, e.tenant, catalog, "titular bench"); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
