package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/titular/titular/config"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/tenant"
)

// openChecked loads a checked tenant's map and opens its database for the
// warnings that follow the check; ok is false when either fails, which the
// check has reported.
func openChecked(ctx context.Context, tc config.Tenant) (*datamap.Map, *sql.DB, bool) {
	m, db, err := openTenantMap(ctx, tc)
	return m, db, err == nil
}

// openTenantMap loads a tenant's map (with the built-in anonymizers) and
// opens its database; the caller closes it.
func openTenantMap(ctx context.Context, tc config.Tenant) (*datamap.Map, *sql.DB, error) {
	m, err := datamap.Load(tc.Datamap)
	if err != nil {
		return nil, nil, err
	}
	db, err := tenant.Open(ctx, tc)
	if err != nil {
		return nil, nil, err
	}
	return m, db, nil
}

// warnCoverage prints, for a tenant whose map was checked, the tables and
// columns that look personal but that the map does not read: first a line
// per table (a table of addresses the map never reads at all stands out),
// then the columns. It only warns: a failure to sample is reported and does
// not change the exit code.
func warnCoverage(ctx context.Context, tc config.Tenant, w io.Writer) {
	m, db, ok := openChecked(ctx, tc)
	if !ok {
		return // the check already reported it
	}
	defer func() { _ = db.Close() }()
	s, err := crm.Survey(ctx, db, crm.SurveyOptions{})
	if err != nil {
		fmt.Fprintf(w, "tenant %s: warning: could not sample the schema for coverage: %v\n", tc.ID, err)
		return
	}
	missing := datamap.Coverage(m, s)
	if len(missing) == 0 {
		return
	}
	fmt.Fprint(w, coverageSummary(tc.ID, m, missing))
	fmt.Fprintf(w, "tenant %s: warning: coverage: the data map reads none of these %d personal-looking columns:\n", tc.ID, len(missing))
	for _, f := range missing {
		fmt.Fprintf(w, "  %s.%s (%s): %s\n", f.Table, f.Column, f.Kind, f.Reason)
	}
}

// coverageSummary is the table-level view of the unread columns: which
// tables the map does not read at all, and which it reads in part.
func coverageSummary(id string, m *datamap.Map, missing []datamap.Finding) string {
	mapped := map[string][]string{}
	for _, e := range m.Entities {
		mapped[e.Table] = append(mapped[e.Table], e.Name)
	}
	var tables []string
	cols := map[string][]string{}
	for _, f := range missing {
		if _, ok := cols[f.Table]; !ok {
			tables = append(tables, f.Table)
		}
		cols[f.Table] = append(cols[f.Table], f.Column+" ("+f.Kind+")")
	}
	slices.Sort(tables)
	var unmapped []string
	for _, t := range tables {
		if len(mapped[t]) == 0 {
			unmapped = append(unmapped, t)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "tenant %s: warning: coverage: %d tables hold personal-looking data the map does not read (%d of them not in the map at all); "+
		"map them as entities (or the columns as fields), or confirm they hold no one's data:\n", id, len(tables), len(unmapped))
	for _, t := range tables {
		where := "not in the data map"
		if es := mapped[t]; len(es) > 0 {
			where = "entity " + strings.Join(es, ", ") + " does not read"
		}
		fmt.Fprintf(&b, "  table %s: %s %s\n", t, where, joinList(cols[t], 8))
	}
	return b.String()
}
