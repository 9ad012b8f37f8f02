package datamap

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
)

// Relation is a join discovery considers: Table.Columns reference
// RefTable.RefColumns (RefTable's key), pairwise, on the rows of Table that
// hold the Where constants. Declared foreign keys are relations; so are
// joins inferred from names and polymorphic pairs, which the store confirms
// on sampled values.
type Relation struct {
	Table      string
	Columns    []string
	RefTable   string
	RefColumns []string
	// Where restricts the referencing rows (a polymorphic pair's type
	// column: bean_module = 'Contacts').
	Where []Condition
	// Source is how the relation was found: SourceForeignKey, SourceNames
	// or SourcePolymorphic.
	Source string
	// Figures are what the store measured on a bounded sample; nil when
	// not measured.
	Figures *RelationFigures
}

// Sources of relations.
const (
	SourceForeignKey  = "foreign key"
	SourceNames       = "names"
	SourcePolymorphic = "polymorphic"
)

// RelationFigures are a relation's measures on a bounded sample of the
// referencing rows (non-NULL columns, Where applied).
type RelationFigures struct {
	// Rows is how many referencing rows were sampled.
	Rows int
	// Values is how many distinct referenced values they hold; Found how
	// many of those exist in RefTable (the value overlap).
	Values, Found int
	// PerValue is the spread of referencing rows per referenced value.
	PerValue Spread
	// Others holds, per other relation of the same table (its index in
	// Survey.Relations), the spread of distinct values of that relation's
	// columns per referenced value: how many distinct customers reference
	// one staff row through payment.
	Others map[int]Spread
}

// Spread is the maximum and median of a count over the sampled groups.
type Spread struct{ Max, Median int }

// Thresholds of relation decisions.
const (
	// fewPersons is how many distinct people may share a row the person
	// references (an address shared by a couple) before it is shared
	// context.
	fewPersons = 3
	// minOverlap is the share (percent) of sampled values an inferred
	// relation must find in the referenced key to be kept.
	minOverlap = 50
)

// Overlap is the percentage of distinct sampled values found in the
// referenced key; -1 when nothing was sampled.
func (f *RelationFigures) Overlap() int {
	if f == nil || f.Values == 0 {
		return -1
	}
	return f.Found * 100 / f.Values
}

// confidence rates a relation: declared keys are high; inferred ones by
// their overlap.
func (r *Relation) confidence() (string, string) {
	if r.Source == SourceForeignKey {
		return "high", "a declared foreign key"
	}
	how := "inferred from names"
	if r.Source == SourcePolymorphic {
		how = "a polymorphic pair (" + r.Where[0].Column + " = " + r.Where[0].Value + ")"
	}
	o := r.Figures.Overlap()
	switch {
	case o < 0:
		return "low", how + ", no sampled values to confirm it"
	case o >= 90:
		return "high", fmt.Sprintf("%s, %d%% of %d sampled values found in %s.%s", how, o, r.Figures.Values, r.RefTable, strings.Join(r.RefColumns, ","))
	case o >= minOverlap:
		return "medium", fmt.Sprintf("%s, %d%% of %d sampled values found in %s.%s", how, o, r.Figures.Values, r.RefTable, strings.Join(r.RefColumns, ","))
	}
	return "dropped", fmt.Sprintf("%s, only %d%% of %d sampled values found in %s", how, o, r.Figures.Values, r.RefTable)
}

