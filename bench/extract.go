package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/export"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/service"
	"github.com/titular/titular/store"
)

func extractJSONScenario() Scenario {
	return Scenario{
		Name: "extract-json",
		About: "EXTRACT of a typical titular (comprador_2023, by CPF, e-mail and phone): " +
			"snapshot tx + data-map walk + JSON export vs hand-written SQL + hand-written JSON",
		Run: func(ctx context.Context, env *Env) ([]Result, error) {
			ids, err := env.subject(seed.ScenarioBuyer2023)
			if err != nil {
				return nil, err
			}
			if err := env.checkSameRows(ctx); err != nil {
				return nil, err
			}
			return compare(ctx, env, comparison{
				scenario: "extract-json",
				variants: []variant{
					{name: "baseline", what: "hand-written SQL on database/sql, rows written as JSON by hand",
						op: func(ctx context.Context) (int64, error) {
							return env.handExtract(ctx, ids, newJSONBaseline(io.Discard))
						}},
					{name: "titular", what: "worker path without the queue: snapshot tx, crm.Walk, service.NewExportSink, export.NewJSON",
						op: func(ctx context.Context) (int64, error) {
							return env.titularExtract(ctx, ids, export.NewJSON(io.Discard))
						}},
				},
				ratio: timeRatio, ratioMeans: "titular median time / baseline median time",
				goal: goal{text: "ratio ≤ 1.3", met: func(r Result) bool { return r.Ratio <= 1.3 }},
			})
		},
	}
}

func extractXLSXHeavyScenario() Scenario {
	return Scenario{
		Name: "extract-xlsx-heavy",
		About: "EXTRACT to XLSX of the heavy titular (corretor_pesado): " +
			"snapshot tx + data-map walk + XLSX export vs the same rows through excelize's StreamWriter",
		Run: func(ctx context.Context, env *Env) ([]Result, error) {
			ids, err := env.subject(seed.ScenarioHeavyBroker)
			if err != nil {
				return nil, err
			}
			return compare(ctx, env, comparison{
				scenario: "extract-xlsx-heavy",
				variants: []variant{
					{name: "baseline", what: "hand-written SQL on database/sql, one excelize StreamWriter sheet per entity",
						op: func(ctx context.Context) (int64, error) {
							return env.handExtract(ctx, ids, newXLSXBaseline(io.Discard))
						}},
					{name: "titular", what: "worker path without the queue: snapshot tx, crm.Walk, service.NewExportSink, export.NewXLSX",
						op: func(ctx context.Context) (int64, error) {
							return env.titularExtract(ctx, ids, export.NewXLSX(io.Discard))
						}},
				},
				ratio: speedRatio, ratioMeans: "speed relative to the baseline: baseline median time / titular median time",
				goal: goal{text: "ratio ≥ 0.8, peak RSS < 64 MiB", met: func(r Result) bool {
					return r.Ratio >= 0.8 && r.PeakRSSMiB >= 0 && r.PeakRSSMiB < 64
				}},
			})
		},
	}
}

// titularExtract is what the EXTRACT worker does for one export format,
// without the queue and without encrypting and storing the file: a
// read-only snapshot (InnoDB's default REPEATABLE READ, as the worker opens it), the data-map walk into the worker's
// sink, the export writer to io.Discard. It returns the rows exported.
func (e *Env) titularExtract(ctx context.Context, ids store.Identifiers, w export.Writer) (int64, error) {
	read, err := e.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("begin snapshot: %w", err)
	}
	defer read.Rollback() //nolint:errcheck // read-only
	now := time.Now().UTC()
	if err := w.Begin(export.Meta{RequestID: "00000000-0000-4000-8000-000000000000", Tenant: tenantID,
		TenantName: "Incorporadora Benchmark Ltda", Kind: "EXTRACT", ReceivedAt: now, DueAt: now.Add(15 * 24 * time.Hour),
		GeneratedAt: now, SubjectRef: "bench"}); err != nil {
		return 0, err
	}
	counts, err := crm.Walk(ctx, read, e.m, ids, service.NewExportSink(w))
	if err != nil {
		_ = w.Close()
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	var n int64
	for _, c := range counts {
		n += c.Rows
	}
	return n, nil
}

// baselineSink is a hand-written writer the baseline fetch feeds.
type baselineSink interface {
	crm.Sink
	finish() error
}

// handExtract is the baseline: handFetch into a hand-written writer.
func (e *Env) handExtract(ctx context.Context, ids store.Identifiers, sink baselineSink) (int64, error) {
	c := &countSink{next: sink, rows: map[string]int64{}}
	if err := handFetch(ctx, e.db, e.m, ids, c); err != nil {
		return 0, err
	}
	return c.total, sink.finish()
}

// checkSameRows makes sure the baseline reads what titular reads: for every
// seeded scenario, the same number of rows per entity. A baseline that read
// less would flatter titular.
func (e *Env) checkSameRows(ctx context.Context) error {
	for name, ids := range e.subjects {
		walked := &countSink{rows: map[string]int64{}}
		if _, err := crm.Walk(ctx, e.db, e.m, ids, walked); err != nil {
			return fmt.Errorf("walk %s: %w", name, err)
		}
		hand := &countSink{rows: map[string]int64{}}
		if err := handFetch(ctx, e.db, e.m, ids, hand); err != nil {
			return fmt.Errorf("baseline %s: %w", name, err)
		}
		for _, ent := range e.m.Order() {
			if walked.rows[ent.Name] != hand.rows[ent.Name] {
				return fmt.Errorf("scenario %s, entity %s: titular reads %d rows, the hand-written baseline %d; fix bench/handsql.go",
					name, ent.Name, walked.rows[ent.Name], hand.rows[ent.Name])
			}
		}
	}
	return nil
}

// countSink counts rows per entity and passes everything on to next, if any.
type countSink struct {
	next  crm.Sink
	rows  map[string]int64
	total int64
}

func (c *countSink) BeginEntity(e *datamap.Entity) error {
	if c.next == nil {
		return nil
	}
	return c.next.BeginEntity(e)
}

func (c *countSink) Row(values []any) error {
	c.total++
	if c.next == nil {
		return nil
	}
	return c.next.Row(values)
}

func (c *countSink) EndEntity(e *datamap.Entity, rows int64) error {
	c.rows[e.Name] += rows
	if c.next == nil {
		return nil
	}
	return c.next.EndEntity(e, rows)
}
