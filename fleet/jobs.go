// Package fleet schedules titular's background work across every tenant
// with one bounded pool of goroutines: request workers, the ledger
// sequencer, webhook delivery, checkpoints and the retention sweep. Work
// created through this process starts at once (the store tells the
// scheduler what each commit left); work created elsewhere is found by a
// backstop poll of one cheap probe, whose interval grows while a tenant
// stays idle. With several replicas, a lease in each tenant's database says
// which one polls it, sweeps it and signs its checkpoints; every replica
// still runs the work it created itself.
package fleet

import (
	"context"
	"time"

	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// Job is one kind of a tenant's background work.
type Job uint8

// The jobs, in the order a tenant's runnable jobs are picked: the
// sequencer first (receipts and checkpoints wait on it), then requests
// (the titular waits), deliveries, and the owner's periodic work.
const (
	JobLedger Job = 1 << iota
	JobRequests
	JobOutbox
	JobProbe
	JobCheckpoint
	JobSweep
)

var jobOrder = []Job{JobLedger, JobRequests, JobOutbox, JobProbe, JobCheckpoint, JobSweep}

func (j Job) String() string {
	switch j {
	case JobLedger:
		return "ledger"
	case JobRequests:
		return "requests"
	case JobOutbox:
		return "outbox"
	case JobProbe:
		return "probe"
	case JobCheckpoint:
		return "checkpoint"
	case JobSweep:
		return "sweep"
	}
	return "unknown"
}

func (j Job) index() int {
	for i, x := range jobOrder {
		if x == j {
			return i
		}
	}
	return -1
}

const nJobs = 6

// FromWork maps what a commit left to the jobs that handle it.
func FromWork(w store.Work) Job {
	var j Job
	if w&store.WorkRequests != 0 {
		j |= JobRequests
	}
	if w&store.WorkLedger != 0 {
		j |= JobLedger
	}
	if w&store.WorkOutbox != 0 {
		j |= JobOutbox
	}
	return j
}

// Work is what the scheduler runs. Each function does one unit of a job for
// one tenant, on a context that ends at the shutdown deadline.
type Work struct {
	// Requests claims and processes at most one queued request. found says
	// whether there was one; retryAt, when not zero, is when a request that
	// failed becomes claimable again.
	Requests func(ctx context.Context, t *tenant.Tenant) (found bool, retryAt time.Time, err error)
	// Ledger integrates the pending leaves and says how many.
	Ledger func(ctx context.Context, t *tenant.Tenant) (int, error)
	// Outbox delivers one batch of due webhook deliveries. more says a full
	// batch went (there may be others due); retryAt, when not zero, is the
	// earliest retry of a failed one.
	Outbox func(ctx context.Context, t *tenant.Tenant) (more bool, retryAt time.Time, err error)
	// Checkpoint signs a checkpoint of the tenant's ledger if it grew.
	Checkpoint func(ctx context.Context, t *tenant.Tenant) error
	// Sweep erases rows whose retention hold ended and completes erasures.
	Sweep func(ctx context.Context, t *tenant.Tenant) error
}

// gap is the least time between the end of one run of a job and the start
// of the next when the job is woken, so bursts of commits batch: the
// sequencer integrates a batch of leaves, the dispatcher claims a batch of
// deliveries, instead of one transaction each.
func gap(j Job) time.Duration {
	switch j {
	case JobLedger:
		return 100 * time.Millisecond
	case JobOutbox:
		return 50 * time.Millisecond
	}
	return 0
}
