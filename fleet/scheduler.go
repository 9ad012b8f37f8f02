package fleet

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// Options tunes the scheduler; cmd fills it from config.Workers.
type Options struct {
	// Concurrency is how many jobs run at once, across all tenants.
	Concurrency int
	// PerTenant is how many requests of one tenant run at once.
	PerTenant int
	// MinPoll and MaxPoll bound an owned tenant's backstop poll.
	MinPoll, MaxPoll time.Duration
	// OwnershipLease is how long a replica's hold on a tenant's background
	// work lasts without renewal.
	OwnershipLease time.Duration
	// CheckpointInterval is the least time between two checkpoints of a
	// growing ledger; SweepInterval between two sweeps of a tenant.
	CheckpointInterval, SweepInterval time.Duration
	// Kinds are the request kinds workers process (what the probe looks for).
	Kinds []store.Kind
	// Owner names this replica in the tenants' leases.
	Owner string
	Log   *slog.Logger
	// OnProbe, when set, is told each probe's findings (metrics: the
	// ledger's size); it must not block.
	OnProbe func(tenantID string, p store.Probe)
}

// Scheduler runs every tenant's background work on a bounded pool. Tenants
// with runnable work wait in one queue and are served in turn, one job at
// a time, so a busy tenant cannot hold the pool while others wait.
type Scheduler struct {
	opts    Options
	tenants *tenant.Registry
	work    Work

	mu       sync.Mutex
	ready    *sync.Cond // ring gained a tenant, or stopping
	states   map[string]*tstate
	ring     []string // tenants with a runnable job, each at most once
	timers   timerHeap
	peers    map[string]time.Time // other replicas, alive until
	stopping bool
	counts   map[Job]*jobCounts

	kick    chan struct{}
	stopped chan struct{}
	jobCtx  context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup
}

// tstate is one tenant's scheduling state.
type tstate struct {
	id      string
	pending Job              // jobs with work known or suspected
	due     [nJobs]time.Time // a pending job does not start before
	timer   [nJobs]time.Time // a job must run at this time even if it found nothing before
	running [nJobs]int       // runs in progress
	gen     [nJobs]uint64    // wakes, so a wake during a run is not lost
	lastEnd [nJobs]time.Time // when the last run ended (for gap)
	queued  bool             // in the ring
	heapAt  time.Time        // its live timer entry, if any
	removed bool             // left the catalog: finish what runs, start nothing

	held           bool // this replica holds the tenant's lease
	heldSince      time.Time
	interval       time.Duration // the backstop poll's current interval
	active         bool          // work was done since the last probe
	backlog        bool          // the last claim found a request: claim in parallel
	lastCheckpoint time.Time
	failures       int
}

// New returns a scheduler over the registry's tenants. Call Start, and wire
// the registry's OnCommit, OnUp and OnRemove to Wake, Add and Remove.
func New(tenants *tenant.Registry, work Work, opts Options) *Scheduler {
	s := &Scheduler{opts: opts, tenants: tenants, work: work, states: map[string]*tstate{},
		peers: map[string]time.Time{}, counts: map[Job]*jobCounts{}, kick: make(chan struct{}, 1), stopped: make(chan struct{})}
	s.ready = sync.NewCond(&s.mu)
	for _, j := range jobOrder {
		s.counts[j] = &jobCounts{}
	}
	s.jobCtx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Start starts the pool and the timer.
func (s *Scheduler) Start() {
	for range s.opts.Concurrency {
		s.workers.Go(s.workerLoop)
	}
	go s.timerLoop()
}

// Add starts scheduling a tenant that opened: its first backstop poll
// runs now, which also takes its lease when it is free.
func (s *Scheduler) Add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state(id)
	st.removed = false
	s.setPending(st, JobProbe, time.Now())
	s.schedule(st)
}

// Remove stops scheduling a tenant that left the catalog; runs in progress
// finish.
func (s *Scheduler) Remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.states[id]; st != nil {
		st.removed, st.pending = true, 0
		s.forgetIfIdle(st)
	}
}

