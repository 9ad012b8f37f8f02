package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/titular/titular/store"
)

// noisyProbes is how many requests on other tenants are timed in each
// round of the noisy-neighbour measurement.
const noisyProbes = 10

// drainLimit bounds the wait for a burst of requests to finish.
const drainLimit = 10 * time.Minute

// claimLatency creates requests one at a time on random tenants, each
// after the previous one ended, and times each from RECEIVED to
// PROCESSING: the wake-up path of an idle tenant.
func (f *fleet) claimLatency(ctx context.Context) error {
	f.progress("claim latency: %d EXTRACTs one at a time on random tenants", f.fo.Samples)
	rng := rand.New(rand.NewPCG(1, 1)) //nolint:gosec // G404: picks load targets, seeded so each run picks the same tenants
	ts := f.reachable()
	var lat []time.Duration
	for i := range f.fo.Samples {
		d, err := f.timedRequest(ctx, ts[rng.IntN(len(ts))], i)
		if err != nil {
			return err
		}
		lat = append(lat, d)
	}
	f.latencyFigures("claim", lat,
		"EXTRACTs by CPF created through gRPC one at a time on random idle tenants, each after the previous ended; "+
			"from the RECEIVED to the PROCESSING event in lgpd_request_events (both titular's clock)")
	return nil
}

// timedRequest creates one EXTRACT on t, waits for it to end and returns
// how long it waited to be claimed.
func (f *fleet) timedRequest(ctx context.Context, t fleetTenant, n int) (time.Duration, error) {
	id, err := f.createExtract(ctx, t, n)
	if err != nil {
		return 0, err
	}
	status, err := f.waitEnded(ctx, t, id)
	if err != nil {
		return 0, err
	}
	if status != store.StatusCompleted {
		f.failed++
	}
	ev, err := f.events(ctx, t, []string{id})
	if err != nil {
		return 0, err
	}
	return ev[id].claimDelay(), nil
}

func (f *fleet) latencyFigures(what string, lat []time.Duration, how string) {
	slices.Sort(lat)
	st := runStats{lat: lat}
	p99 := st.pct(99)
	f.figures = append(f.figures,
		figure(what+": to PROCESSING p50", ms(st.pct(50)), "ms", len(lat), how),
		figure(what+": to PROCESSING p99", ms(p99), "ms", len(lat), "the same, 99th percentile (nearest rank)").
			withGoal("≤ 50 ms", p99 <= 50*time.Millisecond))
}

// noisyNeighbour queues Noisy EXTRACTs on one tenant (A) and, while they
// wait, times requests on other tenants (B): a burst on A must not delay B.
func (f *fleet) noisyNeighbour(ctx context.Context) error {
	rng := rand.New(rand.NewPCG(2, 2)) //nolint:gosec // G404: picks load targets, seeded so each run picks the same tenants
	ts := f.reachable()
	var lat []time.Duration
	var queued []float64
	for r := range f.fo.Rounds {
		ai := rng.IntN(len(ts))
		a := ts[ai]
		f.progress("noisy neighbour %d/%d: %d EXTRACTs on one tenant, %d timed on others meanwhile", r+1, f.fo.Rounds, f.fo.Noisy, noisyProbes)
		jobs := make([]int, f.fo.Noisy)
		for i := range jobs {
			jobs[i] = i
		}
		if err := parallel(ctx, f.opts.Clients, jobs, func(ctx context.Context, i int) error {
			_, err := f.createExtract(ctx, a, i)
			return err
		}); err != nil {
			return err
		}
		for i := range noisyProbes {
			bi := rng.IntN(len(ts) - 1)
			if bi >= ai {
				bi++ // any tenant but A
			}
			q, err := f.unfinished(ctx, []fleetTenant{a})
			if err != nil {
				return err
			}
			queued = append(queued, float64(q))
			d, err := f.timedRequest(ctx, ts[bi], i)
			if err != nil {
				return err
			}
			lat = append(lat, d)
		}
		if err := f.drain(ctx, []fleetTenant{a}, drainLimit); err != nil {
			return err
		}
	}
	f.latencyFigures("noisy neighbour", lat, fmt.Sprintf(
		"%s, each an EXTRACT created on a random tenant B after the previous ended, while %d EXTRACTs created at once waited on another tenant A; "+
			"RECEIVED to PROCESSING of B's request", plural(f.fo.Rounds, "round")+" of "+plural(noisyProbes, "request"), f.fo.Noisy))
	f.figures = append(f.figures, figure("noisy neighbour: A's queue", median(queued), "requests", len(queued),
		"A's requests still RECEIVED or PROCESSING when each B request was created (median): B really competed with a queue"))
	return nil
}

