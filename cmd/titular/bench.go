package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/titular/titular/bench"
	"github.com/titular/titular/config"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.Options
	fs.StringVar(&o.DSN, "dsn", "", "database server, e.g. 'root@tcp(127.0.0.1:3306)/' (a bench database is created there)")
	fs.IntVar(&o.Subjects, "subjects", 10_000, "titulares to seed")
	fs.IntVar(&o.Heavy, "heavy", 100_000, "rows of the heavy titular (extract-xlsx-heavy, anonymize-heavy)")
	fs.IntVar(&o.LedgerLeaves, "ledger-leaves", 1_000_000, "ledger size for ledger-verify and ledger-proof (the bench grows the ledger to it)")
	fs.DurationVar(&o.Duration, "duration", 0, "length of one run of one variant (default 3s)")
	fs.IntVar(&o.Runs, "runs", 5, "measured runs per variant")
	fs.IntVar(&o.Clients, "clients", 32, "concurrent clients (concurrent scenario)")
	fs.IntVar(&o.Workers, "workers", 8, "titular workers per tenant")
	fs.StringVar(&o.Datamap, "datamap", "examples/realestate/datamap.yaml", "the demo data map")
	fs.BoolVar(&o.Keep, "keep", false, "reuse and keep the database titular_bench instead of a fresh one dropped at the end")
	scenarios := fs.String("scenario", "", "comma-separated scenarios or groups (e.g. ledger) to run (default all: "+scenarioNames()+")")
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
	o.Start = startBenchServer
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
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
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--render: %w", err)
	}
	var rep bench.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return fmt.Errorf("--render: %s is not a bench --json report: %w", path, err)
	}
	return rep.WriteTable(stdout)
}

// startBenchServer runs titular in-process exactly as `titular serve` does.
func startBenchServer(ctx context.Context, cfg *config.Config, log *slog.Logger) (*bench.Server, error) {
	a, err := start(ctx, cfg, log, startOptions{})
	if err != nil {
		return nil, err
	}
	return &bench.Server{GRPCAddr: a.GRPCAddr, HTTPAddr: a.HTTPAddr, Stop: a.Stop}, nil
}

func scenarioNames() string {
	var names []string
	for _, s := range bench.All() {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}
