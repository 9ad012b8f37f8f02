package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
)

// fanOutProblems samples titulares from the CRM and reports, as problems,
// the entities through which one titular's request reaches other people's
// rows: an EXTRACT would disclose them, a DELETE erase them.
// Rows that point at many other people's records (an employee's rentals to
// customers, a broker's notes on leads) may be the titular's activity or
// the other people's data: warnings, written to w.
func fanOutProblems(ctx context.Context, db *sql.DB, m *datamap.Map, samples int, tenantID string, w io.Writer) (datamap.Problems, error) {
	found, err := crm.CheckFanOut(ctx, db, m, crm.FanOutOptions{Samples: samples})
	if err != nil {
		return nil, fmt.Errorf("%w; check that the tenant's account may SELECT the mapped tables", err)
	}
	var probs datamap.Problems
	for _, f := range found {
		over := fmt.Sprintf("median %d, over %d sampled titulares of %s", f.Median, f.Sampled, f.Root)
		if f.Mentions {
			fmt.Fprintf(w, "tenant %s: warning: entities.%s: the rows one titular's request reaches point at the records of up to %d other people in %s (%s), "+
				"through %s; if the rows are theirs rather than the titular's, hang %s off %s instead, else keep them and anonymize what names the others\n",
				tenantID, f.Entity, f.Max, f.Person, over, f.Through, f.Entity, f.Person)
			continue
		}
		if f.Shared {
			probs = append(probs, m.Problem("entities."+f.Entity+".parent",
				fmt.Sprintf("an EXTRACT for one titular reaches rows of %s that at least %d other people reach too (%s), through %s: %s rows are shared by many people",
					f.Entity, f.Max, over, f.Through, f.Entity),
				fmt.Sprintf("%s is shared context (a branch, a store, a CRM user): leave it out of the map, or map only what each person owns, "+
					"hung off the person's own table", f.Entity)))
			continue
		}
		probs = append(probs, m.Problem("entities."+f.Entity+".parent",
			fmt.Sprintf("an EXTRACT for one titular reaches the rows of up to %d other people (%s) through %s, which many people share",
				f.Max, over, f.Through),
			fmt.Sprintf("%s is shared context (a branch, a store, a CRM user): remove the parent and give %s its own match, "+
				"or hang it off the person's own table", f.Through, f.Entity)))
	}
	return probs, nil
}
