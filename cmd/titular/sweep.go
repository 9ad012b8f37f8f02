package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/titular/titular/keyring"
	"github.com/titular/titular/server"
	"github.com/titular/titular/service"
	"github.com/titular/titular/tenant"
)

func runSweep(ctx context.Context, args []string, stdout io.Writer) error {
	cmd := newConfigCommand("sweep")
	only := cmd.fs.String("tenant", "", "sweep only this tenant")
	dry := cmd.fs.Bool("dry-run", false, "run the sweep in a transaction that is rolled back: print, per entity, what it would erase, anonymize and still hold, and change nothing")
	asOf := cmd.fs.String("as-of", "", "with --dry-run: evaluate releases as of this date (YYYY-MM-DD, UTC) instead of now")
	cfg, log, err := cmd.load(args)
	if err != nil {
		return err
	}
	opts, err := sweepOptions(*dry, *asOf)
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
		if err := sweepTenant(ctx, reg, id, opts, func(format string, a ...any) { fmt.Fprintf(stdout, format, a...) }); err != nil {
			return err
		}
	}
	return nil
}

// sweepOptions checks the sweep's flags: --as-of is a date (YYYY-MM-DD,
// the start of that day in UTC) and only goes with --dry-run, since a real
// sweep never runs "in the future".
func sweepOptions(dry bool, asOf string) (service.SweepOptions, error) {
	opts := service.SweepOptions{DryRun: dry}
	if asOf == "" {
		return opts, nil
	}
	t, err := time.Parse(time.DateOnly, asOf)
	if err != nil {
		return opts, fmt.Errorf("--as-of %q is not a date: write it as YYYY-MM-DD, e.g. --as-of 2031-01-01", asOf)
	}
	if !dry {
		return opts, service.ErrAsOfNeedsDryRun
	}
	opts.AsOf = t
	return opts, nil
}

// sweepTenant opens one tenant of reg and sweeps it (server.Sweep).
func sweepTenant(ctx context.Context, reg *tenant.Registry, id string, opts service.SweepOptions, printf func(string, ...any)) error {
	t, err := reg.Get(ctx, id)
	if err != nil {
		return err
	}
	return server.Sweep(ctx, t, opts, printf)
}
