// Package server assembles a running titular: the gRPC and REST listeners
// (the gateway dials the gRPC server in memory, so REST calls pass every
// interceptor), the tenant catalog with its pools, and the fleet scheduler
// that runs every tenant's background work — the request workers, the
// ledger sequencer and checkpoints, webhook delivery and the retention
// sweep. `titular serve`, `titular demo` and `titular bench` start it with
// Start, and so do the end-to-end tests beside it, through real gRPC and
// HTTP clients.
//
// Stop has one bound (Options.ShutdownTimeout) for everything: calls and
// background jobs in flight are cancelled before it, and Stop returns at it
// whatever still runs. Work cut off is not lost: its transaction rolls back
// and its request lease lets another replica, or the next start, take it.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/titular/titular/config"
	"github.com/titular/titular/fleet"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/metrics"
	"github.com/titular/titular/service"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
	"github.com/titular/titular/tracing"
)

// Options are what Start takes beyond the config.
type Options struct {
	// Migrate applies titular's migrations to each tenant as it opens (new
	// tenants of tenants_dir too).
	Migrate bool
	// Reload, when it delivers, re-reads the tenant catalog: the config
	// file's list and tenants_dir (which is also watched).
	Reload <-chan os.Signal
	// ShutdownTimeout bounds Stop (default DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
	// Version names the build in traces (default "dev").
	Version string
}

// App is a running titular: listeners, tenants and the scheduler of their
// background work.
type App struct {
	grpcAddr, httpAddr string

	log         *slog.Logger
	worker      *service.Worker
	sched       *fleet.Scheduler
	srv         *server
	tenants     *tenant.Registry
	bound       time.Duration
	errc        chan error
	cancel      context.CancelFunc
	catalogDone chan struct{}
	stopTracing func(context.Context) error
	stopOnce    sync.Once
}

// Start opens the listeners and starts serving and working. Tenants open in
// the background: one that does not answer is reported and retried, never
// fatal. Addresses may use port 0; GRPCAddr and HTTPAddr say which ports
// were taken.
func Start(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) (_ *App, err error) {
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	stopTracing, err := tracing.Setup(ctx, tracing.Options{Endpoint: cfg.Tracing.OTLPEndpoint,
		Insecure: cfg.Tracing.Insecure, SampleRatio: cfg.Tracing.SampleRatio, Version: opts.Version})
	if err != nil {
		return nil, err
	}
	tenants := tenant.NewRegistry(cfg, keyring.New(cfg.StateDir, log), log)
	tenants.Migrate, tenants.CheckSchema = opts.Migrate, true
	defer func() {
		if err != nil { // nothing started: release what was opened
			_ = tenants.Close() // the start already failed with err, the one to report
			_ = stopTracing(ctx)
		}
	}()
	for _, p := range cfg.TenantFileProblems {
		log.Warn("tenant file skipped", "problem", p.Error())
	}
	worker := service.NewWorker(cfg.Workers, cfg.Exports.TTL, log)
	dispatcher := service.NewDispatcher(cfg.WebhookDelivery, log)
	var sched *fleet.Scheduler
	counts := newRequestCounts(tenants, requestCountsMaxAge)
	srv, err := newServer(ctx, cfg, tenants, counts, func() metrics.Fleet { return fleetState(tenants, sched) },
		func(id string) { sched.Wake(id, fleet.JobRequests) }, log)
	if err != nil {
		return nil, err
	}
	sched = newScheduler(cfg, tenants, worker, dispatcher, srv, log)
	tenants.OnCommit = func(id string, w store.Work) {
		sched.Wake(id, fleet.FromWork(w))
		counts.changed(id)
	}
	tenants.OnUp, tenants.OnRemove = sched.Add, sched.Remove
	worker.OnProcessed = srv.metrics.ObserveProcessing
	srv.ledger.OnSize = srv.metrics.SetLedgerSize
	dispatcher.OnFailure = srv.metrics.WebhookFailed
	gl, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return nil, fmt.Errorf("gRPC listener: %w", err)
	}
	hl, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		_ = gl.Close() // never served: closing it can only give back the port
		return nil, fmt.Errorf("HTTP listener: %w", err)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &App{grpcAddr: gl.Addr().String(), httpAddr: hl.Addr().String(), log: log, worker: worker, sched: sched,
		srv: srv, tenants: tenants, bound: opts.ShutdownTimeout, errc: make(chan error, 1), cancel: cancel,
		catalogDone: make(chan struct{}), stopTracing: stopTracing}
	sched.Start()
	go func() {
		defer close(a.catalogDone)
		tenants.Run(rctx, opts.Reload)
	}()
	go func() { a.errc <- srv.serve(gl, hl) }()
	return a, nil
}

// GRPCAddr is the address the gRPC listener took.
func (a *App) GRPCAddr() string { return a.grpcAddr }

// HTTPAddr is the address the REST listener took.
func (a *App) HTTPAddr() string { return a.httpAddr }

// Tenant returns an open tenant of the catalog, waiting for it to open.
func (a *App) Tenant(ctx context.Context, id string) (*tenant.Tenant, error) {
	return a.tenants.Get(ctx, id)
}

// Wait serves until ctx ends or a listener fails, then stops.
func (a *App) Wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-a.errc:
	}
	a.Stop()
	return err
}
