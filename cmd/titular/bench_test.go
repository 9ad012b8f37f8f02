package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/titular/titular/bench"
	"github.com/titular/titular/store/storetest"
)

// TestBenchCommand runs `titular bench` at toy sizes and checks the report
// has every scenario with sane numbers. It asserts nothing about speed.
func TestBenchCommand(t *testing.T) {
	var out bytes.Buffer
	progress := &lockedBuffer{}
	err := runBench(context.Background(), []string{
		"--dsn", storetest.ServerDSN(), "--subjects", "50", "--heavy", "300", "--ledger-leaves", "3000", "--runs", "1",
		"--duration", "50ms", "--datamap", "../../examples/realestate/datamap.yaml", "--json",
	}, &out, progress)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, progress.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("bench --json output: %v\n%s", err, out.String())
	}
	if !strings.Contains(progress.String(), "run 1/1") {
		t.Errorf("no progress lines on stderr:\n%s", progress.String())
	}
	for _, s := range bench.All() {
		var variants, baselines int
		for _, r := range rep.Results {
			if r.Scenario != s.Name {
				continue
			}
			variants++
			if r.Baseline {
				baselines++
			}
			sane := r.Runs == 1 && r.Ops > 0 && r.MedianMS > 0 && r.P95MS >= r.MedianMS && r.P99MS >= r.P95MS &&
				r.OpsPerSec > 0 && r.Ratio > 0 && !math.IsInf(r.Ratio, 0) && r.PeakRSSMiB >= 0 && r.What != ""
			if !sane {
				t.Errorf("%s/%s: implausible result %+v", r.Scenario, r.Variant, r)
			}
			if !r.Baseline && (r.RatioMeans == "" || (r.Goal != "" && r.GoalMet == nil)) {
				t.Errorf("%s/%s: ratio or goal unexplained: %+v", r.Scenario, r.Variant, r)
			}
		}
		if variants < 2 || baselines != 1 {
			t.Errorf("scenario %s: %d variants, %d baselines; want a baseline and at least one measured variant", s.Name, variants, baselines)
		}
	}
	if rep.Machine.CPUs < 1 || rep.Machine.Database == "" {
		t.Errorf("machine description incomplete: %+v", rep.Machine)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, s := range bench.All() {
		if !strings.Contains(table.String(), s.Name) {
			t.Errorf("the table lacks scenario %s:\n%s", s.Name, table.String())
		}
	}
	assertDropped(t, rep.Database)
}

// assertDropped checks that a run without --keep left no database behind.
func assertDropped(t *testing.T, name string) {
	t.Helper()
	if !strings.HasPrefix(name, "titular_bench_") {
		t.Fatalf("bench database %q is not one the bench names itself", name)
	}
	db, err := sql.Open("mysql", storetest.ServerDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s was not dropped", name)
	}
}
