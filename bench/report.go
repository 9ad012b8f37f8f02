package bench

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one variant of one scenario. Times and rates are medians over
// the runs of each run's own figure; PeakRSSMiB is the highest run's.
type Result struct {
	Scenario string `json:"scenario"`
	Variant  string `json:"variant"`
	Baseline bool   `json:"baseline"`
	What     string `json:"what"` // what one operation is
	Runs     int    `json:"runs"`
	Ops      int    `json:"ops"` // operations measured over all runs
	Clients  int    `json:"clients"`

	MedianMS   float64 `json:"median_ms"`
	P95MS      float64 `json:"p95_ms"`
	P99MS      float64 `json:"p99_ms"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	RowsPerSec float64 `json:"rows_per_sec"`
	// PeakRSSMiB is the process's peak resident memory above idle during a
	// run; -1 where it could not be read.
	PeakRSSMiB float64 `json:"peak_rss_mib"`

	// Ratio compares the variant with the scenario's baseline (1 for the
	// baseline itself), as RatioMeans says.
	Ratio      float64 `json:"ratio"`
	RatioMeans string  `json:"ratio_means"`
	Goal       string  `json:"goal,omitempty"`
	GoalMet    *bool   `json:"goal_met,omitempty"`
}

// Report is a whole bench run.
type Report struct {
	Machine   Machine        `json:"machine"`
	Options   map[string]any `json:"options"`
	Database  string         `json:"database"`
	StartedAt time.Time      `json:"started_at"`
	Elapsed   string         `json:"elapsed"`
	Results   []Result       `json:"results"`
	// Figures are the measurements that are not comparisons (the fleet
	// scenario's).
	Figures []Figure `json:"figures,omitempty"`
}

// Machine describes where the numbers were measured.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	MemTotal  string `json:"mem_total"`
	Database  string `json:"database_version"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
}

func describeMachine(ctx context.Context, db *sql.DB) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		CPUModel: procField("/proc/cpuinfo", "model name"), MemTotal: memTotal()}
	_ = db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&m.Database)
	return m
}

// memTotal returns /proc/meminfo's MemTotal in GiB.
func memTotal() string {
	f := strings.Fields(procField("/proc/meminfo", "MemTotal"))
	if len(f) != 2 || f[1] != "kB" {
		return "unknown"
	}
	kb, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB RAM", kb/(1<<20))
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path) //nolint:gosec // G304: callers pass fixed /proc paths
	if err != nil {
		return "unknown"
	}
	defer func() { _ = f.Close() }() // read-only
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func reportOptions(o Options) map[string]any {
	return map[string]any{
		"subjects": o.Subjects, "heavy": o.Heavy, "ledger_leaves": o.LedgerLeaves, "duration": o.Duration.String(), "runs": o.Runs,
		"clients": o.Clients, "workers": o.Workers, "keep": o.Keep,
	}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as a text table, then what each variant
// times and what each ratio means.
func (r *Report) WriteTable(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "titular bench — %d CPUs (%s), %s, %s, %s", m.CPUs, m.CPUModel, m.MemTotal, m.Database, m.GoVersion)
	if len(r.Results) == 0 {
		fmt.Fprintf(w, "; %s\n\n", r.Elapsed)
		return writeFigures(w, r.Figures)
	}
	fmt.Fprintf(w, "; %v runs of %v per variant\n\n", r.Options["runs"], r.Options["duration"])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tvariant\tclients\tops\tmedian\tp95\tp99\tops/s\trows/s\tpeak RSS\tratio\tgoal\t")
	for _, x := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%.1f\t%.0f\t%s\t%.2f\t%s\t\n",
			x.Scenario, x.Variant, x.Clients, x.Ops, msText(x.MedianMS), msText(x.P95MS), msText(x.P99MS),
			x.OpsPerSec, x.RowsPerSec, rssText(x.PeakRSSMiB), x.Ratio, goalText(x))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	seen := map[string]bool{}
	for _, x := range r.Results {
		fmt.Fprintf(w, "%s/%s: %s\n", x.Scenario, x.Variant, x.What)
		if !x.Baseline && !seen[x.Scenario] {
			seen[x.Scenario] = true
			fmt.Fprintf(w, "  ratio = %s\n", x.RatioMeans)
		}
	}
	_, err := fmt.Fprintln(w, "\nTimes and rates are medians over runs; peak RSS is the highest run's, above idle, for the whole process.")
	return err
}

func msText(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2fs", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}

func rssText(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", v)
}

func goalText(x Result) string {
	switch {
	case x.GoalMet == nil:
		return "-"
	case *x.GoalMet:
		return x.Goal + " met"
	}
	return x.Goal + " MISSED"
}
