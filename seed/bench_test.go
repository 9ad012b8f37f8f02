package seed

import (
	"context"
	"os"
	"testing"
)

// BenchmarkSeed100k loads the 100,000-titular tenant the bench and demo use:
//
//	go test -run '^$' -bench Seed100k -benchtime 1x ./seed/
func BenchmarkSeed100k(b *testing.B) {
	db := newDB(b)
	var s *Summary
	for b.Loop() {
		var err error
		s, err = Seed(context.Background(), db, Options{Subjects: 100_000, Seed: 1, HeavyInteractions: 10_000, Reset: true, Progress: os.Stderr})
		if err != nil {
			b.Fatal(err)
		}
	}
	var rows int64
	for _, n := range s.Rows {
		rows += n
	}
	b.Logf("rows per table: %v", s.Rows)
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(float64(rows)/s.Elapsed.Seconds(), "rows/s")
}
