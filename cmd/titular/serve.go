package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
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

func runServe(ctx context.Context, args []string) error {
	cmd := newConfigCommand("serve")
	grpcAddr := cmd.fs.String("grpc-addr", "", "gRPC listen address (overrides grpc_addr; default 127.0.0.1:9090)")
	httpAddr := cmd.fs.String("http-addr", "", "REST listen address (overrides http_addr; default 127.0.0.1:8080)")
	migrate := cmd.fs.Bool("migrate", false, "migrate each tenant as it opens (new tenants of tenants_dir too)")
	cfg, log, err := cmd.load(args)
	if err != nil {
		return err
	}
	if *grpcAddr != "" {
		cfg.GRPCAddr = *grpcAddr
	}
	if *httpAddr != "" {
		cfg.HTTPAddr = *httpAddr
	}
	// SIGHUP reloads the tenant catalog: the config file's list and the
	// tenants_dir (which is also watched).
	reload := make(chan os.Signal, 1)
	signal.Notify(reload, syscall.SIGHUP)
	defer signal.Stop(reload)
	app, err := start(ctx, cfg, log, startOptions{migrate: *migrate, reload: reload})
	if err != nil {
		return err
	}
	log.Info("titular serving", "grpc", app.GRPCAddr, "http", app.HTTPAddr, "tenants", len(cfg.Tenants))
	fmt.Fprintf(os.Stderr, "titular: gRPC on %s, REST on http://%s\n", app.GRPCAddr, app.HTTPAddr)
	err = app.Wait(ctx)
	log.Info("titular stopped")
	return err
}

// startOptions are what start takes beyond the config.
type startOptions struct {
	// migrate applies titular's migrations to each tenant as it opens.
	migrate bool
	// reload, when it delivers, re-reads the tenant catalog.
	reload <-chan os.Signal
}

// app is a running titular: listeners, server, tenants and the scheduler
// of their background work.
type app struct {
	GRPCAddr, HTTPAddr string
	Worker             *service.Worker
	Scheduler          *fleet.Scheduler

	srv         *server
	tenants     *tenant.Registry
	errc        chan error
	cancel      context.CancelFunc
	catalogDone chan struct{}
	stopTracing func(context.Context) error
}

// shutdownBound is the longest Stop takes: calls in flight, then
// background jobs, which are cancelled at the bound (each kind is safe to
// interrupt: its transaction rolls back and the work is found again).
const shutdownBound = 30 * time.Second

// start opens the listeners and starts serving and working. Tenants open in
// the background: one that does not answer is reported and retried, never
// fatal. Tests call it with ":0" addresses.
func start(ctx context.Context, cfg *config.Config, log *slog.Logger, opts startOptions) (_ *app, err error) {
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	stopTracing, err := tracing.Setup(ctx, tracing.Options{Endpoint: cfg.Tracing.OTLPEndpoint,
		Insecure: cfg.Tracing.Insecure, SampleRatio: cfg.Tracing.SampleRatio, Version: version})
	if err != nil {
		return nil, err
	}
	tenants := tenant.NewRegistry(cfg, keyring.New(cfg.StateDir, log), log)
	tenants.Migrate, tenants.CheckSchema = opts.migrate, true
	defer func() {
		if err != nil { // nothing started: release what was opened
			tenants.Close()
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
		gl.Close()
		return nil, fmt.Errorf("HTTP listener: %w", err)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &app{GRPCAddr: gl.Addr().String(), HTTPAddr: hl.Addr().String(), Worker: worker, Scheduler: sched,
		srv: srv, tenants: tenants, errc: make(chan error, 1), cancel: cancel, catalogDone: make(chan struct{}), stopTracing: stopTracing}
	sched.Start()
	go func() {
		defer close(a.catalogDone)
		tenants.Run(rctx, opts.reload)
	}()
	go func() { a.errc <- srv.serve(gl, hl) }()
	return a, nil
}

// requestCountsMaxAge is how old a tenant's request counts may be in a
// metrics scrape when this process did not change them.
const requestCountsMaxAge = 5 * time.Minute

// newScheduler wires the service's workers into the fleet scheduler.
func newScheduler(cfg *config.Config, tenants *tenant.Registry, worker *service.Worker, dispatcher *service.Dispatcher,
	srv *server, log *slog.Logger) *fleet.Scheduler {
	work := fleet.Work{
		Requests: worker.RunOnce,
		Ledger:   srv.ledger.Sequence,
		Outbox:   dispatcher.RunOnce,
		Checkpoint: func(ctx context.Context, t *tenant.Tenant) error {
			_, err := srv.ledger.Checkpoint(ctx, t)
			return err
		},
		Sweep: func(ctx context.Context, t *tenant.Tenant) error {
			return sweepOne(ctx, t, false, func(format string, a ...any) {
				log.Info("sweep", "report", fmt.Sprintf(format, a...))
			})
		},
	}
	return fleet.New(tenants, work, fleet.Options{
		Concurrency: cfg.Workers.Concurrency, PerTenant: cfg.Workers.PerTenant,
		MinPoll: cfg.Workers.MinPollInterval, MaxPoll: cfg.Workers.PollInterval, OwnershipLease: cfg.Workers.OwnershipLease,
		CheckpointInterval: cfg.Ledger.CheckpointInterval, SweepInterval: cfg.Workers.SweepInterval,
		Kinds: service.WorkerKinds, Owner: worker.Owner(), Log: log,
		OnProbe: func(id string, p store.Probe) { srv.metrics.SetLedgerSize(id, int64(p.LedgerSize)) },
	})
}

// fleetState is the metrics' view of the catalog, scheduler and budgets.
func fleetState(tenants *tenant.Registry, sched *fleet.Scheduler) metrics.Fleet {
	f := metrics.Fleet{Tenants: map[string]int{}}
	for _, h := range tenants.Health() {
		f.Tenants[string(h.State)]++
	}
	if sched != nil {
		st := sched.Stats()
		f.Held, f.Ready, f.Running = st.Held, st.Ready, st.Running
		for _, j := range st.Jobs {
			f.Jobs = append(f.Jobs, metrics.Job{Name: j.Job, Runs: j.Runs, Failures: j.Failures, Seconds: j.Seconds})
		}
	}
	for _, b := range tenants.Budgets() {
		f.Budgets = append(f.Budgets, metrics.Budget{Server: b.Server, Max: b.Max, Open: b.Open, Waiting: b.Waiting, WaitsTotal: b.WaitsTotal})
	}
	return f
}

// Wait serves until ctx ends or a listener fails, then shuts down.
func (a *app) Wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-a.errc:
	}
	a.Stop()
	return err
}

// Stop shuts everything down within shutdownBound: stop taking calls and
// let those in flight finish, stop the background jobs (cancelled at the
// bound), hand the tenants this replica held to the others, close the
// pools.
func (a *app) Stop() {
	sctx, cancel := context.WithTimeout(context.Background(), shutdownBound)
	defer cancel()
	a.srv.shutdown(sctx)
	a.cancel()
	<-a.catalogDone
	a.Scheduler.Stop(sctx)
	_ = a.tenants.Close()
	_ = a.stopTracing(sctx) // flushes the last spans
}