// Relations proposes the relations of a surveyed schema, without figures:
// its declared foreign keys, then joins inferred from column names
// (contact_id, idpessoa, id_pessoa, pessoa_id and *_id naming a table whose
// key it matches, singular or plural; a <table>_<suffix> table whose key
// extends <table>'s) and polymorphic pairs (a type column such as
// parent_type or bean_module beside parent_id or bean_id, whose sampled
// values name tables). The store measures them; Discover decides.
func Relations(s *Survey) []Relation {
	var out []Relation
	declared := map[[2]string]bool{}
	for _, fk := range s.ForeignKeys {
		if s.Schema.Tables[fk.Table] == nil || s.Schema.Tables[fk.RefTable] == nil || ownTable(fk.Table) {
			continue
		}
		out = append(out, Relation{Table: fk.Table, Columns: fk.Columns, RefTable: fk.RefTable, RefColumns: fk.RefColumns, Source: SourceForeignKey})
		for _, c := range fk.Columns {
			declared[[2]string{fk.Table, c}] = true
		}
	}
	names := slices.Sorted(maps.Keys(s.Schema.Tables))
	byName := map[string]string{} // folded singular -> table
	for _, n := range names {
		if !ownTable(n) {
			byName[singular(strings.ReplaceAll(fold(n), "_", ""))] = n
		}
	}
	find := func(stem string) string { return byName[singular(strings.ReplaceAll(stem, "_", ""))] }
	for _, name := range names {
		t := s.Schema.Tables[name]
		if ownTable(name) {
			continue
		}
		cols := columnOrder(s, t)
		poly := map[string]bool{}
		// Polymorphic pairs: <p>_type|module|model|class|table beside <p>_id.
		for _, tc := range cols {
			toks := tokens(tc)
			if len(toks) < 2 || !hasToken(toks[len(toks)-1:], "type", "module", "model", "class", "table", "entity") || t.Columns[tc].class() != classText {
				continue
			}
			prefix := strings.Join(toks[:len(toks)-1], "_")
			ic := ""
			for _, c := range cols {
				if strings.Join(tokens(c), "_") == prefix+"_id" {
					ic = c
				}
			}
			if ic == "" || declared[[2]string{name, ic}] {
				continue
			}
			for _, v := range distinct(s.Samples[name][tc]) {
				target := find(typeValueStem(v))
				rt := s.Schema.Tables[target]
				if rt == nil {
					continue
				}
				key := tableKey(rt)
				if len(key) != 1 || rt.Columns[key[0]].class() != t.Columns[ic].class() {
					continue
				}
				out = append(out, Relation{Table: name, Columns: []string{ic}, RefTable: target, RefColumns: key,
					Where: []Condition{{Column: tc, Value: v}}, Source: SourcePolymorphic})
				poly[ic], poly[tc] = true, true
			}
		}
		own := tableKey(t)
		for _, c := range cols {
			if declared[[2]string{name, c}] || poly[c] {
				continue
			}
			target := ""
			stem := idStem(c)
			if len(own) == 1 && own[0] == c {
				// A key that names another table (person_id in
				// person_details) or, not naming its own table (audit_id in
				// customer_audit) nor plain id, extends the table the
				// table's name starts with (contacts_cstm.id_c).
				target = find(stem)
				for i := len(name) - 1; i > 0 && target == "" && stem != "" && !strings.HasSuffix(singular(name), singular(stem)); i-- {
					if name[i] == '_' && s.Schema.Tables[name[:i]] != nil {
						target = name[:i]
					}
				}
			} else if stem != "" {
				toks := strings.Split(stem, "_")
				for i := range toks {
					if target = find(strings.Join(toks[i:], "_")); target != "" {
						break
					}
				}
			}
			if target == "" || target == name {
				continue
			}
			rt := s.Schema.Tables[target]
			key := tableKey(rt)
			if len(key) != 1 || rt.Columns[key[0]].class() != t.Columns[c].class() {
				continue
			}
			out = append(out, Relation{Table: name, Columns: []string{c}, RefTable: target, RefColumns: key, Source: SourceNames})
		}
	}
	return out
}

// idStem is what an id column names ("contact" for contact_id, contactId,
// idcontact and id_contact); "" when it is not an id column.
func idStem(col string) string {
	toks := tokens(col)
	switch {
	case len(toks) >= 2 && toks[len(toks)-1] == "id":
		return strings.Join(toks[:len(toks)-1], "_")
	case len(toks) >= 2 && toks[0] == "id":
		return strings.Join(toks[1:], "_")
	case len(toks) == 1 && strings.HasPrefix(toks[0], "id") && len(toks[0]) > 4:
		return toks[0][2:]
	}
	return ""
}

// typeValueStem turns a polymorphic type value into a table name stem:
// "Contacts" -> contacts, "App\Models\Contact" -> contact, "SalesOrder" ->
// sales_order.
func typeValueStem(v string) string {
	if i := strings.LastIndexAny(v, `\.:/`); i >= 0 {
		v = v[i+1:]
	}
	return strings.Join(tokens(v), "_")
}

// singular folds plural English and Portuguese table names to one form.
func singular(s string) string {
	s = strings.ToLower(s)
	switch {
	case strings.HasSuffix(s, "ies") && len(s) > 4:
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "oes") || strings.HasSuffix(s, "aes"):
		return s[:len(s)-3] + "ao"
	case strings.HasSuffix(s, "sses") || strings.HasSuffix(s, "xes"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss") && len(s) > 3:
		return s[:len(s)-1]
	}
	return s
}

// distinct returns the distinct values in first-seen order.
func distinct(vals []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vals {
		if !seen[v] && strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
