// Package datamap holds the data map: the per-tenant YAML document that says
// where a titular's personal data lives in a CRM database. It loads and
// validates the document (statically and against a schema description) and
// answers questions about the entity graph. It runs no SQL.
package datamap

import "slices"

// Map is a parsed, statically valid data map.
type Map struct {
	Version int
	File    string
	// Identifiers are the subject identifiers the map accepts (cpf, email,
	// phone), in document order.
	Identifiers []string
	// Purposes name the entities' purpose codes for the titular
	// (purposes.go), in document order.
	Purposes []Purpose
	// Entities are in document order.
	Entities []*Entity
	// ConsentEvidence, when set, keeps consent evidence (IP, user agent, who
	// captured it) as proof after the titular's erasure, for KeepYears from
	// each consent record's date (From and OnDelete are unused). Nil: the
	// evidence goes with the titular.
	ConsentEvidence *Retention

	// lines maps a document path to its line, so CheckSchema can point at
	// the offending value. Empty for maps built by hand.
	lines map[string]int
	// anonCheck is the WithAnonymizerCheck hook; CheckSchema runs it on
	// every field's anonymizer against its column.
	anonCheck AnonymizerCheck
	// irreversible is the WithIrreversible hook; CheckSchema uses it to
	// tell which fields a hold's keep leaves to be nullified.
	irreversible func(AnonymizerRef) bool
}

// Entity is one table's worth of a titular's data.
type Entity struct {
	Name, Table, Label, Purpose, LegalBasis, Origin string
	// SharedWith names the recipients the data is shared with (Art. 18 VII).
	SharedWith []string
	// Key is the column list that identifies a row (the primary key or a
	// unique key of Table).
	Key []string
	// Match says how a subject's rows are found from their identifiers; an
	// entity with match rules is a root. Document order.
	Match []MatchRule
	// Parent links the entity to the rows of another entity; nil for a root
	// that is no one's child.
	Parent *Parent
	// Where restricts the rows of Table the entity covers to those whose
	// columns equal constants (a polymorphic link table's type column:
	// bean_module = 'Contacts'); every query for the entity's rows adds them.
	// Document order; empty when the entity covers the whole table.
	Where []Condition
	// Fields are the mapped columns, in document order.
	Fields []Field
	// Holds are the retention holds that keep the entity's rows after a
	// deletion request, in document order; a row is released when the last
	// of the holds that apply to it ends.
	Holds []*Retention
	// AttachmentPath names the column holding a file path when the entity's
	// rows are attachments. titular does not own the file store: a DELETE
	// reports these rows by key so the CRM removes the files.
	AttachmentPath string
	Line           int
}

// MatchRule finds rows whose Column holds the subject's Identifier.
type MatchRule struct{ Identifier, Column string }

// Parent says that a row belongs to the subject when its On columns equal
// those of a subject's row of Entity.
type Parent struct {
	Entity string
	On     []ColumnPair
}

// Condition is one `where` entry: Column must equal Value, compared as
// text by the database (`col` = ?).
type Condition struct{ Column, Value string }

// ColumnPair joins a child column to a parent column.
type ColumnPair struct{ Child, Parent string }

// Field is one mapped column.
type Field struct {
	Column, Category, Label, Validate string
	// Correctable is the logical field a correction names to change this
	// column (its own name when the map says `correctable: true`); "" when the
	// column cannot be corrected.
	Correctable string
	// BirthDate marks the column holding the titular's own date of birth
	// (`birth_date: true`), from which titular tells a child or adolescent
	// (LGPD art. 14). Only a root entity's field may say so, one per entity.
	BirthDate  bool
	Anonymizer *AnonymizerRef
	Line       int
}

// AnonymizerRef names an anonymizer and its parameters.
type AnonymizerRef struct {
	Name   string
	Params map[string]any
}

// Entity returns the entity called name, or nil.
func (m *Map) Entity(name string) *Entity {
	for _, e := range m.Entities {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Children returns the entities whose parent is name, in document order.
func (m *Map) Children(name string) []*Entity {
	var out []*Entity
	for _, e := range m.Entities {
		if e.Parent != nil && e.Parent.Entity == name {
			out = append(out, e)
		}
	}
	return out
}

// Order returns every entity with each parent before its children; among
// entities free to go next, the one earliest in the document goes first, so
// a document already in that order comes back unchanged. Entities on a cycle
// (which Parse rejects) are appended in document order.
func (m *Map) Order() []*Entity {
	done := make(map[string]bool, len(m.Entities))
	out := make([]*Entity, 0, len(m.Entities))
	ready := func(e *Entity) bool {
		return e.Parent == nil || m.Entity(e.Parent.Entity) == nil || done[e.Parent.Entity]
	}
	for len(out) < len(m.Entities) {
		progressed := false
		for _, e := range m.Entities {
			if !done[e.Name] && ready(e) {
				done[e.Name] = true
				out = append(out, e)
				progressed = true
				break // restart so the earliest ready entity always wins
			}
		}
		if !progressed {
			for _, e := range m.Entities {
				if !done[e.Name] {
					done[e.Name] = true
					out = append(out, e)
				}
			}
		}
	}
	return out
}

// IsRoot reports whether the entity has match rules, so subjects are found in
// it directly. A root may also have a parent.
func (e *Entity) IsRoot() bool { return len(e.Match) > 0 }

// Field returns the field mapped for column.
func (e *Entity) Field(column string) (Field, bool) {
	i := slices.IndexFunc(e.Fields, func(f Field) bool { return f.Column == column })
	if i < 0 {
		return Field{}, false
	}
	return e.Fields[i], true
}

// PersonalFields returns the fields that hold personal data (every category
// but "contexto"), in document order.
func (e *Entity) PersonalFields() []Field {
	var out []Field
	for _, f := range e.Fields {
		if f.Category != CategoryContext {
			out = append(out, f)
		}
	}
	return out
}

// line returns the line recorded for path, or fallback.
func (m *Map) line(path string, fallback int) int {
	if l, ok := m.lines[path]; ok {
		return l
	}
	return fallback
}
