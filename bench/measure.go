package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// op is one timed operation; it returns the number of rows it handled.
type op func(ctx context.Context) (rows int64, err error)

// variant is one side of a comparison: titular, or its baseline.
type variant struct {
	name    string // e.g. "titular", "baseline"
	what    string // what one operation is, for the report
	clients int    // concurrent callers; 0 or 1 runs the op sequentially
	op      op
	// after, if set, runs after each op outside the timing (e.g. rolling
	// back what the op changed); its time is taken out of the run's
	// elapsed time as well.
	after func(ctx context.Context) error
	// goal, if set, replaces the comparison's goal for this variant.
	goal *goal
}

// comparison runs variants (the first is the baseline) interleaved.
type comparison struct {
	scenario string
	variants []variant
	// ratio compares a variant's run with the baseline's run of the same
	// round; Result.Ratio is its median over the rounds.
	ratio      func(v, base runStats) float64
	ratioMeans string
	goal       goal
}

// goal is a target a variant's result is held to.
type goal struct {
	text string
	met  func(Result) bool
}

// runStats is one run of one variant.
type runStats struct {
	lat     []time.Duration // sorted
	rows    int64
	elapsed time.Duration
	peakMiB float64
}

func (r runStats) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(float64(len(r.lat))*p/100+0.999999) - 1 // nearest rank
	return r.lat[min(max(i, 0), len(r.lat)-1)]
}

func (r runStats) opsPerSec() float64  { return float64(len(r.lat)) / r.elapsed.Seconds() }
func (r runStats) rowsPerSec() float64 { return float64(r.rows) / r.elapsed.Seconds() }

// Ratio helpers, each comparing medians or throughputs of paired runs.
func timeRatio(v, base runStats) float64  { return seconds(v.pct(50)) / seconds(base.pct(50)) }
func speedRatio(v, base runStats) float64 { return seconds(base.pct(50)) / seconds(v.pct(50)) }
func rateRatio(v, base runStats) float64  { return v.opsPerSec() / base.opsPerSec() }

func seconds(d time.Duration) float64 { return max(d.Seconds(), 1e-9) }

// compare warms every variant up, then runs them env.opts.Runs times,
// alternating which goes first so drift on a shared machine hits both.
func compare(ctx context.Context, env *Env, c comparison) ([]Result, error) {
	d := env.opts.Duration
	for _, v := range c.variants {
		env.progress("%s: warm-up %s", c.scenario, v.name)
		if _, err := loop(ctx, v, min(d, time.Second)); err != nil {
			return nil, fmt.Errorf("%s warm-up: %w", v.name, err)
		}
	}
	runs := make([][]runStats, len(c.variants))
	for r := range env.opts.Runs {
		order := make([]int, len(c.variants))
		for i := range order {
			order[i] = i
		}
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, i := range order {
			v := c.variants[i]
			env.progress("%s: run %d/%d %s", c.scenario, r+1, env.opts.Runs, v.name)
			var st runStats
			peak, err := peakRSSAbove(func() error {
				var err error
				st, err = loop(ctx, v, d)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("%s run %d: %w", v.name, r+1, err)
			}
			st.peakMiB = peak
			runs[i] = append(runs[i], st)
		}
	}
	out := make([]Result, len(c.variants))
	for i, v := range c.variants {
		res := summarize(c.scenario, v, runs[i])
		res.Baseline = i == 0
		res.RatioMeans = c.ratioMeans
		res.Ratio = 1
		if i > 0 {
			ratios := make([]float64, len(runs[i]))
			for r := range runs[i] {
				ratios[r] = c.ratio(runs[i][r], runs[0][r])
			}
			res.Ratio = median(ratios)
			g := c.goal
			if v.goal != nil {
				g = *v.goal
			}
			if g.text != "" {
				res.Goal = g.text
				met := g.met(res)
				res.GoalMet = &met
			}
		}
		out[i] = res
	}
	return out, nil
}

// summarize reports the median over runs of each run's statistics, and the
// highest peak memory of any run.
func summarize(scenario string, v variant, runs []runStats) Result {
	res := Result{Scenario: scenario, Variant: v.name, What: v.what, Runs: len(runs), Clients: max(v.clients, 1), PeakRSSMiB: -1}
	var p50, p95, p99, ops, rows []float64
	for _, r := range runs {
		res.Ops += len(r.lat)
		p50 = append(p50, ms(r.pct(50)))
		p95 = append(p95, ms(r.pct(95)))
		p99 = append(p99, ms(r.pct(99)))
		ops = append(ops, r.opsPerSec())
		rows = append(rows, r.rowsPerSec())
		res.PeakRSSMiB = max(res.PeakRSSMiB, r.peakMiB)
	}
	res.MedianMS, res.P95MS, res.P99MS = median(p50), median(p95), median(p99)
	res.OpsPerSec, res.RowsPerSec = median(ops), median(rows)
	return res
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// loop runs v's op from v.clients goroutines until d has passed, each
// finishing the operation in hand; at least one operation always runs.
func loop(parent context.Context, v variant, d time.Duration) (runStats, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	clients := max(v.clients, 1)
	var (
		mu      sync.Mutex
		lat     []time.Duration
		rows    int64
		untimed time.Duration
		first   error
		wg      sync.WaitGroup
	)
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			var mine []time.Duration
			var n int64
			var off time.Duration
			for (c == 0 && len(mine) == 0) || time.Since(start) < d {
				if ctx.Err() != nil {
					break
				}
				t0 := time.Now()
				got, err := v.op(ctx)
				if err != nil {
					mu.Lock()
					if first == nil && !errors.Is(err, context.Canceled) {
						first = err
					}
					mu.Unlock()
					cancel()
					break
				}
				mine = append(mine, time.Since(t0))
				n += got
				if v.after != nil {
					t1 := time.Now()
					err := v.after(ctx)
					off += time.Since(t1)
					if err != nil {
						mu.Lock()
						first = cmp.Or(first, err)
						mu.Unlock()
						cancel()
						break
					}
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			rows += n
			untimed += off
			mu.Unlock()
		})
	}
	wg.Wait()
	// Untimed work is taken out per client: with several clients it ran
	// alongside the others' timed work.
	elapsed := time.Since(start) - untimed/time.Duration(clients)
	if first == nil {
		first = parent.Err()
	}
	if first != nil {
		return runStats{}, first
	}
	slices.Sort(lat)
	return runStats{lat: lat, rows: rows, elapsed: elapsed}, nil
}
