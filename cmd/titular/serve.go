package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/titular/titular/server"
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
	app, err := server.Start(ctx, cfg, log, server.Options{Migrate: *migrate, Reload: reload, Version: version})
	if err != nil {
		return err
	}
	log.Info("titular serving", "grpc", app.GRPCAddr(), "http", app.HTTPAddr(), "tenants", len(cfg.Tenants))
	fmt.Fprintf(os.Stderr, "titular: gRPC on %s, REST on http://%s\n", app.GRPCAddr(), app.HTTPAddr())
	err = app.Wait(ctx)
	log.Info("titular stopped")
	return err
}
