package fleet

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titular/titular/config"
	"github.com/titular/titular/fleet/fleettest"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// TestPreferredSpreads: rendezvous hashing gives each replica about its
// share of the tenants, and a replica joining moves only the tenants it
// takes.
func TestPreferredSpreads(t *testing.T) {
	peers := map[string]time.Time{"host-b/2/bbbb": {}, "host-c/3/cccc": {}}
	counts := map[string]int{}
	before := map[string]string{}
	for i := range 1200 {
		id := fmt.Sprintf("tenant-%04d", i)
		p := preferred(id, "host-a/1/aaaa", peers)
		counts[p]++
		before[id] = p
	}
	for r, n := range counts {
		if n < 300 || n > 500 {
			t.Errorf("replica %s prefers %d of 1200 tenants; want about 400", r, n)
		}
	}
	peers["host-d/4/dddd"] = time.Time{}
	moved := 0
	for id, was := range before {
		if now := preferred(id, "host-a/1/aaaa", peers); now != was {
			moved++
			if now != "host-d/4/dddd" {
				t.Fatalf("tenant %s moved from %s to %s, not to the replica that joined", id, was, now)
			}
		}
	}
	if moved < 200 || moved > 400 {
		t.Errorf("%d of 1200 tenants moved to a fourth replica; want about 300", moved)
	}
}

// recorder is a fake Work that counts and orders calls.
type recorder struct {
	mu    sync.Mutex
	calls []string
	// backlog makes Requests find a request for that many calls per tenant.
	backlog map[string]int
	delay   time.Duration
	ledger  atomic.Int64
}

func (r *recorder) record(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *recorder) work() Work {
	return Work{
		Requests: func(ctx context.Context, t *tenant.Tenant) (bool, time.Time, error) {
			time.Sleep(r.delay)
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.backlog[t.Config.ID] > 0 {
				r.backlog[t.Config.ID]--
				r.calls = append(r.calls, "request "+t.Config.ID)
				return true, time.Time{}, nil
			}
			return false, time.Time{}, nil
		},
		Ledger: func(ctx context.Context, t *tenant.Tenant) (int, error) {
			r.ledger.Add(1)
			time.Sleep(20 * time.Millisecond)
			return 0, nil
		},
		Outbox:     func(context.Context, *tenant.Tenant) (bool, time.Time, error) { return false, time.Time{}, nil },
		Checkpoint: func(context.Context, *tenant.Tenant) error { r.record("checkpoint"); return nil },
		Sweep:      func(context.Context, *tenant.Tenant) error { r.record("sweep"); return nil },
	}
}

// fleetOf returns a registry over n fresh tenant databases and a scheduler
// with the recorder's work, started.
func fleetOf(t *testing.T, n int, rec *recorder, opts Options) (*tenant.Registry, *Scheduler) {
	t.Helper()
	return fleetOfWork(t, n, rec.work(), opts)
}

