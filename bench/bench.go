// Package bench measures titular against hand-written baselines on the same
// database server in the same run (`titular bench`). The machines it runs on
// are shared and noisy, so every figure that matters is a ratio to a
// baseline measured alongside it, paired run by run; absolute numbers are
// reported for context.
//
// A run creates (or, with Keep, reuses) a bench database, seeds the demo CRM
// into it, migrates it, starts titular in-process on loopback ports, then
// runs each selected Scenario: a warm-up, then Runs interleaved runs of
// titular and its baseline. Scenarios are listed in All.
//
// The fleet scenario (FleetScenario, fleet.go) is apart: it has no
// baseline, runs alone, creates many small tenant databases and measures a
// `titular serve` child process holding them all, reporting Figures
// against the fleet design's goals instead of ratios.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Options tunes a bench run.
type Options struct {
	// DSN names the database server; the bench creates its own database
	// there (the DSN's database name, if any, is ignored).
	DSN string
	// Subjects is the number of seeded titulares (default 10,000).
	Subjects int
	// Heavy is the row count of the heavy titular's interactions (default 100,000).
	Heavy int
	// Duration is how long one run of one variant lasts (default 3s); a run
	// always completes at least one operation.
	Duration time.Duration
	// Runs is how many measured runs each variant gets (default 5).
	Runs int
	// LedgerLeaves is the ledger size the verify and proof scenarios grow
	// the tenant's ledger to (default 1,000,000).
	LedgerLeaves int
	// Clients is the number of concurrent clients (default 32).
	Clients int
	// Workers is titular's per-tenant worker count (default 8).
	Workers int
	// Scenarios selects scenarios by name; empty runs all of them.
	Scenarios []string
	// Keep reuses the database "titular_bench" when it holds a seed of the
	// same size, and keeps it afterwards. Without Keep a fresh database is
	// created and dropped at the end.
	Keep bool
	// Datamap is the path of the demo data map (examples/realestate/datamap.yaml).
	Datamap string
	// ServeCommand is the command line of `titular serve` without its
	// flags, e.g. the titular executable and "serve": the fleet scenario
	// runs titular as a child process, to read its CPU time and memory
	// apart from the bench's.
	ServeCommand []string
	// Fleet tunes the fleet scenario (fleet.go).
	Fleet FleetOptions
	// Log receives titular's own logs; nil discards them.
	Log *slog.Logger
	// Progress receives one line per step; nil is silent.
	Progress io.Writer
}

func (o *Options) defaults() error {
	if o.DSN == "" {
		return errors.New("bench: a DSN is required, e.g. 'root@tcp(127.0.0.1:3306)/'")
	}
	if o.Datamap == "" {
		o.Datamap = "examples/realestate/datamap.yaml"
	}
	if o.Subjects == 0 {
		o.Subjects = 10_000
	}
	if o.Heavy == 0 {
		o.Heavy = 100_000
	}
	if o.LedgerLeaves == 0 {
		o.LedgerLeaves = 1_000_000
	}
	if o.Duration == 0 {
		o.Duration = 3 * time.Second
	}
	if o.Runs == 0 {
		o.Runs = 5
	}
	if o.Clients == 0 {
		o.Clients = 32
	}
	if o.Workers == 0 {
		o.Workers = 8
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Subjects < 20 || o.Heavy < 1 || o.Runs < 1 || o.LedgerLeaves < 2 || o.Clients < 1 || o.Workers < 1 || o.Duration <= 0 {
		return errors.New("bench: --subjects must be at least 20 and --heavy, --runs, --ledger-leaves (at least 2), --clients, --workers and --duration positive")
	}
	return nil
}

// Run runs the selected scenarios and returns their results.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if slices.ContainsFunc(opts.Scenarios, func(n string) bool { return strings.TrimSpace(n) == FleetScenario }) {
		if len(opts.Scenarios) > 1 {
			return nil, errors.New("bench: the fleet scenario runs on its own (it provisions its own databases); run --scenario fleet separately")
		}
		return runFleet(ctx, opts)
	}
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	scenarios, err := Select(opts.Scenarios)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	env, err := setup(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer env.close()
	rep := &Report{Machine: describeMachine(ctx, env.db), StartedAt: start.UTC(), Options: reportOptions(opts), Database: env.dbName}
	for _, s := range scenarios {
		env.progress("%s: %s", s.Name, s.About)
		res, err := s.Run(ctx, env)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		rep.Results = append(rep.Results, res...)
	}
	rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	env.progress("done in %s", rep.Elapsed)
	return rep, nil
}
