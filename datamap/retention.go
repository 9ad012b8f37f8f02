package datamap

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Retention is a legal hold that keeps rows after a deletion request (LGPD
// Art. 16 I) until KeepYears after the date From gives for each row. An
// entity may carry several (AML, tax, civil claims): each row is released
// when the last of them ends.
type Retention struct {
	Basis, Reference, OnDelete string
	KeepYears                  int
	// From says where the hold starts counting for a row. Unused for
	// consent evidence, which counts from each consent's date.
	From From
	// Keep lists the fields (columns) the hold needs kept as they are. Nil
	// when the map does not say: then the hold needs the whole row
	// (on_delete: block) or the fields without an irreversible anonymizer
	// (on_delete: anonymize). A held row keeps the union of what its running
	// holds need; DELETE and ANONYMIZE minimize the rest at once.
	Keep []string
	// WhileReferenced marks a hold with no date of its own (`while:
	// referenced`): it keeps a row as long as held rows reference it (the
	// buyer's record under her held sale, kept to identify the client, Lei
	// 9.613 art. 10 I) and names what such a row keeps. KeepYears and From
	// are then unset, and the row's release date is that of the titular's
	// latest held row.
	WhileReferenced bool
	// path is where the hold sits in the document, for CheckSchema.
	path string
}

// From is when a hold starts counting, read from a row's date columns.
// Exactly one of Column, LatestOf and WhenSet is set.
type From struct {
	// Column is a date column: the hold counts from its date.
	Column string
	// LatestOf counts from the latest of these columns' dates (the ones set).
	LatestOf []string
	// WhenSet counts from this column's date when it holds one (the
	// cancellation of a sale), else from Else's.
	WhenSet, Else string
	// Rule moves the date: RuleNextYearStart counts from the 1st of January
	// after it (CTN art. 173 I: the year after the one the tax could be
	// assessed in). "" counts from the date itself.
	Rule string
}

// RuleNextYearStart is the `from` rule of holds counted from the first day
// of the year after the date (tax holds, CTN art. 173 I).
const RuleNextYearStart = "next_year_start"

func fromRules() []string { return []string{RuleNextYearStart} }

// Columns lists the date columns the rule reads, without repeats.
func (f From) Columns() []string {
	var out []string
	for _, c := range append(append([]string{f.Column}, f.LatestOf...), f.WhenSet, f.Else) {
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// String describes the rule in the map's own words, for exports and
// messages: "data_venda", "latest_of(a, b)", "when_set(c) else d", with
// " next_year_start" appended when the rule applies.
func (f From) String() string {
	var s string
	switch {
	case len(f.LatestOf) > 0:
		s = "latest_of(" + strings.Join(f.LatestOf, ", ") + ")"
	case f.WhenSet != "":
		s = "when_set(" + f.WhenSet + ") else " + f.Else
	default:
		s = f.Column
	}
	if f.Rule != "" {
		s += " " + f.Rule
	}
	return s
}

// Start is when the hold starts for a row whose date columns date reads (ok
// false for a column without a date). ok is false when the row has no date
// the rule can use (a reservation never sold): no hold then applies.
func (f From) Start(date func(column string) (time.Time, bool)) (time.Time, bool) {
	var t time.Time
	var ok bool
	switch {
	case f.Column == "" && len(f.LatestOf) == 0 && f.WhenSet == "":
		return t, false
	case len(f.LatestOf) > 0:
		for _, c := range f.LatestOf {
			if d, set := date(c); set && (!ok || d.After(t)) {
				t, ok = d, true
			}
		}
	case f.WhenSet != "":
		if t, ok = date(f.WhenSet); !ok {
			t, ok = date(f.Else)
		}
	default:
		t, ok = date(f.Column)
	}
	if ok && f.Rule == RuleNextYearStart {
		t = time.Date(t.Year()+1, time.January, 1, 0, 0, 0, 0, time.UTC)
	}
	return t, ok
}

// ReleaseAt is when the hold ends for a row: its start plus KeepYears. A
// hold while referenced has no date of its own: ok is false.
func (r *Retention) ReleaseAt(date func(column string) (time.Time, bool)) (time.Time, bool) {
	if r.WhileReferenced {
		return time.Time{}, false
	}
	t, ok := r.From.Start(date)
	if !ok {
		return time.Time{}, false
	}
	return t.AddDate(r.KeepYears, 0, 0), true
}

// RetentionColumns lists the date columns the entity's holds read, in
// document order without repeats: what a walk must fetch to judge them.
func (e *Entity) RetentionColumns() []string {
	var out []string
	for _, h := range e.Holds {
		for _, c := range h.From.Columns() {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

var (
	retentionKeys = []string{"basis", "reference", "keep_years", "from", "on_delete", "keep", "while"}
	fromKeys      = []string{"column", "latest_of", "when_set", "else", "rule"}
)

const fromFix = "write from: <date column>, or one of {column: <col>, rule: next_year_start}, " +
	"{latest_of: [<col>, <col>]}, {when_set: <cancellation col>, else: <sale col>}"

// retention reads an entity's holds: one hold (a mapping) or a list of them.
// Fields must be read first: keep names them.
func (p *parser) retention(n *yaml.Node, path string, e *Entity) []*Retention {
	if n.Kind != yaml.SequenceNode {
		if r := p.hold(n, path, e); r != nil {
			return []*Retention{r}
		}
		return nil
	}
	if len(n.Content) == 0 {
		p.addAt(n, path, "retention is an empty list", "list the holds, each {basis, reference, keep_years, from}, or remove retention")
	}
	var out []*Retention
	for i, it := range n.Content {
		r := p.hold(it, index(path, i), e)
		if r == nil {
			continue
		}
		if r.WhileReferenced && slices.ContainsFunc(out, func(o *Retention) bool { return o.WhileReferenced }) {
			p.addAt(it, index(path, i), "a second hold with while: referenced",
				"state one hold while referenced per entity, with keep listing every field the referencing holds need")
			continue
		}
		out = append(out, r)
	}
	return out
}

// hold reads one hold.
func (p *parser) hold(n *yaml.Node, path string, e *Entity) *Retention {
	o, ok := p.object(n, path, retentionKeys)
	if !ok {
		return nil
	}
	r := &Retention{OnDelete: "block", path: path}
	p.lines[path] = n.Line
	if v := o.get("while"); v != nil {
		return p.whileHold(o, v, path, e, r)
	}
	valid := p.holdTerms(o, path, r)
	if v := p.require(o, "from", "add from: <date column the hold counts from> ("+fromFix+"), "+
		"or while: referenced for a row kept because held rows reference it"); v != nil {
		r.From, ok = p.from(v, child(path, "from"))
		valid = valid && ok
	} else {
		valid = false
	}
	if v := o.get("on_delete"); v != nil {
		r.OnDelete, ok = p.choice(v, child(path, "on_delete"), "on_delete action", onDeleteActions())
		valid = valid && ok
	}
	if v := o.get("keep"); v != nil {
		r.Keep, ok = p.keep(v, child(path, "keep"), e)
		valid = valid && ok
	}
	if !valid {
		return nil
	}
	return r
}

// whileHold reads a hold with no date of its own: {basis, reference,
// while: referenced, keep}. It lasts as long as held rows reference the row.
func (p *parser) whileHold(o object, v *yaml.Node, path string, e *Entity, r *Retention) *Retention {
	r.WhileReferenced = true
	valid := true
	if _, ok := p.choice(v, child(path, "while"), "while condition", []string{"referenced"}); !ok {
		valid = false
	}
	for _, k := range []string{"keep_years", "from", "on_delete"} {
		if kv := o.get(k); kv != nil {
			p.addAt(kv, child(path, k), k+" does not go with while: referenced",
				"remove "+k+": the hold lasts as long as held rows reference the row, and ends with the last of them")
			valid = false
		}
	}
	var ok bool
	if bv := p.require(o, "basis", "add basis: obrigacao_legal (or another legal basis)"); bv != nil {
		r.Basis, ok = p.choice(bv, child(path, "basis"), "legal basis", legalBases())
		valid = valid && ok
	} else {
		valid = false
	}
	if rv := p.require(o, "reference", `add reference: the rule that imposes the hold, e.g. "Lei 9.613/1998 art. 10, I"`); rv != nil {
		r.Reference, ok = p.str(rv, child(path, "reference"))
		valid = valid && ok
	} else {
		valid = false
	}
	if kv := o.get("keep"); kv != nil {
		r.Keep, ok = p.keep(kv, child(path, "keep"), e)
		valid = valid && ok
	}
	if !valid {
		return nil
	}
	return r
}

// keep reads the fields a hold needs; each must be a field of the entity.
func (p *parser) keep(n *yaml.Node, path string, e *Entity) ([]string, bool) {
	if n.Kind != yaml.SequenceNode {
		p.addAt(n, path, "must be a list", "write keep: [<field>, <field>] (the fields the hold needs), or keep: [] for none")
		return nil, false
	}
	p.lines[path] = n.Line
	out := []string{} // present and empty: the hold needs no field
	valid := true
	for i, it := range n.Content {
		ip := index(path, i)
		c, ok := p.name(it, ip, "field")
		switch {
		case !ok:
			valid = false
		case slices.Contains(out, c):
			p.addAt(it, ip, fmt.Sprintf("%q is listed twice", c), "remove the repeated entry")
			valid = false
		default:
			if _, mapped := e.Field(c); !mapped {
				fields := make([]string, len(e.Fields))
				for j, f := range e.Fields {
					fields[j] = f.Column
				}
				p.addAt(it, ip, fmt.Sprintf("%q is not a field of entity %s", c, e.Name),
					nameFix(c, fields, "field"))
				valid = false
				continue
			}
			out = append(out, c)
		}
	}
	return out, valid
}

// from reads when a hold starts counting: a column name, or a mapping with
// exactly one of column, latest_of and when_set (+ else), and an optional
// rule.
func (p *parser) from(n *yaml.Node, path string) (From, bool) {
	var f From
	if n.Kind == yaml.ScalarNode {
		var ok bool
		f.Column, ok = p.name(n, path, "column")
		return f, ok
	}
	p.lines[path] = n.Line
	o, ok := p.object(n, path, fromKeys)
	if !ok {
		return f, false
	}
	var forms []string
	for _, k := range []string{"column", "latest_of", "when_set"} {
		if o.get(k) != nil {
			forms = append(forms, k)
		}
	}
	if len(forms) != 1 {
		msg := "from has none of column, latest_of, when_set"
		if len(forms) > 1 {
			msg = "from mixes " + strings.Join(forms, " and ") + "; it takes exactly one of them"
		}
		p.addAt(n, path, msg, fromFix)
		return f, false
	}
	valid := true
	switch forms[0] {
	case "column":
		f.Column, valid = p.name(o.get("column"), child(path, "column"), "column")
	case "latest_of":
		lp := child(path, "latest_of")
		v := o.get("latest_of")
		f.LatestOf = p.nameList(v, lp, "column", "write latest_of: [<date column>, <date column>]")
		if v.Kind == yaml.SequenceNode && len(f.LatestOf) < 2 {
			p.addAt(v, lp, "latest_of needs at least two distinct columns", "list two or more date columns, or write from: <column> for one")
			valid = false
		}
		valid = valid && len(f.LatestOf) == len(v.Content)
	case "when_set":
		f.WhenSet, valid = p.name(o.get("when_set"), child(path, "when_set"), "column")
		if v := p.require(o, "else", "add else: <date column used when "+f.WhenSet+" is empty>, e.g. the sale date"); v != nil {
			var ok bool
			f.Else, ok = p.name(v, child(path, "else"), "column")
			valid = valid && ok
		} else {
			valid = false
		}
	}
	if v := o.get("else"); v != nil && forms[0] != "when_set" {
		p.addAt(v, child(path, "else"), "else only goes with when_set", "write {when_set: <col>, else: <col>}, or remove else")
		valid = false
	}
	if v := o.get("rule"); v != nil {
		var ok bool
		f.Rule, ok = p.choice(v, child(path, "rule"), "from rule", fromRules())
		valid = valid && ok
	}
	return f, valid
}
