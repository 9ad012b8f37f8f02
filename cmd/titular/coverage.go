package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/tenant"
)

// coverageDoc is `datamap coverage --format json`: version 1 of a stable
// document. Its fields, beside the tenant and the map's path, are
// crm.CoverageReport's (requested, titulares, reached {rows, tables},
// unreached {rows, tables, unmapped_tables}, tables [...], unread_columns
// [...]) and the one-paragraph summary. It holds counts and names only.
type coverageDoc struct {
	Version int    `json:"version"`
	Tenant  string `json:"tenant"`
	Datamap string `json:"datamap"`
	*crm.CoverageReport
	// ScanRows bounds, per table, the rows searched inside their text.
	ScanRows int    `json:"scan_rows"`
	Summary  string `json:"summary"`
}

// runDatamapCoverage samples titulares of one tenant's CRM and reports,
// per table, what the data map reaches of them and what holds their
// identifiers unreached. It only reads, in read-only transactions.
func runDatamapCoverage(ctx context.Context, args []string, out io.Writer) error {
	cmd := newConfigCommand("datamap coverage")
	tenantID := cmd.fs.String("tenant", "", "tenant id (required)")
	samples := cmd.fs.Int("samples", 20, "titulares to sample (at most 200)")
	scanRows := cmd.fs.Int("scan-rows", 100_000, "rows per table whose text is searched inside for the sampled identifiers (whole values are compared in every row)")
	format := cmd.fs.String("format", "text", "output: text (an aligned table) or json")
	cfg, log, err := cmd.load(args)
	if err != nil {
		return err
	}
	if *tenantID == "" {
		return errors.New("datamap coverage: --tenant is required; 'titular tenants list --config FILE' shows the ids")
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("datamap coverage: --format %q: use text or json", *format)
	}
	if *samples <= 0 || *samples > 200 {
		return fmt.Errorf("datamap coverage: --samples %d: use a number from 1 to 200", *samples)
	}
	if *scanRows <= 0 {
		return fmt.Errorf("datamap coverage: --scan-rows %d: use a positive number of rows", *scanRows)
	}
	tc, ok := cfg.Tenant(*tenantID)
	if !ok {
		return fmt.Errorf("datamap coverage: tenant %q is not in the config; 'titular tenants list --config FILE' shows the ids", *tenantID)
	}
	m, err := datamap.Load(tc.Datamap, crm.DatamapOptions(anonymize.NewRegistry())...)
	if err != nil {
		return fmt.Errorf("tenant %s: data map %s has problems; fix them (titular datamap check lists them):\n%w", tc.ID, tc.Datamap, err)
	}
	db, err := tenant.Open(ctx, tc)
	if err != nil {
		return fmt.Errorf("%w; check the tenant's DSN and that its database server is up", err)
	}
	defer func() { _ = db.Close() }()
	s, err := crm.Survey(ctx, db, crm.SurveyOptions{})
	if err != nil {
		return fmt.Errorf("tenant %s: %w", tc.ID, err)
	}
	if len(s.Schema.Tables) == 0 {
		return fmt.Errorf("tenant %s: the database has no CRM tables; check the DSN's database name", tc.ID)
	}
	if err := m.CheckSchema(s.Schema); err != nil {
		return fmt.Errorf("tenant %s: data map %s does not match the live schema; fix it (titular datamap check lists the problems):\n%w", tc.ID, tc.Datamap, err)
	}
	log.Debug("sampling titulares", "tenant", tc.ID, "samples", *samples)
	rep, err := crm.Coverage(ctx, db, m, crm.CoverageOptions{Titulares: *samples, ScanRows: *scanRows, Survey: s})
	if err != nil {
		return fmt.Errorf("tenant %s: coverage: %w", tc.ID, err)
	}
	doc := coverageDoc{Version: 1, Tenant: tc.ID, Datamap: tc.Datamap, CoverageReport: rep, ScanRows: *scanRows, Summary: rep.Summary()}
	if *format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	return writeCoverageText(out, doc)
}

// writeCoverageText prints the report as an aligned table, then the
// unread columns and the summary.
func writeCoverageText(out io.Writer, d coverageDoc) error {
	var b strings.Builder
	fmt.Fprintf(&b, "tenant %s: data map %s, %d sampled titulares (%d asked)\n\n", d.Tenant, d.Datamap, d.Titulares, d.Requested)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "TABLE\tENTITIES\tREACHED\tMEDIAN\tMAX\tTITULARES\tHOLD IDS\tUNREACHED\n")
	partial := false
	var notes []string
	for _, t := range d.Tables {
		entities := strings.Join(t.Entities, ",")
		if entities == "" {
			entities = "(unmapped)"
		}
		held := strconv.FormatInt(t.IdentifierRows, 10)
		if t.Partial {
			held += "*"
			partial = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%s\t%d\n", t.Table, entities, t.ReachedRows,
			strconv.FormatFloat(t.MedianPerTitular, 'f', -1, 64), t.MaxPerTitular, t.TitularesReached, held, t.UnreachedRows)
		for _, c := range t.UnreachedColumns {
			notes = append(notes, fmt.Sprintf("  %s.%s: %d rows (%s)", t.Table, c.Column, c.Rows, strings.Join(c.Kinds, ", ")))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(&b, "\nREACHED: distinct rows the map reaches for the sample; MEDIAN, MAX: per titular; TITULARES: sampled titulares with a row here;")
	fmt.Fprintln(&b, "HOLD IDS: rows holding a sampled titular's CPF, e-mail or phone; UNREACHED: of those, rows the map does not reach for that titular.")
	if partial {
		fmt.Fprintf(&b, "* text searched inside in the first %d rows of the table only (--scan-rows); whole values in every row\n", d.ScanRows)
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, "\nUnreached rows by column:\n%s\n", strings.Join(notes, "\n"))
	}
	if len(d.UnreadColumns) > 0 {
		fmt.Fprintf(&b, "\nPersonal-looking columns no entity reads (%d):\n", len(d.UnreadColumns))
		for _, c := range d.UnreadColumns {
			fmt.Fprintf(&b, "  %s.%s (%s): %s\n", c.Table, c.Column, c.Kind, c.Reason)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", d.Summary)
	_, err := io.WriteString(out, b.String())
	return err
}