// burst sends BurstRequests EXTRACTs to each of BurstTenants tenants at
// once and measures how fast and how evenly titular gets through them.
func (f *fleet) burst(ctx context.Context) error {
	ts := f.reachable()
	n := min(f.fo.BurstTenants, len(ts))
	var rates, jains, spreads, lasts, stmts, conns, peaks []float64
	for r := range f.fo.Rounds {
		// Each round takes the next tenants, so no round starts on tenants
		// the previous one woke.
		group := make([]fleetTenant, n)
		for i := range group {
			group[i] = ts[(r*n+i)%len(ts)]
		}
		f.progress("burst %d/%d: %d EXTRACTs on each of %d tenants at once", r+1, f.fo.Rounds, f.fo.BurstRequests, n)
		res, err := f.burstRound(ctx, group)
		if err != nil {
			return err
		}
		rates, jains, spreads, lasts = append(rates, res.rate), append(jains, res.jain), append(spreads, res.spread), append(lasts, res.last)
		stmts, conns, peaks = append(stmts, res.statements), append(conns, res.connects), append(peaks, float64(res.peakConns))
	}
	how := fmt.Sprintf("%d EXTRACTs on each of %d tenants, created at once by %d gRPC clients round-robin over the tenants; median over %s of ",
		f.fo.BurstRequests, n, f.opts.Clients, plural(f.fo.Rounds, "round"))
	f.figures = append(f.figures,
		figure("burst: completed/s", median(rates), "/s", len(rates), how+"the requests COMPLETED / (last COMPLETED − first RECEIVED)"),
		figure("burst: Jain's fairness", median(jains), "", len(jains),
			"the same bursts: Jain's index of the tenants' throughputs, each its requests / (its last COMPLETED − the first RECEIVED); 1 is perfectly even"),
		figure("burst: slowest/fastest tenant", median(spreads), "×", len(spreads), "the same bursts: the last tenant's completion time over the first's"),
		figure("burst: last tenant done", median(lasts), "s", len(lasts), "the same bursts: from the first RECEIVED to the last COMPLETED"),
		figure("burst: statements/request", median(stmts), "", len(stmts),
			"the same bursts: Questions less the bench's own statements, from before the first create to the drain, per request: the server's global counter, so other clients count"),
		figure("burst: connects/request", median(conns), "", len(conns),
			"the same bursts: the server's Connections counter (connection attempts) over the same span, per request: how often titular opens a connection"))
	if f.dbAddrOK {
		peak := slices.Max(peaks)
		f.figures = append(f.figures, figure("burst: titular's connections (max)", peak, "", len(peaks),
			"the same bursts: the most established TCP connections titular held to the server, sampled every 50 ms (/proc); "+
				"its budget is databases.max_connections, 32 here").withGoal("≤ 32", peak <= 32))
	}
	return nil
}

type burstResult struct {
	rate, jain, spread, last float64
	statements, connects     float64 // per request
	peakConns                int
}

func (f *fleet) burstRound(ctx context.Context, group []fleetTenant) (burstResult, error) {
	type job struct{ t, i int }
	var jobs []job
	for i := range f.fo.BurstRequests {
		for t := range group {
			jobs = append(jobs, job{t, i})
		}
	}
	var mu sync.Mutex
	ids := make([][]string, len(group))
	before, err := f.readStatus(ctx)
	if err != nil {
		return burstResult{}, err
	}
	stopSampling := f.peakSockets(50 * time.Millisecond)
	err = parallel(ctx, f.opts.Clients, jobs, func(ctx context.Context, j job) error {
		id, err := f.createExtract(ctx, group[j.t], j.i)
		mu.Lock()
		ids[j.t] = append(ids[j.t], id)
		mu.Unlock()
		return err
	})
	if err == nil {
		err = f.drain(ctx, group, drainLimit)
	}
	peakConns := stopSampling()
	if err != nil {
		return burstResult{}, err
	}
	after, err := f.readStatus(ctx)
	if err != nil {
		return burstResult{}, err
	}
	var first time.Time
	ends := make([]time.Time, len(group))
	completed := 0
	for i, t := range group {
		ev, err := f.events(ctx, t, ids[i])
		if err != nil {
			return burstResult{}, err
		}
		for _, r := range ev {
			if first.IsZero() || r.received.Before(first) {
				first = r.received
			}
			if r.ended.After(ends[i]) {
				ends[i] = r.ended
			}
			if r.status == store.StatusCompleted {
				completed++
			} else {
				f.failed++
			}
		}
	}
	took := make([]float64, len(group))
	perTenant := make([]float64, len(group))
	for i, e := range ends {
		took[i] = max(e.Sub(first).Seconds(), 1e-6)
		perTenant[i] = float64(len(ids[i])) / took[i]
	}
	last := slicesMax(took)
	n := float64(len(jobs))
	return burstResult{rate: float64(completed) / last, jain: jain(perTenant), spread: last / slices.Min(took), last: last,
		statements: statements(before, after) / n, connects: float64(after.values["Connections"]-before.values["Connections"]) / n, peakConns: peakConns}, nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// jain is Jain's fairness index of xs: (Σx)² / (n·Σx²), 1 when all are
// equal, 1/n when one takes everything.
func jain(xs []float64) float64 {
	var s, sq float64
	for _, x := range xs {
		s += x
		sq += x * x
	}
	if sq == 0 {
		return 0
	}
	return s * s / (float64(len(xs)) * sq)
}

// finish reads titular's peak memory, stops it and reports what remains.
func (f *fleet) finish(ctx context.Context) error {
	if err := f.serve.exited(); err != nil {
		return err
	}
	_, peak, err := f.serve.memory()
	if err != nil {
		return err
	}
	took, err := f.serve.stop(30 * time.Second)
	if err != nil {
		return err
	}
	f.figures = append(f.figures,
		figure("peak RSS", peak, "MiB", 1, "VmHWM of titular's process over the whole run, requests included"),
		figure("stop", took.Seconds(), "s", 1, "from SIGTERM to titular's exit, after the last burst drained"),
		figure("requests not COMPLETED", float64(f.failed), "requests", 1, "requests of all the measurements that ended FAILED, DENIED or CANCELED").
			withGoal("= 0", f.failed == 0))
	return f.background(ctx, "after titular")
}
