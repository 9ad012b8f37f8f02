package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/tenant"
)

func runDatamapCheck(ctx context.Context, args []string) error {
	cmd := newConfigCommand("datamap check")
	cfg, log, err := cmd.load(args)
	if err != nil {
		return err
	}
	failed := 0
	for _, tc := range cfg.Tenants {
		if err := checkTenantMap(ctx, tc.ID, tc.Datamap, func() (*datamap.Schema, error) {
			db, err := tenant.Open(ctx, tc)
			if err != nil {
				return nil, err
			}
			defer func() { _ = db.Close() }()
			return crm.LoadSchema(ctx, db)
		}); err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "tenant %s: data map %s has problems:\n%v\n", tc.ID, tc.Datamap, err)
			continue
		}
		fmt.Printf("tenant %s: data map %s matches the live schema\n", tc.ID, tc.Datamap)
		log.Debug("checking coverage", "tenant", tc.ID)
		warnCoverage(ctx, tc, os.Stderr)
		warnFKActions(ctx, tc, os.Stderr)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d data maps have problems", failed, len(cfg.Tenants))
	}
	return nil
}

func checkTenantMap(_ context.Context, id, path string, schema func() (*datamap.Schema, error)) error {
	// The built-in anonymizers: names, params and their fit to each column.
	m, err := datamap.Load(path, crm.DatamapOptions(anonymize.NewRegistry())...)
	if err != nil {
		return err
	}
	s, err := schema()
	if err != nil {
		return fmt.Errorf("tenant %s: read schema: %w", id, err)
	}
	if len(s.Tables) == 0 {
		return errors.New("the tenant database has no tables; seed it or check the DSN")
	}
	return m.CheckSchema(s)
}
