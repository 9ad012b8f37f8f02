package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/titular/titular/config"
	"github.com/titular/titular/demo"
	"github.com/titular/titular/examples/realestate"
	"github.com/titular/titular/internal/logsafe"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/server"
	"github.com/titular/titular/service"
)

// runDemo serves the demo tenant on an embedded in-memory engine: nothing to
// install, no configuration file. See package demo for the engine's limits.
func runDemo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	grpcAddr := fs.String("grpc-addr", "127.0.0.1:9090", "gRPC listen address")
	httpAddr := fs.String("http-addr", "127.0.0.1:8080", "REST listen address")
	dbAddr := fs.String("db-addr", "127.0.0.1:0", "embedded database (MySQL protocol) listen address")
	subjects := fs.Int("subjects", 2000, "number of synthetic titulares")
	var lf logFlags
	lf.register(fs)
	log, err := lf.parse(fs, args)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "titular-demo-")
	if err != nil {
		return fmt.Errorf("demo: state directory: %w", err)
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("titular demo: could not remove its state directory", "dir", dir, "error", logsafe.Error(err))
		}
	}()
	fmt.Fprintln(os.Stderr, "titular demo: starting the embedded database, seeding and migrating…")
	d, err := demo.Start(ctx, demo.Options{EngineAddr: *dbAddr, Subjects: *subjects, StateDir: dir})
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	d.Config.GRPCAddr, d.Config.HTTPAddr = *grpcAddr, *httpAddr
	a, err := server.Start(ctx, d.Config, log, server.Options{Version: version})
	if err != nil {
		return err
	}
	if err := loadEmbeddedPurposes(ctx, a, d.Config.Tenants[0].ID); err != nil {
		a.Stop()
		return err
	}
	log.Info("titular demo serving", "grpc", a.GRPCAddr(), "http", a.HTTPAddr(), "migrations", d.Migrations)
	if err := writeDemoPublicKey(os.Stdout, d.Config, log); err != nil {
		a.Stop()
		return err
	}
	if err := d.WriteTour(os.Stdout, a.GRPCAddr(), a.HTTPAddr()); err != nil {
		a.Stop()
		return err
	}
	err = a.Wait(ctx)
	log.Info("titular demo stopped")
	return err
}

// loadEmbeddedPurposes gives the demo tenant its purposes and terms, as
// `make run` does with titular purposes load, so CONSENT works at once.
func loadEmbeddedPurposes(ctx context.Context, a *server.App, tenantID string) error {
	t, err := a.Tenant(ctx, tenantID)
	if err != nil {
		return err
	}
	catalog, err := decodeCatalog(realestate.Purposes, "examples/realestate/purposes.yaml")
	if err != nil {
		return err
	}
	if _, err := service.LoadPurposes(ctx, t, catalog, "titular demo"); err != nil {
		return fmt.Errorf("demo purposes: %w", err)
	}
	return nil
}

// writeDemoPublicKey prints the ledger's public key, with which a titular
// checks a receipt offline (titular receipt verify --key).
func writeDemoPublicKey(out io.Writer, cfg *config.Config, log *slog.Logger) error {
	skey, err := server.LedgerSigningKey(cfg, log, false)
	if err != nil {
		return err
	}
	vkey, err := ledger.VerifierKey(skey)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "ledger public key (for titular receipt verify --key; also GET /v1/tenants/%s/ledger/public-key): %s\n",
		cfg.Tenants[0].ID, vkey)
	return err
}
