package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/go-sql-driver/mysql"

	"github.com/titular/titular/seed"
	"github.com/titular/titular/tenant"
)

func runSeed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	dsn := fs.String("dsn", "", "database to seed, e.g. 'root@tcp(127.0.0.1:3306)/titular_demo' (created if missing)")
	subjects := fs.Int("subjects", 2000, "number of titulares")
	seedN := fs.Int64("seed", 1, "random seed: the same seed and size give the same rows")
	heavy := fs.Int("heavy", 0, "if > 0, one broker gets this many interaction rows (a heavy titular for benchmarks)")
	reset := fs.Bool("reset", false, "drop and recreate the demo tables first")
	var lf logFlags
	lf.register(fs)
	log, err := lf.parse(fs, args)
	if err != nil {
		return err
	}
	if *dsn == "" {
		return errors.New("--dsn is required, e.g. --dsn 'root@tcp(127.0.0.1:3306)/titular_demo'")
	}
	if *subjects < 1 {
		return errors.New("--subjects must be at least 1")
	}
	if err := createDatabase(ctx, *dsn); err != nil {
		return err
	}
	db, err := tenant.OpenDSN(ctx, *dsn, 4)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	sum, err := seed.Seed(ctx, db, seed.Options{Subjects: *subjects, Seed: *seedN, HeavyInteractions: *heavy, Reset: *reset, Progress: os.Stderr})
	if err != nil {
		return err
	}
	log.Debug("seeded", "subjects", sum.Subjects, "elapsed_ms", sum.Elapsed.Milliseconds())
	fmt.Printf("seeded %d titulares in %s\n", sum.Subjects, sum.Elapsed.Round(1e6))
	tables := make([]string, 0, len(sum.Rows))
	for t := range sum.Rows {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		fmt.Printf("  %-22s %8d rows\n", t, sum.Rows[t])
	}
	fmt.Println("scenarios (synthetic identifiers, for trying the API):")
	for _, s := range sum.Scenarios {
		fmt.Printf("  %-28s cpf=%s email=%s phone=%s\n", s.Name, s.CPF, s.Email, s.Phone)
	}
	return nil
}

// createDatabase creates the DSN's database when it does not exist, so a
// newcomer's first seed needs no manual CREATE DATABASE.
func createDatabase(ctx context.Context, dsn string) error {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return errors.New("--dsn is not valid; expected user:password@tcp(host:3306)/database")
	}
	name := cfg.DBName
	if name == "" {
		return errors.New("--dsn names no database; append /database_name")
	}
	cfg.DBName = ""
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return fmt.Errorf("open server: %w", err)
	}
	defer func() { _ = db.Close() }()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+name+"` CHARACTER SET utf8mb4"); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
