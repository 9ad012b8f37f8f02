package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/titular/titular/config"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/service"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
	"github.com/titular/titular/tracing"
)

func runServe(ctx context.Context, args []string) error {
	cmd := newConfigCommand("serve")
	grpcAddr := cmd.fs.String("grpc-addr", "", "gRPC listen address (overrides grpc_addr; default 127.0.0.1:9090)")
	httpAddr := cmd.fs.String("http-addr", "", "REST listen address (overrides http_addr; default 127.0.0.1:8080)")
	migrate := cmd.fs.Bool("migrate", false, "run migrations on every tenant before serving")
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
	if *migrate {
		if err := migrateAll(ctx, cfg, func(id string, res store.MigrationResult) {
			log.Info("migrated", "tenant", id, "applied", res.Applied, "version", res.Current)
		}); err != nil {
			return err
		}
	}
	app, err := start(ctx, cfg, log)
	if err != nil {
		return err
	}
	log.Info("titular serving", "grpc", app.GRPCAddr, "http", app.HTTPAddr, "tenants", len(cfg.Tenants))
	fmt.Fprintf(os.Stderr, "titular: gRPC on %s, REST on http://%s\n", app.GRPCAddr, app.HTTPAddr)
	err = app.Wait(ctx)
	log.Info("titular stopped")
	return err
}

// app is a running titular: listeners, server and workers.
type app struct {
	GRPCAddr, HTTPAddr string
	Worker             *service.Worker

	srv         *server
	tenants     *tenant.Registry
	errc        chan error
	cancel      context.CancelFunc
	workerWG    sync.WaitGroup
	stopTracing func(context.Context) error
}

// start opens the listeners and starts serving and working. Tests call it
// with ":0" addresses.
func start(ctx context.Context, cfg *config.Config, log *slog.Logger) (_ *app, err error) {
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	stopTracing, err := tracing.Setup(ctx, tracing.Options{Endpoint: cfg.Tracing.OTLPEndpoint,
		Insecure: cfg.Tracing.Insecure, SampleRatio: cfg.Tracing.SampleRatio, Version: version})
	if err != nil {
		return nil, err
	}
	tenants := tenant.NewRegistry(cfg, keyring.New(cfg.StateDir, log), log)
	defer func() {
		if err != nil { // nothing started: release what was opened
			tenants.Close()
			_ = stopTracing(ctx)
		}
	}()
	// Open every tenant now so a broken data map or DSN is reported at start.
	for _, id := range tenants.IDs() {
		if _, err := tenants.Get(ctx, id); err != nil {
			return nil, err
		}
	}
	worker := service.NewWorker(tenants, cfg.Workers, cfg.Exports.TTL, log)
	dispatcher, err := service.NewDispatcher(tenants, cfg, log)
	if err != nil {
		return nil, err
	}
	srv, err := newServer(ctx, cfg, tenants, worker.Wake, log)
	if err != nil {
		return nil, err
	}
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
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &app{GRPCAddr: gl.Addr().String(), HTTPAddr: hl.Addr().String(), Worker: worker,
		srv: srv, tenants: tenants, errc: make(chan error, 1), cancel: cancel, stopTracing: stopTracing}
	a.workerWG.Go(func() { worker.Run(wctx) })
	a.workerWG.Go(func() { srv.ledger.Run(wctx, cfg.Ledger.CheckpointInterval) })
	a.workerWG.Go(func() { dispatcher.Run(wctx) })
	a.workerWG.Go(func() { sweepLoop(wctx, cfg, tenants, log) })
	go func() { a.errc <- srv.serve(gl, hl) }()
	return a, nil
}

// Wait serves until ctx ends or a listener fails, then shuts down: stop
// taking calls, let workers finish what they hold, close the pools.
func (a *app) Wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-a.errc:
	}
	a.Stop()
	return err
}

// Stop shuts everything down within 30 seconds.
func (a *app) Stop() {
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a.srv.shutdown(sctx)
	a.cancel()
	a.workerWG.Wait()
	_ = a.tenants.Close()
	_ = a.stopTracing(sctx) // flushes the last spans
}
