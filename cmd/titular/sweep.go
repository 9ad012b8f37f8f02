package main

import (
	"context"
	"fmt"
	"io"

	"github.com/titular/titular/keyring"
	"github.com/titular/titular/server"
	"github.com/titular/titular/tenant"
)

func runSweep(ctx context.Context, args []string, stdout io.Writer) error {
	cmd := newConfigCommand("sweep")
	only := cmd.fs.String("tenant", "", "sweep only this tenant")
	dry := cmd.fs.Bool("dry-run", false, "print what would be erased, per entity, and change nothing")
	cfg, log, err := cmd.load(args)
	if err != nil {
		return err
	}
	if *only != "" {
		if _, ok := cfg.Tenant(*only); !ok {
			return fmt.Errorf("--tenant %s is not in the config", *only)
		}
	}
	reg := tenant.NewRegistry(cfg, keyring.New(cfg.StateDir, log), log)
	defer func() { _ = reg.Close() }()
	for _, id := range reg.IDs() {
		if *only != "" && id != *only {
			continue
		}
		if err := sweepTenant(ctx, reg, id, *dry, func(format string, a ...any) { fmt.Fprintf(stdout, format, a...) }); err != nil {
			return err
		}
	}
	return nil
}

// sweepTenant opens one tenant of reg and sweeps it (server.Sweep).
func sweepTenant(ctx context.Context, reg *tenant.Registry, id string, dry bool, printf func(string, ...any)) error {
	t, err := reg.Get(ctx, id)
	if err != nil {
		return err
	}
	return server.Sweep(ctx, t, dry, printf)
}