// fleetOfWork is fleetOf with any work.
func fleetOfWork(t *testing.T, n int, work Work, opts Options) (*tenant.Registry, *Scheduler) {
	t.Helper()
	ts := fleettest.NewTenants(t, n, 1, true)
	dir := t.TempDir()
	yaml := fmt.Sprintf("state_dir: %q\ntenants:\n", filepath.Join(dir, "state"))
	for i, tn := range ts {
		yaml += fmt.Sprintf("  - {id: t%d, dsn: %q, datamap: %q}\n", i, tn.DSN, fleettest.Datamap(t))
	}
	path := filepath.Join(dir, "titular.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := tenant.NewRegistry(cfg, keyring.New(cfg.StateDir, log), log)
	if opts.Concurrency == 0 {
		opts.Concurrency = 4
	}
	opts.PerTenant = max(opts.PerTenant, 1)
	if opts.MinPoll == 0 {
		opts.MinPoll, opts.MaxPoll = 20*time.Millisecond, 160*time.Millisecond
	}
	opts.OwnershipLease = max(opts.OwnershipLease, 3*time.Second)
	opts.CheckpointInterval = max(opts.CheckpointInterval, time.Hour)
	opts.SweepInterval = max(opts.SweepInterval, time.Hour)
	opts.Kinds = []store.Kind{store.KindExtract, store.KindDelete, store.KindAnonymize}
	if opts.Owner == "" {
		opts.Owner = "test-replica"
	}
	opts.Log = log
	s := New(reg, work, opts)
	reg.OnUp, reg.OnRemove = s.Add, s.Remove
	ctx, cancel := context.WithCancel(context.Background())
	s.Start()
	go reg.Run(ctx, nil)
	t.Cleanup(func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		s.Stop(sctx)
		reg.Close()
	})
	return reg, s
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSchedulerIdleBacksOffAndHoldsNoConnection: an idle tenant's backstop
// poll doubles up to the longest interval, takes the tenant's lease, and
// leaves no connection open; a wake runs its job, and wakes arriving
// while it runs are folded into one more run.
func TestSchedulerIdleBacksOffAndHoldsNoConnection(t *testing.T) {
	rec := &recorder{backlog: map[string]int{}}
	reg, s := fleetOf(t, 2, rec, Options{})
	eventually(t, "the backstop interval to reach its longest", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		st := s.states["t0"]
		return st != nil && st.held && st.interval == 160*time.Millisecond
	})
	tn, err := reg.Get(context.Background(), "t0")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the idle tenant to let go of its connections", func() bool { return tn.Store.DB().Stats().OpenConnections == 0 })

	before := rec.ledger.Load()
	for range 20 {
		s.Wake("t0", JobLedger)
		time.Sleep(2 * time.Millisecond)
	}
	eventually(t, "the woken sequencer to run", func() bool { return rec.ledger.Load() > before })
	time.Sleep(300 * time.Millisecond)
	if n := rec.ledger.Load() - before; n > 6 {
		t.Errorf("20 wakes in 40 ms ran the sequencer %d times; wakes during a run must fold into one", n)
	}
	s.mu.Lock()
	iv := s.states["t0"].interval
	s.mu.Unlock()
	if iv > 160*time.Millisecond {
		t.Errorf("interval %s beyond the longest", iv)
	}
}

// TestSchedulerTurns: a tenant with a long queue does not keep another's
// request waiting until it drains: tenants take turns.
func TestSchedulerTurns(t *testing.T) {
	rec := &recorder{backlog: map[string]int{}, delay: 5 * time.Millisecond}
	_, s := fleetOf(t, 2, rec, Options{Concurrency: 2, PerTenant: 2})
	eventually(t, "both tenants scheduled", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.states) == 2
	})
	rec.mu.Lock()
	rec.backlog["t0"], rec.backlog["t1"] = 200, 1
	rec.mu.Unlock()
	s.Wake("t0", JobRequests)
	time.Sleep(20 * time.Millisecond)
	s.Wake("t1", JobRequests)
	eventually(t, "both queues drained", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.backlog["t0"] == 0 && rec.backlog["t1"] == 0
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	pos := -1
	for i, c := range rec.calls {
		if c == "request t1" {
			pos = i
		}
	}
	if pos < 0 || pos > 50 {
		t.Errorf("t1's request ran after %d of t0's 200; a busy tenant must not hold the pool", pos)
	}
}

// TestSchedulerRetriesWhenDue: a request that failed and waits out its
// backoff is claimed again when it falls due, without a wake or a poll.
func TestSchedulerRetriesWhenDue(t *testing.T) {
	rec := &recorder{backlog: map[string]int{}}
	var calls atomic.Int64
	var retryAt time.Time
	work := rec.work()
	work.Requests = func(ctx context.Context, tn *tenant.Tenant) (bool, time.Time, error) {
		switch calls.Add(1) {
		case 1:
			retryAt = time.Now().Add(300 * time.Millisecond)
			return true, retryAt, nil
		}
		return false, time.Time{}, nil
	}
	_, s := fleetOfWork(t, 1, work, Options{MinPoll: time.Hour, MaxPoll: time.Hour, OwnershipLease: 3 * time.Hour})
	eventually(t, "the tenant scheduled", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.states["t0"] != nil && s.states["t0"].held
	})
	s.Wake("t0", JobRequests)
	eventually(t, "the retry to run", func() bool { return calls.Load() >= 3 })
	if time.Now().Before(retryAt) {
		t.Errorf("the retry ran before it was due")
	}
}
