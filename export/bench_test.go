package export

import (
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"
)

// benchEntity has 20 columns of mixed kinds, like a wide CRM table.
func benchEntity() (Entity, []any) {
	kinds := []any{
		"Fulano de Tal da Silva", "fulano.tal@example.com", "+5511987654321", "Rua das Acácias, 123 — apto 45",
		"São Paulo", "SP", "01310-100", "Cliente interessado em unidade de 2 dormitórios",
		int64(123456), int64(42), int64(-7), 3.14159, 250000.5, true,
		time.Date(2025, 6, 1, 14, 30, 0, 0, time.UTC), time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC),
		Date{1990, time.May, 17}, Date{2024, time.December, 1}, Decimal("1234567.89"), nil,
	}
	e := Entity{Name: "bench", Label: "Dados de teste", Table: "bench", Purpose: "teste", LegalBasis: "consentimento"}
	for i := range kinds {
		e.Fields = append(e.Fields, Field{
			Name: fmt.Sprintf("coluna_%02d", i), Label: fmt.Sprintf("Coluna %d", i),
			Category: fmt.Sprintf("cat%d", i%4), CategoryLabel: "Categoria",
		})
	}
	return e, kinds
}

func benchWriteRow(b *testing.B, w Writer) {
	e, row := benchEntity()
	if err := w.Begin(newFixture().meta); err != nil {
		b.Fatal(err)
	}
	if err := w.BeginEntity(e); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WriteRow(row); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.EndEntity(); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkJSONWriteRow(b *testing.B) { benchWriteRow(b, NewJSON(io.Discard)) }

func BenchmarkXLSXWriteRow(b *testing.B) { benchWriteRow(b, NewXLSX(io.Discard)) }

// countingWriter measures output size without keeping it, and samples the
// heap (garbage included, so an upper bound) once per MiB written.
type countingWriter struct {
	n, nextSample int64
	peakMB        float64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.n >= c.nextSample {
		c.nextSample = c.n + 1<<20
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		c.peakMB = max(c.peakMB, float64(ms.HeapInuse)/(1<<20))
	}
	return len(p), nil
}

// liveHeapMB returns HeapInuse after a collection: memory the writer holds,
// not garbage awaiting collection.
func liveHeapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapInuse) / (1 << 20)
}

// bench200k writes 200,000 rows of 20 cells and reports the live heap
// before, after 20k rows and after 200k rows (flat memory shows as the
// last two being close, not 10x apart), after Close, and the highest heap
// seen while output was written (the XLSX zip is written at Close).
func bench200k(b *testing.B, newWriter func(io.Writer) Writer) {
	const rows, early = 200_000, 20_000
	e, row := benchEntity()
	var before, at20k, at200k, after, outMB, peakMB float64
	for b.Loop() {
		out := &countingWriter{}
		before = liveHeapMB()
		w := newWriter(out)
		if err := w.Begin(newFixture().meta); err != nil {
			b.Fatal(err)
		}
		if err := w.BeginEntity(e); err != nil {
			b.Fatal(err)
		}
		for i := range rows {
			if i == early {
				at20k = liveHeapMB()
			}
			if err := w.WriteRow(row); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.EndEntity(); err != nil {
			b.Fatal(err)
		}
		at200k = liveHeapMB()
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		after = liveHeapMB()
		outMB, peakMB = float64(out.n)/(1<<20), out.peakMB
	}
	b.ReportMetric(before, "heap-before-MB")
	b.ReportMetric(at20k, "heap-20k-MB")
	b.ReportMetric(at200k, "heap-200k-MB")
	b.ReportMetric(after, "heap-closed-MB")
	b.ReportMetric(peakMB, "heap-writing-peak-MB")
	b.ReportMetric(outMB, "output-MB")
}

func BenchmarkJSON200kRows(b *testing.B) { bench200k(b, NewJSON) }

func BenchmarkXLSX200kRows(b *testing.B) { bench200k(b, NewXLSX) }