// Wake tells the scheduler that a tenant has work for jobs, left by a
// change this process committed: it starts at once (after the job's gap).
func (s *Scheduler) Wake(id string, jobs Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.states[id]
	if st == nil || st.removed {
		// Not scheduled yet (still opening): its first probe will find it.
		return
	}
	for _, j := range jobOrder {
		if jobs&j == 0 {
			continue
		}
		i := j.index()
		st.gen[i]++
		s.setPending(st, j, st.lastEnd[i].Add(gap(j)))
	}
	st.active = true
	st.interval = s.opts.MinPoll
	s.schedule(st)
}

// WakeAt makes j run for the tenant at (or soon after) at.
func (s *Scheduler) WakeAt(id string, j Job, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.states[id]; st != nil && !st.removed {
		s.setTimer(st, j, at)
		s.schedule(st)
	}
}

func (s *Scheduler) state(id string) *tstate {
	st := s.states[id]
	if st == nil {
		st = &tstate{id: id, interval: s.opts.MinPoll}
		s.states[id] = st
	}
	return st
}

// setPending marks j pending, due at the earlier of its current due time
// (if already pending) and at.
func (s *Scheduler) setPending(st *tstate, j Job, at time.Time) {
	i := j.index()
	if st.pending&j == 0 || at.Before(st.due[i]) {
		st.due[i] = at
	}
	st.pending |= j
}

// setTimer makes j run at at even if its runs in between find nothing.
func (s *Scheduler) setTimer(st *tstate, j Job, at time.Time) {
	i := j.index()
	if st.timer[i].IsZero() || at.Before(st.timer[i]) {
		st.timer[i] = at
	}
	s.setPending(st, j, at)
}

// limit is how many runs of j a tenant may have at once.
func (s *Scheduler) limit(st *tstate, j Job) int {
	if j == JobRequests && st.backlog {
		return s.opts.PerTenant
	}
	return 1
}

// runnable returns the first job the tenant can start now, or 0.
func (s *Scheduler) runnable(st *tstate, now time.Time) Job {
	if st.removed {
		return 0
	}
	for i, j := range jobOrder {
		if st.pending&j == 0 || st.due[i].After(now) || st.running[i] >= s.limit(st, j) {
			continue
		}
		if (j == JobCheckpoint || j == JobSweep) && !st.held {
			continue
		}
		return j
	}
	return 0
}

