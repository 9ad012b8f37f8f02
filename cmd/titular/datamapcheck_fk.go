package main

import (
	"context"
	"fmt"
	"io"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
)

// fkActionProblems checks the CRM's ON DELETE SET NULL and CASCADE foreign
// keys into the map's tables. A key from an entity under a retention hold
// into an entity that does not state a hold `while: referenced` is a
// problem: a DELETE would change held rows, so it keeps the referenced
// rows on no basis the map states. The others make a DELETE keep rows
// (blocked, reason FK_ACTION_WOULD_CHANGE_HELD_ROWS) as the map expects,
// or come from tables the map does not list: warnings, written to w.
func fkActionProblems(ctx context.Context, db crm.Querier, m *datamap.Map, tenantID string, w io.Writer) (datamap.Problems, error) {
	found, err := crm.FKActionWarnings(ctx, db, m)
	if err != nil {
		return nil, fmt.Errorf("read the schema's foreign keys: %w; check that the tenant's account may read INFORMATION_SCHEMA", err)
	}
	var probs datamap.Problems
	var warn []crm.FKActionWarning
	for _, f := range found {
		if !f.Refused {
			warn = append(warn, f)
			continue
		}
		probs = append(probs, m.Problem("entities."+f.Referenced,
			fmt.Sprintf("a DELETE of %s would fire %s (%s -> %s, ON DELETE %s) into the held rows of %s, so those %s rows must stay, and the map states no basis for keeping them",
				f.Referenced, f.Constraint, f.Table, f.RefTable, f.Rule, f.Entity, f.Referenced),
			fmt.Sprintf("add a hold to %s: retention: {basis: obrigacao_legal, reference: <the rule %s's hold follows>, while: referenced, keep: [<the fields the held rows need, or none>]}, "+
				"or change %s to ON DELETE RESTRICT", f.Referenced, f.Entity, f.Constraint)))
	}
	if len(warn) > 0 {
		fmt.Fprintf(w, "tenant %s: warning: DELETE keeps the rows these foreign keys point at while the rows pointing stay (held, or not in the map), since the database would change or delete them:\n", tenantID)
		for _, f := range warn {
			from := "not in the data map"
			if f.Entity != "" {
				from = "entity " + f.Entity + ", under a retention hold"
			}
			fmt.Fprintf(w, "  %s: %s -> %s, ON DELETE %s (%s)\n", f.Constraint, f.Table, f.RefTable, f.Rule, from)
		}
	}
	return probs, nil
}
