package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/titular/titular/bench"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.Options
	fs.StringVar(&o.DSN, "dsn", "", "database server, e.g. 'root@tcp(127.0.0.1:3306)/' (a bench database is created there)")
	fs.IntVar(&o.Subjects, "subjects", 10_000, "titulares to seed")
	fs.IntVar(&o.Heavy, "heavy", 100_000, "rows of the heavy titular (extract-xlsx-heavy, anonymize-heavy)")
	fs.IntVar(&o.LedgerLeaves, "ledger-leaves", 1_000_000, "ledger size for ledger-verify and ledger-proof (the bench grows the ledger to it)")
	fs.DurationVar(&o.Duration, "duration", 0, "length of one run of one variant (default 3s)")
	fs.IntVar(&o.Runs, "runs", 5, "measured runs per variant")
	fs.IntVar(&o.Clients, "clients", 32, "concurrent clients (concurrent scenario; fleet: the gRPC clients creating a burst)")
	fs.IntVar(&o.Workers, "workers", 8, "titular workers per tenant")
	fs.StringVar(&o.Datamap, "datamap", "examples/realestate/datamap.yaml", "the demo data map")
	fs.BoolVar(&o.Keep, "keep", false, "reuse and keep the database titular_bench instead of a fresh one dropped at the end")
	scenarios := fs.String("scenario", "", "comma-separated scenarios or groups (e.g. ledger) to run (default all: "+scenarioNames()+
		"); "+bench.FleetScenario+" runs only on its own: many tenants served by titular serve as a child process")
	fo := &o.Fleet
	fs.IntVar(&fo.Tenants, "tenants", 300, "fleet: tenant databases to create and serve")
	fs.IntVar(&fo.Unreachable, "fleet-unreachable", 5, "fleet: tenants added whose database never answers (0 for none)")
	fs.DurationVar(&fo.Settle, "fleet-settle", 90*time.Second, "fleet: time after ready before the idle window, for the backstop polls to slow down")
	fs.DurationVar(&fo.Idle, "fleet-idle", 60*time.Second, "fleet: the idle window")
	fs.IntVar(&fo.Samples, "fleet-samples", 100, "fleet: requests the claim latency is measured on, one at a time")
	fs.IntVar(&fo.BurstTenants, "fleet-burst-tenants", 100, "fleet: tenants that receive a burst at once")
	fs.IntVar(&fo.BurstRequests, "fleet-burst", 10, "fleet: EXTRACTs per tenant in a burst")
	fs.IntVar(&fo.Noisy, "fleet-noisy", 200, "fleet: EXTRACTs queued on one tenant while others' latency is measured")
	fs.IntVar(&fo.Rounds, "fleet-rounds", 3, "fleet: rounds of the burst and noisy-neighbour measurements")
	fs.IntVar(&fo.Provisioners, "fleet-provisioners", 8, "fleet: tenant databases created at once")
	fs.DurationVar(&fo.StartTimeout, "fleet-start-timeout", 5*time.Minute, "fleet: how long titular may take to be ready")
	fs.StringVar(&fo.Datamap, "fleet-datamap", "examples/fleet/datamap.yaml", "fleet: the data map of every fleet tenant")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	render := fs.String("render", "", "print a report saved with --json as a table, and run nothing")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (server included) to this file")
	var lf logFlags
	lf.register(fs)
	// The server under measurement logs errors only unless asked: logging
	// every call would be part of what is measured.
	_ = fs.Set("log-level", "error")
	_ = fs.Set("log-format", "text")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	if *render != "" {
		return renderReport(*render, stdout)
	}
	if o.DSN == "" {
		return errors.New("--dsn is required, e.g. --dsn 'root@tcp(127.0.0.1:3306)/'")
	}
	if *scenarios != "" {
		o.Scenarios = strings.Split(*scenarios, ",")
	}
	o.Progress = stderr
	o.Log = log
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: find the titular executable to run serve from: %w", err)
	}
	o.ServeCommand = []string{self, "serve"}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return errors.Join(fmt.Errorf("--cpuprofile: %w", err), f.Close())
		}
		defer func() {
			// The profile is written out by StopCPUProfile: a failed Close
			// can mean it is incomplete.
			pprof.StopCPUProfile()
			if cerr := f.Close(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("--cpuprofile: %w", cerr))
			}
		}()
	}
	rep, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteTable(stdout)
}

// renderReport prints a saved JSON report as a table.
func renderReport(path string, stdout io.Writer) error {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the report to render (--render)
	if err != nil {
		return fmt.Errorf("--render: %w", err)
	}
	var rep bench.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return fmt.Errorf("--render: %s is not a bench --json report: %w", path, err)
	}
	return rep.WriteTable(stdout)
}

func scenarioNames() string {
	var names []string
	for _, s := range bench.All() {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}
