package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/tenant"
)

// runDatamapDiscover prints a draft data map for a schema titular has never
// seen. It only reads: a bounded sample of rows per table, in a read-only
// transaction.
func runDatamapDiscover(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("datamap discover", flag.ContinueOnError)
	dsn := fs.String("dsn", "", "database to scan, e.g. 'reader@tcp(127.0.0.1:3306)/crm' (read-only access is enough)")
	samples := fs.Int("samples", 200, "rows sampled per table (at most 1000)")
	var lf logFlags
	lf.register(fs)
	log, err := lf.parse(fs, args)
	if err != nil {
		return err
	}
	if *dsn == "" {
		return errors.New("--dsn is required, e.g. --dsn 'reader@tcp(127.0.0.1:3306)/crm'")
	}
	db, err := tenant.OpenDSN(ctx, *dsn, 1)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	start := time.Now()
	s, err := crm.Survey(ctx, db, crm.SurveyOptions{Rows: *samples})
	if err != nil {
		return err
	}
	if len(s.Schema.Tables) == 0 {
		return errors.New("the database has no tables; check the DSN's database name")
	}
	log.Debug("surveyed", "tables", len(s.Schema.Tables), "foreign_keys", len(s.ForeignKeys),
		"relations_measured", len(s.Relations), "elapsed", time.Since(start).Round(time.Millisecond))
	return writeDraft(os.Stdout, datamap.Discover(s), len(s.Schema.Tables))
}

func writeDraft(w io.Writer, d *datamap.Draft, tables int) error {
	header := fmt.Sprintf(`Draft data map written by titular datamap discover on %s from %d tables.
It is a starting point, not a verdict: review every entity and field, fill in
label, purpose, legal_basis, origin and retention, then run titular datamap check.
Each field's comment gives discovery's confidence (high, medium, low) and why.`,
		time.Now().UTC().Format("2006-01-02"), tables)
	out, err := d.YAML(header)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}
