package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/titular/titular/config"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

func runMigrate(ctx context.Context, args []string) error {
	cmd := newConfigCommand("migrate")
	cfg, log, err := cmd.load(args)
	if err != nil {
		return err
	}
	return migrateAll(ctx, cfg, func(id string, res store.MigrationResult) {
		log.Debug("migrated", "tenant", id, "applied", res.Applied, "version", res.Current)
		if len(res.Applied) == 0 {
			fmt.Printf("tenant %s: up to date (version %d)\n", id, res.Current)
			return
		}
		fmt.Printf("tenant %s: applied %s (now version %d)\n", id, strings.Join(res.Applied, ", "), res.Current)
	})
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, errors.New("--config is required (example: examples/realestate/titular.yaml)")
	}
	return config.Load(path)
}

// migrateAll migrates every tenant, going on past a failing tenant so one
// bad database does not hold the others back, and reports all failures.
func migrateAll(ctx context.Context, cfg *config.Config, report func(string, store.MigrationResult)) error {
	var errs []error
	for _, tc := range cfg.Tenants {
		db, err := tenant.Open(ctx, tc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res, err := store.Migrate(ctx, db)
		db.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", tc.ID, err))
			continue
		}
		report(tc.ID, res)
	}
	if len(errs) > 0 {
		fmt.Fprintln(os.Stderr, errors.Join(errs...))
		return fmt.Errorf("%d of %d tenants failed to migrate", len(errs), len(cfg.Tenants))
	}
	return nil
}
