package crm

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// personRef is a foreign key from an entity without identifiers to a
// table the map finds people in: each row of the entity needs one person's
// record there (its columns are NOT NULL), so the row is about that person.
type personRef struct {
	fk     datamap.ForeignKey
	person *datamap.Entity // the root entity of the referenced table
	pos    int             // where its columns start in the walk's extra values
}

// personRefs finds, per entity without match rules, the NOT NULL foreign
// keys into the table of a root entity. A nullable key (a sale's broker,
// ON DELETE SET NULL) is an optional association and left out.
func personRefs(m *datamap.Map, s *datamap.Schema) map[string][]personRef {
	roots := map[string]*datamap.Entity{}
	for _, e := range m.Order() {
		if e.IsRoot() && roots[e.Table] == nil {
			roots[e.Table] = e
		}
	}
	out := map[string][]personRef{}
	for _, e := range m.Order() {
		t := s.Tables[e.Table]
		if e.IsRoot() || t == nil {
			continue
		}
		pos := 0
		for _, fk := range s.ForeignKeys {
			root := roots[fk.RefTable]
			if fk.Table != e.Table || root == nil {
				continue
			}
			if slices.ContainsFunc(fk.Columns, func(c string) bool { return t.Columns[c].Nullable }) {
				continue
			}
			out[e.Name] = append(out[e.Name], personRef{fk: fk, person: root, pos: pos})
			pos += len(fk.Columns)
		}
	}
	return out
}

// refSample bounds the rows ownerRefs reads per reference.
const refSample = 5000

// ownerRefs keeps the references that may make an entity's rows someone
// else's, and drops those to people the rows merely name as context: a
// rental of the customer's names the clerk who served her, and each clerk
// is named by the rentals of hundreds of customers while each customer's
// rentals name a handful of clerks. A reference is context when the rows
// naming one referenced person belong to more than three times as many of
// the entity's parents (its titulares' records) as the most people one
// parent's rows name. Measured over the first refSample rows.
func ownerRefs(ctx context.Context, q Querier, m *datamap.Map, refs map[string][]personRef) (map[string][]personRef, error) {
	out := map[string][]personRef{}
	for name, rs := range refs {
		e := m.Entity(name)
		if e == nil || e.Parent == nil {
			out[name] = rs
			continue
		}
		parent := make([]string, len(e.Parent.On))
		for i, on := range e.Parent.On {
			parent[i] = on.Child
		}
		pos := 0
		for _, r := range rs {
			if slices.ContainsFunc(r.fk.Columns, func(c string) bool { return slices.Contains(parent, c) }) {
				// The reference to the parent's own person: kept as it was.
				r.pos = pos
				pos += len(r.fk.Columns)
				out[name] = append(out[name], r)
				continue
			}
			perRef, err := maxDistinct(ctx, q, e, r.fk.Columns, parent)
			if err != nil {
				return nil, err
			}
			perParent, err := maxDistinct(ctx, q, e, parent, r.fk.Columns)
			if err != nil {
				return nil, err
			}
			if perRef > 3*perParent {
				continue // context: the clerk, not whose row it is
			}
			r.pos = pos
			pos += len(r.fk.Columns)
			out[name] = append(out[name], r)
		}
	}
	return out, nil
}

// maxDistinct is, over the first refSample rows of e's table, the most
// distinct values of cols found beside one value of by.
func maxDistinct(ctx context.Context, q Querier, e *datamap.Entity, by, cols []string) (int, error) {
	notNull := make([]string, 0, len(by)+len(cols))
	for _, c := range append(slices.Clone(by), cols...) {
		notNull = append(notNull, sqlq.QuoteIdent(c)+" IS NOT NULL")
	}
	where, args := restrict(e, strings.Join(notNull, " AND "), nil)
	//nolint:gosec // G202: only quoted names from a checked map and the schema are concatenated
	query := "SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(DISTINCT " + sqlq.JoinQuoted(cols) + ") n FROM (SELECT " +
		sqlq.JoinQuoted(append(slices.Clone(by), cols...)) + " FROM " + sqlq.QuoteIdent(e.Table) + " WHERE " + where +
		" LIMIT " + strconv.Itoa(refSample) + ") s GROUP BY " + sqlq.JoinQuoted(by) + ") g"
	var n int
	if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("fan-out check: measure references of %s: %w", e.Table, err)
	}
	return n, nil
}

// refColumns has the walk read an entity's match columns (a root) or the
// columns of its references to people (personRefs).
func refColumns(refs map[string][]personRef) func(e *datamap.Entity) []string {
	return func(e *datamap.Entity) []string {
		if e.IsRoot() {
			return matchColumns(e)
		}
		var cols []string
		for _, r := range refs[e.Name] {
			cols = append(cols, r.fk.Columns...)
		}
		return cols
	}
}

// mentioned counts, for each entity with references to people, the people
// other than the titular (own identifiers) whose records the reached rows
// point at: reached holds, per entity and reference, the referenced keys.
// It adds to hits, per entity, the person entities where it found them.
func mentioned(ctx context.Context, q Querier, refs map[string][]personRef, reached map[string][]map[string][]any,
	own map[string]bool, hits map[string]map[string]bool) (map[string]int, error) {
	out := map[string]int{}
	for entity, rs := range refs {
		u := &unionFind{parent: map[string]string{}}
		if reached[entity] == nil {
			out[entity] = 0 // the titular has no rows there
			continue
		}
		for i, r := range rs {
			keys := make([][]any, 0, len(reached[entity][i]))
			for _, k := range reached[entity][i] {
				keys = append(keys, k)
			}
			before := len(u.parent)
			for start := 0; start < len(keys); start += parentBatch {
				if err := otherPeople(ctx, q, r, keys[start:min(start+parentBatch, len(keys))], own, u); err != nil {
					return nil, err
				}
			}
			if len(u.parent) > before {
				if hits[entity] == nil {
					hits[entity] = map[string]bool{}
				}
				hits[entity][r.person.Name] = true
			}
		}
		out[entity] = u.components()
	}
	return out, nil
}

// otherPeople reads the identifiers of the person records r's keys point at
// and adds those that are not the titular's to u.
func otherPeople(ctx context.Context, q Querier, r personRef, keys [][]any, own map[string]bool, u *unionFind) error {
	cols := matchColumns(r.person)
	where, args := sqlq.KeyIn(r.fk.RefColumns, keys)
	where, args = restrict(r.person, where, args)
	rows, err := q.QueryContext(ctx, "SELECT "+sqlq.JoinQuoted(cols)+" FROM "+sqlq.QuoteIdent(r.person.Table)+" WHERE "+where, args...) //nolint:gosec // G202: only quoted names from a checked map and the schema are concatenated
	if err != nil {
		return fmt.Errorf("fan-out check: read the people %s points at: %w", r.fk.Table, err)
	}
	return eachRow(rows, func(row []any) error {
		var ids []string
		for i, mr := range r.person.Match {
			if v, ok := normalizeIdentifier(mr.Identifier, row[i]); ok {
				id := mr.Identifier + ":" + v
				if own[id] {
					return nil
				}
				ids = append(ids, id)
			}
		}
		for _, id := range ids {
			u.union(ids[0], id)
		}
		return nil
	})
}
