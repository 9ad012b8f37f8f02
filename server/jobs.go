package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/titular/titular/config"
	"github.com/titular/titular/fleet"
	"github.com/titular/titular/metrics"
	"github.com/titular/titular/service"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// requestCountsMaxAge is how old a tenant's request counts may be in a
// metrics scrape when this process did not change them.
const requestCountsMaxAge = 5 * time.Minute

// newScheduler wires the service's workers into the fleet scheduler.
func newScheduler(cfg *config.Config, tenants *tenant.Registry, worker *service.Worker, dispatcher *service.Dispatcher,
	srv *server, log *slog.Logger) *fleet.Scheduler {
	witnesses := newWitnessPusher(cfg, log)
	work := fleet.Work{
		Requests: worker.RunOnce,
		Ledger:   srv.ledger.Sequence,
		Outbox:   dispatcher.RunOnce,
		Checkpoint: func(ctx context.Context, t *tenant.Tenant) error {
			cp, err := srv.ledger.Checkpoint(ctx, t)
			if err != nil {
				return err
			}
			return witnesses.push(ctx, t, cp)
		},
		Sweep: func(ctx context.Context, t *tenant.Tenant) error {
			return Sweep(ctx, t, service.SweepOptions{}, func(format string, a ...any) {
				log.Info("sweep", "report", fmt.Sprintf(format, a...))
			})
		},
	}
	return fleet.New(tenants, work, fleet.Options{
		Concurrency: cfg.Workers.Concurrency, PerTenant: cfg.Workers.PerTenant,
		MinPoll: cfg.Workers.MinPollInterval, MaxPoll: cfg.Workers.PollInterval, OwnershipLease: cfg.Workers.OwnershipLease,
		CheckpointInterval: cfg.Ledger.CheckpointInterval, SweepInterval: cfg.Workers.SweepInterval,
		Kinds: service.WorkerKinds, Owner: worker.Owner(), Log: log,
		OnProbe: func(id string, p store.Probe) { srv.metrics.SetLedgerSize(id, int64(p.LedgerSize)) }, //nolint:gosec // G115: a ledger size counts leaves, one row each: far below 2^63
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
