package crm_test

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store/storetest"
)

// BenchmarkAnonymizeHeavyTitular anonymizes the broker of the seed scenario
// corretor_pesado (one broker with rows=N lead_interacoes) and compares it
// with a baseline that reads the same rows by key and writes the same new
// values with the same multi-row UPDATEs on one connection, with nothing
// else: no data map, no walk, no anonymizers. Each iteration runs both in a
// transaction that is rolled back (untimed), so every run starts from the
// same data. Reported, as medians over the iterations:
//
//	rows          rows changed per run
//	rows/s        the executor's rows changed per second
//	base-rows/s   the baseline's
//	ratio         rows/s over base-rows/s (goal >= 0.7)
//	peak-heap-MiB heap in use above the level before a run, sampled every
//	              millisecond over 3 untimed runs made first, with GOGC=10
//	              so garbage awaiting collection does not count as held
//	              (goal < 64, flat in the row count)
//
// Run: go test ./store -run '^$' -bench AnonymizeHeavy -benchtime 5x
func BenchmarkAnonymizeHeavyTitular(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) { benchAnonymize(b, n) })
	}
}

func benchAnonymize(b *testing.B, heavy int) {
	ctx := context.Background()
	db, _ := storetest.NewDatabase(b)
	sum, err := seed.Seed(ctx, db, seed.Options{Subjects: 200, Seed: 3, HeavyInteractions: heavy})
	if err != nil {
		b.Fatal(err)
	}
	var ids crm.Identifiers
	for _, sc := range sum.Scenarios {
		if sc.Name == seed.ScenarioHeavyBroker {
			ids = crm.Identifiers{CPF: sc.CPF, Email: sc.Email, Phone: sc.Phone}
		}
	}
	m, err := datamap.Load("../examples/realestate/datamap.yaml")
	if err != nil {
		b.Fatal(err)
	}
	plan, err := crm.PlanAnonymize(m, anonymize.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	key, err := anonymize.NewKey(testAnonKey)
	if err != nil {
		b.Fatal(err)
	}
	x := crm.New(time.Now)
	// Memory first, while the harness holds nothing big, and with a tight GC
	// target so uncollected garbage does not pass for memory held.
	var peaks []float64
	gc := debug.SetGCPercent(10)
	for range 3 {
		runtime.GC()
		peak := sampleHeap()
		runAnonymize(b, x, db, plan, key, ids, false)
		peaks = append(peaks, float64(peak())/(1<<20))
	}
	debug.SetGCPercent(gc)
	writes := captureWrites(b, x, db, plan, key, ids)
	var execTimes, baseTimes []float64
	var rows int64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		res := runAnonymize(b, x, db, plan, key, ids, true)
		execTimes = append(execTimes, time.Since(start).Seconds())
		rows = res.TotalRows

		b.StopTimer()
		conn, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start = time.Now()
		baseline(b, conn, writes)
		baseTimes = append(baseTimes, time.Since(start).Seconds())
		b.StopTimer()
		conn.Close()
		b.StartTimer()
	}
	b.StopTimer()
	if rows < int64(heavy) {
		b.Fatalf("anonymized %d rows, want at least the %d heavy ones", rows, heavy)
	}
	exec, base := medianOf(execTimes), medianOf(baseTimes)
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(float64(rows)/exec, "rows/s")
	b.ReportMetric(float64(rows)/base, "base-rows/s")
	b.ReportMetric(base/exec, "ratio")
	b.ReportMetric(medianOf(peaks), "peak-heap-MiB")
}

// runAnonymize runs the executor as the worker does and rolls it back
// (untimed) when rollback is set.
func runAnonymize(b *testing.B, x *crm.Executor, db *sql.DB, plan *crm.AnonymizePlan, key *anonymize.Key, ids crm.Identifiers, rollback bool) *crm.AnonymizeResult {
	ctx := context.Background()
	read, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		b.Fatal(err)
	}
	defer read.Rollback() //nolint:errcheck // read-only
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	res, err := x.Anonymize(ctx, read, tx, plan, key, ids)
	if err != nil {
		b.Fatal(err)
	}
	if rollback {
		b.StopTimer()
		defer b.StartTimer()
	}
	if err := tx.Rollback(); err != nil {
		b.Fatal(err)
	}
	return res
}

// captureWrites runs the executor once and captures what it wrote: the
// baseline then writes exactly that.
func captureWrites(b *testing.B, x *crm.Executor, db *sql.DB, plan *crm.AnonymizePlan, key *anonymize.Key, ids crm.Identifiers) *crm.AnonymizeWrites {
	w, err := x.CaptureAnonymizeWrites(context.Background(), db, plan, key, ids)
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// baseline replays the captured writes in one transaction on one
// connection, rolled back untimed.
func baseline(b *testing.B, conn *sql.Conn, writes *crm.AnonymizeWrites) {
	ctx := context.Background()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := writes.Replay(ctx, tx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if err := tx.Rollback(); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
}

// sampleHeap samples the bytes of live and not yet swept heap objects every
// millisecond until the returned function is called, which reports the peak
// above the level at the start.
func sampleHeap() func() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base, peak := read(), uint64(0)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peak {
				peak = v
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		if peak < base {
			return 0
		}
		return peak - base
	}
}

func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
