package bench

import (
	"context"
	"database/sql"
	"io"
	"testing"
	"time"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/export"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
	"github.com/titular/titular/store/storetest"
	"github.com/titular/titular/tenant"
)

// benchEnv seeds a fresh database for the profiling benchmarks below; no
// server is started.
func benchEnv(b *testing.B, subjects, heavy int) *Env {
	b.Helper()
	// Opened as titular opens a tenant (interpolated arguments, one round
	// trip a statement), as titular bench does.
	_, dsn := storetest.NewDatabase(b)
	db, err := tenant.OpenDSN(context.Background(), dsn, 8)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	m, err := datamap.Load("../examples/realestate/datamap.yaml")
	if err != nil {
		b.Fatal(err)
	}
	env := &Env{opts: Options{Subjects: subjects, Heavy: heavy, Progress: io.Discard}, db: db, m: m, started: time.Now()}
	if err := env.seed(context.Background()); err != nil {
		b.Fatal(err)
	}
	return env
}

// BenchmarkExtract runs the extract scenarios' operations under go test, so
// they can be profiled:
//
//	go test -run '^$' -bench Extract -cpuprofile cpu.out -memprofile mem.out ./bench/
//	go tool pprof -top bench.test cpu.out
//
// queries/op counts the SQL statements titular's walk sends.
func BenchmarkExtract(b *testing.B) {
	env := benchEnv(b, 10_000, 100_000)
	ctx := context.Background()
	cases := []struct {
		name     string
		scenario string
		titular  func(ids store.Identifiers) (int64, error)
		baseline func(ids store.Identifiers) (int64, error)
	}{
		{"json", seed.ScenarioBuyer2023,
			func(ids store.Identifiers) (int64, error) {
				return env.titularExtract(ctx, ids, export.NewJSON(io.Discard))
			},
			func(ids store.Identifiers) (int64, error) {
				return env.handExtract(ctx, ids, newJSONBaseline(io.Discard))
			}},
		{"xlsx-heavy", seed.ScenarioHeavyBroker,
			func(ids store.Identifiers) (int64, error) {
				return env.titularExtract(ctx, ids, export.NewXLSX(io.Discard))
			},
			func(ids store.Identifiers) (int64, error) {
				return env.handExtract(ctx, ids, newXLSXBaseline(io.Discard))
			}},
	}
	for _, c := range cases {
		ids, err := env.subject(c.scenario)
		if err != nil {
			b.Fatal(err)
		}
		for name, run := range map[string]func(store.Identifiers) (int64, error){"titular": c.titular, "baseline": c.baseline} {
			b.Run(c.name+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				var rows int64
				for b.Loop() {
					if rows, err = run(ids); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(rows), "rows/op")
			})
		}
		b.Run(c.name+"/walk-only", func(b *testing.B) {
			b.ReportAllocs()
			q := &countingQuerier{Querier: env.db}
			for b.Loop() {
				q.n = 0
				if _, err := crm.Walk(ctx, q, env.m, ids, &countSink{rows: map[string]int64{}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(q.n), "queries/op")
		})
	}
}

// countingQuerier counts the queries a walk sends.
type countingQuerier struct {
	store.Querier
	n int
}

func (c *countingQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	c.n++
	return c.Querier.QueryContext(ctx, query, args...)
}
