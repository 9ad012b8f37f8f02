package datamap

import (
	"maps"
	"slices"
	"strings"
)

// Survey is what discovery reads from a database it has never seen: the
// schema, the foreign keys and a bounded sample of each column's values.
// The store fills it (read-only, LIMIT-ed); Discover only reasons about it.
type Survey struct {
	Schema *Schema
	// Columns lists each table's column names in table order.
	Columns map[string][]string
	// ForeignKeys are the declared foreign keys.
	ForeignKeys []ForeignKey
	// Samples holds, per table and column, non-empty values as text.
	Samples map[string]map[string][]string
	// Relations are the candidate joins (declared, inferred from names,
	// polymorphic) with their measured figures; nil lets Discover propose
	// them itself, unmeasured.
	Relations []Relation
}

// ForeignKey is one declared foreign key: Table.Columns references
// RefTable.RefColumns, pairwise.
type ForeignKey struct {
	Table, RefTable     string
	Columns, RefColumns []string
}

// Finding is a column that looks personal but that discovery could not
// place in the draft (or, for Coverage, that the map does not read).
type Finding struct {
	Table, Column string
	// Kind is what it looks like: cpf, email, phone, cep, birth_date, name
	// or free_text.
	Kind   string
	Reason string
}

// Draft is discovery's proposal: a data map to review, a note per entity
// and per field ("entity" and "entity.column" keys), and what it could not
// place.
type Draft struct {
	Map      *Map
	Notes    map[string]string
	Unplaced []Finding
	// Context lists the tables left out as shared context and the
	// relations dropped, each with its figures.
	Context []string
}

// ownTable reports the tables titular itself creates, which are never the
// CRM's personal data.
func ownTable(name string) bool { return strings.HasPrefix(name, "lgpd_") }

// Discover builds a draft data map from a survey:
//   - roots are tables with columns whose values (or, on empty tables,
//     names) are CPFs, e-mail addresses or phone numbers; they match on them;
//   - children are tables with a foreign key to a table whose rows belong to
//     a person (ranked: NOT NULL keys first, then people's tables, then the
//     table with more personal columns), and tables reached backwards through
//     a join table (a table whose key is made of foreign keys);
//   - each column gets a category from its values and name, and a note with
//     the confidence.
//
// An organisation's row that holds a person's contact under a prefix
// (gerente_cpf, gerente_email) is a root whose personal columns are the
// prefixed ones, and its rows are never a parent: its other rows are not
// that person's data.
func Discover(s *Survey) *Draft {
	g := newGraph(s)
	g.grow()
	g.chooseParents()
	return g.draft()
}

// Coverage lists the columns of the surveyed schema that look personal
// (identifiers, dates of birth, names, free text holding identifiers) and
// that no entity of m reads, so a DPO knows what the map misses.
func Coverage(m *Map, s *Survey) []Finding {
	mapped := map[[2]string]bool{}
	for _, e := range m.Entities {
		for _, f := range e.Fields {
			mapped[[2]string{e.Table, f.Column}] = true
		}
		for _, r := range e.Match {
			mapped[[2]string{e.Table, r.Column}] = true
		}
	}
	var out []Finding
	for _, table := range slices.Sorted(maps.Keys(s.Schema.Tables)) {
		if ownTable(table) {
			continue
		}
		t := s.Schema.Tables[table]
		for _, c := range columnOrder(s, t) {
			if mapped[[2]string{table, c}] {
				continue
			}
			if det, ok := detect(t.Columns[c], s.Samples[table][c]); ok && strong(det) {
				out = append(out, Finding{Table: table, Column: c, Kind: det.kind, Reason: det.reason})
			}
		}
	}
	return out
}

// strong reports a detection worth a warning on its own.
func strong(d detection) bool {
	switch d.kind {
	case kindCNPJ:
		return false
	case kindCEP, kindName:
		return d.confidence == "high"
	}
	return d.confidence != "low"
}

// columnOrder is the table's columns in table order when the survey knows
// it, else by name.
func columnOrder(s *Survey, t *Table) []string {
	if cols := s.Columns[t.Name]; len(cols) > 0 {
		return cols
	}
	return slices.Sorted(maps.Keys(t.Columns))
}

// tableKey is the columns that identify a row: the primary key, else the
// first unique key.
func tableKey(t *Table) []string {
	if len(t.PrimaryKey) > 0 {
		return t.PrimaryKey
	}
	if len(t.Unique) > 0 {
		return t.Unique[0]
	}
	return nil
}

// personPrefix is the prefix shared by a table's identifier columns
// ("gerente_" for gerente_cpf and gerente_email), when there are at least
// two of them; "" otherwise.
func personPrefix(cols []string) string {
	if len(cols) < 2 {
		return ""
	}
	p := cols[0]
	for _, c := range cols[1:] {
		for !strings.HasPrefix(c, p) {
			p = p[:len(p)-1]
		}
	}
	if i := strings.LastIndex(p, "_"); i > 0 {
		return p[:i+1]
	}
	return ""
}
