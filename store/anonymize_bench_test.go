package store

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titular/titular/anonymize"
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
	var ids Identifiers
	for _, sc := range sum.Scenarios {
		if sc.Name == seed.ScenarioHeavyBroker {
			ids = Identifiers{CPF: sc.CPF, Email: sc.Email, Phone: sc.Phone}
		}
	}
	m, err := datamap.Load("../examples/realestate/datamap.yaml")
	if err != nil {
		b.Fatal(err)
	}
	plan, err := PlanAnonymize(m, anonymize.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	key, err := anonymize.NewKey(testAnonKey)
	if err != nil {
		b.Fatal(err)
	}
	s := New(db)
	// Memory first, while the harness holds nothing big, and with a tight GC
	// target so uncollected garbage does not pass for memory held.
	var peaks []float64
	gc := debug.SetGCPercent(10)
	for range 3 {
		runtime.GC()
		peak := sampleHeap()
		runAnonymize(b, s, db, plan, key, ids, false)
		peaks = append(peaks, float64(peak())/(1<<20))
	}
	debug.SetGCPercent(gc)
	writes := captureWrites(b, s, db, plan, key, ids)
	var execTimes, baseTimes []float64
	var rows int64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		res := runAnonymize(b, s, db, plan, key, ids, true)
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
func runAnonymize(b *testing.B, s *Store, db *sql.DB, plan *AnonymizePlan, key *anonymize.Key, ids Identifiers, rollback bool) *AnonymizeResult {
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
	res, err := s.AnonymizeSubject(ctx, read, tx, plan, key, ids, "")
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

// tableWrites is what the executor wrote to one entity: for each changed
// row, its key and the new values of the planned fields.
type tableWrites struct {
	e      *datamap.Entity
	fields []string
	keys   [][]any
	values [][]any // [row][field]
}

// captureWrites runs the executor once, reads back in its transaction what
// it wrote, and rolls back: the baseline then writes exactly that.
func captureWrites(b *testing.B, s *Store, db *sql.DB, plan *AnonymizePlan, key *anonymize.Key, ids Identifiers) []*tableWrites {
	ctx := context.Background()
	before := subjectRowsB(b, db, plan.m, ids)
	read, _ := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	defer read.Rollback() //nolint:errcheck // read-only
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // captured, then undone
	if _, err := s.AnonymizeSubject(ctx, read, tx, plan, key, ids, ""); err != nil {
		b.Fatal(err)
	}
	var out []*tableWrites
	for _, e := range plan.m.Order() {
		ep := plan.entities[e.Name]
		if len(ep.fields) == 0 || len(before[e.Name]) == 0 {
			continue
		}
		w := &tableWrites{e: e}
		for _, f := range ep.fields {
			w.fields = append(w.fields, f.f.Column)
		}
		for _, k := range before[e.Name] {
			vals := make([]any, len(w.fields))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := tx.QueryRowContext(ctx, "SELECT "+joinQuoted(w.fields)+" FROM "+quoteIdent(e.Table)+" WHERE "+keyWhere(e), k...).Scan(ptrs...); err != nil {
				b.Fatal(err)
			}
			w.keys, w.values = append(w.keys, k), append(w.values, vals)
		}
		out = append(out, w)
	}
	return out
}

// baseline reads the rows by key and writes the captured values with
// multi-row UPDATEs in batches of writeBatch, in one transaction on one
// connection, rolled back untimed.
func baseline(b *testing.B, conn *sql.Conn, writes []*tableWrites) {
	ctx := context.Background()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, w := range writes {
		kc := len(w.e.Key)
		for start := 0; start < len(w.keys); start += writeBatch {
			end := min(start+writeBatch, len(w.keys))
			keys, vals := w.keys[start:end], w.values[start:end]
			in := kc == 1
			marks := make([]string, len(keys))
			var keyArgs []any
			for i, k := range keys {
				marks[i] = "?"
				if !in {
					marks[i] = "(" + placeholders(kc) + ")"
				}
				keyArgs = append(keyArgs, k...)
			}
			lhs := joinQuoted(w.e.Key)
			if !in {
				lhs = "(" + lhs + ")"
			}
			where := " WHERE " + lhs + " IN (" + strings.Join(marks, ", ") + ")"
			rows, err := tx.QueryContext(ctx, "SELECT "+joinQuoted(w.e.Key)+", "+joinQuoted(w.fields)+" FROM "+quoteIdent(w.e.Table)+where, keyArgs...)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
			}
			rows.Close()
			var sets []string
			var args []any
			for f, col := range w.fields {
				uniform := true
				for _, v := range vals {
					uniform = uniform && sameValue(v[f], vals[0][f])
				}
				if uniform {
					sets, args = append(sets, quoteIdent(col)+" = ?"), append(args, vals[0][f])
					continue
				}
				var c strings.Builder
				c.WriteString(quoteIdent(col) + " = CASE " + quoteIdent(w.e.Key[0]))
				for i, k := range keys {
					c.WriteString(" WHEN ? THEN ?")
					args = append(args, k[0], vals[i][f])
				}
				c.WriteString(" ELSE " + quoteIdent(col) + " END")
				sets = append(sets, c.String())
			}
			if _, err := tx.ExecContext(ctx, "UPDATE "+quoteIdent(w.e.Table)+" SET "+strings.Join(sets, ", ")+where, append(args, keyArgs...)...); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	if err := tx.Rollback(); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
}

// subjectRowsB collects the keys of the titular's rows per entity.
func subjectRowsB(b *testing.B, q Querier, m *datamap.Map, ids Identifiers) map[string][][]any {
	r := &keyCollector{keys: map[string][][]any{}}
	if _, err := WalkWith(context.Background(), q, m, ids, r, WalkOptions{}); err != nil {
		b.Fatal(err)
	}
	return r.keys
}

type keyCollector struct {
	cur  string
	keys map[string][][]any
}

func (k *keyCollector) BeginEntity(e *datamap.Entity) error    { k.cur = e.Name; return nil }
func (k *keyCollector) Row([]any) error                        { return nil }
func (k *keyCollector) EndEntity(*datamap.Entity, int64) error { return nil }
func (k *keyCollector) KeyedRow(key, _, _ []any) error {
	k.keys[k.cur] = append(k.keys[k.cur], key)
	return nil
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
