package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/titular/titular/store"
)

// tenantStatus is one line of `titular tenants list`. Pointers are unknown
// (the database did not answer, or has no lgpd_ tables yet) when nil.
type tenantStatus struct {
	ID            string `json:"id"`
	Source        string `json:"source"`
	Server        string `json:"server,omitempty"`
	Reachable     bool   `json:"reachable"`
	Problem       string `json:"problem,omitempty"`
	SchemaVersion *int   `json:"schema_version,omitempty"`
	LatestVersion int    `json:"latest_version"`
	QueueDepth    *int64 `json:"queue_depth,omitempty"`
	Overdue       *int64 `json:"overdue,omitempty"`
	// problemBrief is Problem cut short for the table.
	problemBrief string
}

// listTimeout bounds one tenant's line: an unreachable database shows as
// such instead of stalling the listing.
const listTimeout = 5 * time.Second

func runTenantsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := newFleetCommand("tenants list", 16, false)
	asJSON := cmd.fs.Bool("json", false, "print a JSON array instead of a table")
	entries, _, _, err := cmd.entries(args)
	if err != nil {
		return err
	}
	migs, err := store.Migrations()
	if err != nil {
		return err
	}
	latest := migs[len(migs)-1].Version
	prog := newProgress(stderr, "tenants list", len(entries), true)
	var out []tenantStatus
	forEachTenant(ctx, entries, cmd.concurrency, listTenant, func(_ fleetEntry, st tenantStatus) {
		st.LatestVersion = latest
		out = append(out, st)
		prog.step(!st.Reachable)
	})
	prog.finish()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tenants list: interrupted: %w", err)
	}
	slices.SortStableFunc(out, func(a, b tenantStatus) int { return strings.Compare(a.ID, b.ID) })
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if out == nil {
			out = []tenantStatus{}
		}
		return enc.Encode(out)
	}
	return writeTenantTable(stdout, out)
}

func listTenant(ctx context.Context, e fleetEntry) tenantStatus {
	ctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	st := tenantStatus{ID: e.ID, Source: e.Source}
	db, server, fail := openEntry(ctx, e)
	st.Server = server
	if fail != nil {
		// The table has room for the kind of failure; the JSON has it all.
		st.Problem, st.problemBrief = fail.String(), fail.where+": "+fail.what
		switch {
		case e.Problem != "":
			st.problemBrief = fail.where
		case server != "":
			st.problemBrief = fail.what // the server column says where
		}
		return st
	}
	defer func() { _ = db.Close() }()
	st.Reachable = true
	cur, _, err := store.SchemaVersion(ctx, db)
	if err != nil {
		f := classify(err)
		st.Problem, st.problemBrief = "schema version: "+f.String(), "schema version: "+f.what
		return st
	}
	st.SchemaVersion = &cur
	if cur == 0 {
		return st // no lgpd_requests yet
	}
	stats, err := store.New(db).RequestStats(ctx)
	if err != nil {
		f := classify(err)
		st.Problem, st.problemBrief = "requests: "+f.String(), "requests: "+f.what
		return st
	}
	var queue, overdue int64
	for _, s := range stats {
		if !s.Status.Final() {
			queue += s.Count
		}
		overdue += s.Overdue
	}
	st.QueueDepth, st.Overdue = &queue, &overdue
	return st
}

func writeTenantTable(w io.Writer, rows []tenantStatus) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tSOURCE\tSERVER\tREACHABLE\tSCHEMA\tQUEUE\tOVERDUE")
	for _, r := range rows {
		reach := "yes"
		switch {
		case !r.Reachable:
			reach = "no (" + r.problemBrief + ")"
		case r.Problem != "":
			reach = "yes (" + r.problemBrief + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Source, orDash(r.Server), reach,
			schemaColumn(r.SchemaVersion, r.LatestVersion), countColumn(r.QueueDepth), countColumn(r.Overdue))
	}
	return tw.Flush()
}

func schemaColumn(cur *int, latest int) string {
	switch {
	case cur == nil:
		return "-"
	case *cur < latest:
		return fmt.Sprintf("%d/%d (run titular migrate)", *cur, latest)
	case *cur > latest:
		return fmt.Sprintf("%d/%d (newer than this titular)", *cur, latest)
	}
	return fmt.Sprintf("%d/%d", *cur, latest)
}

func countColumn(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
