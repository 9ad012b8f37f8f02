package main

import (
	"context"
	"fmt"
	"io"

	"github.com/titular/titular/keyring"
	"github.com/titular/titular/service"
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
	defer reg.Close()
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

// sweepTenant erases (or with dry counts) one tenant's rows whose retention
// hold has ended, completes the erasure of titulares left with nothing held,
// and clears consent evidence kept as proof past its time.
func sweepTenant(ctx context.Context, reg *tenant.Registry, id string, dry bool, printf func(string, ...any)) error {
	t, err := reg.Get(ctx, id)
	if err != nil {
		return err
	}
	return sweepOne(ctx, t, dry, printf)
}

// sweepOne is sweepTenant on an open tenant: the sweep job of serve.
func sweepOne(ctx context.Context, t *tenant.Tenant, dry bool, printf func(string, ...any)) error {
	id := t.Config.ID
	counts, err := service.SweepHolds(ctx, t.Store, t.Map, dry)
	if err != nil {
		return fmt.Errorf("tenant %s: sweep: %w", id, err)
	}
	completed, err := service.CompleteErasures(ctx, t.Store, t.Map, dry)
	if err != nil {
		return fmt.Errorf("tenant %s: complete erasures: %w", id, err)
	}
	evidence, err := t.Store.SweepConsentEvidence(ctx, dry)
	if err != nil {
		return fmt.Errorf("tenant %s: sweep consent evidence: %w", id, err)
	}
	verb, cleared, complete := "erased", "cleared", "completed"
	if dry {
		verb, cleared, complete = "would erase (dry run)", "would clear (dry run)", "would complete (dry run)"
	}
	if len(counts) == 0 && completed == 0 && evidence == 0 {
		printf("tenant %s: no blocked rows or kept consent evidence are due\n", id)
	}
	if completed > 0 {
		printf("tenant %s: erasures of titulares whose last held row is gone: %s %d\n", id, complete, completed)
	}
	if evidence > 0 {
		printf("tenant %s: consent evidence kept as proof: %s on %d record(s)\n", id, cleared, evidence)
	}
	for _, c := range counts {
		n := c.Erased
		if dry {
			n = c.Due
		}
		printf("tenant %s: %-24s due %6d  %s %6d  still referenced %6d\n", id, c.Entity, c.Due, verb, n, c.Kept)
	}
	return nil
}
