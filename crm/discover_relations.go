package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// relationSampleRows bounds the referencing rows each relation is measured
// on: enough to see a store referenced by hundreds of customers, never a
// scan of a large table.
const relationSampleRows = 1000

// measureRelations fills in each relation's figures with one bounded
// read-only query: over the first relationSampleRows referencing rows,
// grouped by referenced value, how many rows and how many distinct values
// of the table's other relations reference each value, and whether the
// value exists in the referenced key (an indexed lookup per group). A
// relation the database cannot measure (a comparison it refuses) keeps no
// figures; discovery then treats it as unconfirmed.
func measureRelations(ctx context.Context, q Querier, s *datamap.Survey) error {
	for i := range s.Relations {
		f, err := measureRelation(ctx, q, s, i)
		if ctx.Err() != nil {
			return fmt.Errorf("survey: measure relations: %w", ctx.Err())
		}
		if err == nil {
			s.Relations[i].Figures = f
		}
	}
	return nil
}

func measureRelation(ctx context.Context, q Querier, s *datamap.Survey, i int) (*datamap.RelationFigures, error) {
	r := s.Relations[i]
	var inner, group, conds []string
	var args []any
	for k, c := range r.Columns {
		a := fmt.Sprintf("k%d", k)
		inner = append(inner, sqlq.QuoteIdent(c)+" AS "+a)
		group = append(group, a)
		conds = append(conds, sqlq.QuoteIdent(c)+" IS NOT NULL")
	}
	for _, w := range r.Where {
		conds = append(conds, sqlq.QuoteIdent(w.Column)+" = ?")
		args = append(args, w.Value)
	}
	var others []int
	var counts []string
	for j, o := range s.Relations {
		if j == i || o.Table != r.Table || (len(o.Where) > 0 && !slices.Equal(o.Where, r.Where)) ||
			slices.ContainsFunc(o.Columns, func(c string) bool { return slices.Contains(r.Columns, c) }) {
			continue
		}
		var cs []string
		for k, c := range o.Columns {
			a := fmt.Sprintf("o%d_%d", j, k)
			inner = append(inner, sqlq.QuoteIdent(c)+" AS "+a)
			cs = append(cs, a)
		}
		others = append(others, j)
		counts = append(counts, "COUNT(DISTINCT "+strings.Join(cs, ", ")+")")
	}
	var match []string
	for k, c := range r.RefColumns {
		match = append(match, fmt.Sprintf("p.%s = g.k%d", sqlq.QuoteIdent(c), k))
	}
	sel := append([]string{"COUNT(*) AS n"}, counts...)
	var outer []string
	for k := range sel {
		outer = append(outer, fmt.Sprintf("g.c%d", k))
		sel[k] = strings.Replace(sel[k], " AS n", "", 1) + fmt.Sprintf(" AS c%d", k)
	}
	query := "SELECT " + strings.Join(outer, ", ") + ", EXISTS(SELECT 1 FROM " + sqlq.QuoteIdent(r.RefTable) + " p WHERE " + strings.Join(match, " AND ") + ")" +
		" FROM (SELECT " + strings.Join(group, ", ") + ", " + strings.Join(sel, ", ") +
		" FROM (SELECT " + strings.Join(inner, ", ") + " FROM " + sqlq.QuoteIdent(r.Table) + " WHERE " + strings.Join(conds, " AND ") +
		fmt.Sprintf(" LIMIT %d) s GROUP BY ", relationSampleRows) + strings.Join(group, ", ") + ") g"
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	f := &datamap.RelationFigures{Others: map[int]datamap.Spread{}}
	perValue := make([][]int, len(sel))
	dest := make([]any, len(sel)+1)
	vals := make([]int, len(sel))
	var found bool
	for k := range vals {
		dest[k] = &vals[k]
	}
	dest[len(sel)] = &found
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		f.Values++
		f.Rows += vals[0]
		if found {
			f.Found++
		}
		for k, v := range vals {
			perValue[k] = append(perValue[k], v)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	f.PerValue = spread(perValue[0])
	for k, j := range others {
		f.Others[j] = spread(perValue[k+1])
	}
	return f, nil
}

// spread is the maximum and the median of counts.
func spread(counts []int) datamap.Spread {
	if len(counts) == 0 {
		return datamap.Spread{}
	}
	slices.Sort(counts)
	return datamap.Spread{Max: counts[len(counts)-1], Median: counts[len(counts)/2]}
}
