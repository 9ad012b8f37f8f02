package main

import (
	"context"
	"fmt"
	"io"

	"github.com/titular/titular/config"
	"github.com/titular/titular/crm"
)

// warnFKActions lists the CRM's ON DELETE SET NULL and CASCADE foreign keys
// that will make a DELETE keep rows (blocked, reason
// FK_ACTION_WOULD_CHANGE_HELD_ROWS) rather than let the database change
// held or unmapped rows. A warning, not a problem: the map is right; the
// schema decides what titular may erase.
func warnFKActions(ctx context.Context, tc config.Tenant, w io.Writer) {
	m, db, ok := openChecked(ctx, tc)
	if !ok {
		return // the check already reported it
	}
	defer func() { _ = db.Close() }()
	found, err := crm.FKActionWarnings(ctx, db, m)
	if err != nil {
		fmt.Fprintf(w, "tenant %s: warning: could not read the schema's foreign keys: %v\n", tc.ID, err)
		return
	}
	if len(found) == 0 {
		return
	}
	fmt.Fprintf(w, "tenant %s: warning: DELETE keeps the rows these foreign keys point at while the rows pointing stay (held, or not in the map), since the database would change or delete them:\n", tc.ID)
	for _, f := range found {
		from := "not in the data map"
		if f.Entity != "" {
			from = "entity " + f.Entity + ", under a retention hold"
		}
		fmt.Fprintf(w, "  %s: %s -> %s, ON DELETE %s (%s)\n", f.Constraint, f.Table, f.RefTable, f.Rule, from)
	}
}