// schedule puts the tenant in the ring if it has a runnable job, and sets
// a timer for the earliest pending job due later. s.mu is held.
func (s *Scheduler) schedule(st *tstate) {
	if st.removed || s.stopping {
		return
	}
	now := time.Now()
	if !st.queued && s.runnable(st, now) != 0 {
		st.queued = true
		s.ring = append(s.ring, st.id)
		s.ready.Signal()
	}
	var next time.Time
	for i, j := range jobOrder {
		if st.pending&j != 0 && st.due[i].After(now) && (next.IsZero() || st.due[i].Before(next)) {
			next = st.due[i]
		}
	}
	if next.IsZero() || (!st.heapAt.IsZero() && !st.heapAt.After(next) && st.heapAt.After(now)) {
		return
	}
	st.heapAt = next
	heap.Push(&s.timers, timerEntry{at: next, id: st.id})
	if s.timers[0].id == st.id && s.timers[0].at.Equal(next) {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

func (s *Scheduler) forgetIfIdle(st *tstate) {
	for _, n := range st.running {
		if n > 0 {
			return
		}
	}
	if s.states[st.id] == st {
		delete(s.states, st.id)
	}
}

// timerLoop wakes tenants whose pending jobs fall due.
func (s *Scheduler) timerLoop() {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		s.mu.Lock()
		now := time.Now()
		for len(s.timers) > 0 && !s.timers[0].at.After(now) {
			e := heap.Pop(&s.timers).(timerEntry)
			if st := s.states[e.id]; st != nil && st.heapAt.Equal(e.at) {
				st.heapAt = time.Time{}
				s.schedule(st)
			}
		}
		wait := time.Hour
		if len(s.timers) > 0 {
			wait = s.timers[0].at.Sub(now)
		}
		stopping := s.stopping
		s.mu.Unlock()
		if stopping {
			return
		}
		t.Reset(wait)
		select {
		case <-s.stopped:
			return
		case <-s.kick:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		case <-t.C:
		}
	}
}

// workerLoop takes tenants from the ring in turn and runs one job of each.
func (s *Scheduler) workerLoop() {
	for {
		s.mu.Lock()
		for len(s.ring) == 0 && !s.stopping {
			s.ready.Wait()
		}
		if s.stopping {
			s.mu.Unlock()
			return
		}
		id := s.ring[0]
		s.ring = s.ring[1:]
		st := s.states[id]
		if st == nil {
			s.mu.Unlock()
			continue
		}
		st.queued = false
		j := s.runnable(st, time.Now())
		if j == 0 {
			s.schedule(st)
			s.mu.Unlock()
			continue
		}
		i := j.index()
		st.running[i]++
		g := st.gen[i]
		s.schedule(st) // another of its jobs may run beside this one
		s.mu.Unlock()
		s.runJob(st, j, g)
	}
}

// outcome is what one run of a job returned.
type outcome struct {
	err     error
	found   bool      // requests: one was claimed; outbox: a full batch went
	n       int       // ledger: leaves integrated
	retryAt time.Time // requests, outbox: when a failed item is due again
	probe   *store.Probe
}

// runJob runs one job of one tenant and records its outcome.
func (s *Scheduler) runJob(st *tstate, j Job, g uint64) {
	start := time.Now()
	t, done, err := s.tenants.Use(s.jobCtx, st.id)
	var out outcome
	if err != nil {
		out.err = err
	} else {
		out = s.exec(t, j)
	}
	s.mu.Lock()
	after := s.finish(st, j, g, out)
	s.mu.Unlock()
	s.counts[j].add(time.Since(start), out.err)
	if err != nil {
		return
	}
	if after.releaseLease {
		ctx, cancel := context.WithTimeout(s.jobCtx, 5*time.Second)
		if err := t.Store.ReleaseLease(ctx, s.opts.Owner); err != nil {
			s.opts.Log.Warn("fleet: handing a tenant over failed; its lease will expire", "tenant", st.id, "error", tenant.Describe(err))
		}
		cancel()
	}
	if after.releaseIdle {
		t.ReleaseIdle()
	}
	done()
}

func (s *Scheduler) exec(t *tenant.Tenant, j Job) (out outcome) {
	ctx := s.jobCtx
	switch j {
	case JobRequests:
		out.found, out.retryAt, out.err = s.work.Requests(ctx, t)
	case JobLedger:
		out.n, out.err = s.work.Ledger(ctx, t)
	case JobOutbox:
		out.found, out.retryAt, out.err = s.work.Outbox(ctx, t)
	case JobCheckpoint:
		out.err = s.work.Checkpoint(ctx, t)
	case JobSweep:
		out.err = s.work.Sweep(ctx, t)
	case JobProbe:
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		p, err := t.Store.ProbeWork(lctx, s.opts.Owner, s.opts.OwnershipLease, s.opts.Kinds)
		cancel()
		out.probe, out.err = &p, err
		if err != nil {
			s.tenants.ReportDown(t.Config.ID, err)
			break
		}
		s.tenants.ReportUp(t.Config.ID)
		if s.opts.OnProbe != nil {
			s.opts.OnProbe(t.Config.ID, p)
		}
	}
	return out
}

// after is what a worker does once a run is recorded, outside the lock.
type after struct {
	releaseIdle  bool // the tenant went quiet: let go of its connections
	releaseLease bool // hand the tenant over to the replica preferred for it
}

// finish records a run's outcome and reschedules the tenant. s.mu is held.
func (s *Scheduler) finish(st *tstate, j Job, g uint64, out outcome) (a after) {
	i := j.index()
	now := time.Now()
	st.running[i]--
	st.lastEnd[i] = now
	if st.removed {
		s.forgetIfIdle(st)
		return a
	}
	if out.err != nil && s.stopping && errors.Is(out.err, context.Canceled) {
		return a // cut off by Stop: nothing failed, nothing to retry here
	}
	if out.err != nil {
		return s.failed(st, j, out.err)
	}
	st.failures = 0
	woken := st.gen[i] != g
	// done clears j unless it was woken during the run or has a timer due.
	done := func() {
		switch {
		case woken:
			s.setPending(st, j, now.Add(gap(j)))
		case st.timer[i].After(now):
			st.due[i] = st.timer[i]
		default:
			st.pending &^= j
			st.timer[i] = time.Time{}
		}
	}
	switch j {
	case JobRequests, JobOutbox:
		// Found work: there may be more, run again at once.
		if j == JobRequests {
			st.backlog = out.found
		}
		if out.found {
			st.active = true
			st.due[i] = now
		} else {
			done()
		}
		if !out.retryAt.IsZero() {
			s.setTimer(st, j, out.retryAt)
		}
	case JobLedger:
		if out.n > 0 {
			st.active = true
			s.needCheckpoint(st)
		}
		done()
	case JobCheckpoint:
		st.lastCheckpoint = now
		done()
	case JobSweep:
		st.due[i] = now.Add(s.opts.SweepInterval)
	case JobProbe:
		a = s.probed(st, *out.probe, now)
	}
	s.schedule(st)
	return a
}

// needCheckpoint makes a held tenant sign a checkpoint once the interval
// since the last one has passed.
func (s *Scheduler) needCheckpoint(st *tstate) {
	if st.held {
		s.setPending(st, JobCheckpoint, st.lastCheckpoint.Add(s.opts.CheckpointInterval))
	}
}

// failed backs a job off after an error: the tenant's database may be down
// or the tenant may have left the catalog.
func (s *Scheduler) failed(st *tstate, j Job, err error) after {
	if errors.Is(err, tenant.ErrUnknown) {
		st.removed, st.pending = true, 0
		s.forgetIfIdle(st)
		return after{}
	}
	st.failures++
	backoff := time.Second
	for n := 1; n < st.failures && backoff < s.opts.MaxPoll; n++ {
		backoff *= 2
	}
	backoff = min(backoff, s.opts.MaxPoll)
	i := j.index()
	st.pending |= j
	st.due[i] = time.Now().Add(backoff)
	// The first failure is logged; while it lasts, the tenant's health
	// (readyz, titular_tenant_up) says so instead of a line a minute.
	level := slog.LevelDebug
	if st.failures == 1 {
		level = slog.LevelError
	}
	s.opts.Log.Log(context.Background(), level, "fleet: background job failed; retrying", "tenant", st.id, "job", j.String(),
		"retry_in", backoff.String(), "error", tenant.Describe(err))
	s.schedule(st)
	return after{}
}

// Stop stops starting jobs and waits for those running until ctx ends; at
// that point it cancels them (each kind is safe to interrupt: its
// transaction rolls back and the work is found again). Then it hands the
// tenants it holds back, so other replicas take them over at once.
func (s *Scheduler) Stop(ctx context.Context) {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return
	}
	s.stopping = true
	s.ready.Broadcast()
	var held []string
	for id, st := range s.states {
		if st.held {
			held = append(held, id)
		}
	}
	s.mu.Unlock()
	close(s.stopped)
	idle := make(chan struct{})
	go func() { s.workers.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-ctx.Done():
		s.cancel()
		<-idle
	}
	s.releaseAll(ctx, held)
	s.cancel()
}

// releaseAll gives up the leases of held, a few at a time, within ctx.
func (s *Scheduler) releaseAll(ctx context.Context, held []string) {
	if ctx.Err() != nil {
		return
	}
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, id := range held {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t, err := s.tenants.Get(ctx, id)
			if err == nil {
				_ = t.Store.ReleaseLease(ctx, s.opts.Owner)
			}
		})
	}
	wg.Wait()
}

// jitter spreads times over [0, d) so a thousand tenants do not poll in
// step.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d) //nolint:gosec // G404: spreading poll times needs no unpredictability
}

// timerHeap orders timer entries by time; entries whose tenant moved its
// timer since are skipped when popped.
type timerHeap []timerEntry

type timerEntry struct {
	at time.Time
	id string
}

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
