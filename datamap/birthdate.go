package datamap

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// A field may say `birth_date: true`: the column holds the titular's own date
// of birth, from which titular tells a child (under 12, ECA art. 2) or an
// adolescent (12 to 17) when a request arrives (LGPD art. 14). The rules:
//   - only on a root entity (one with match:), whose row is the titular's
//     own: a child entity's date may be a dependant's or a spouse's;
//   - at most one per entity (a titular has one date of birth);
//   - the column is a DATE, DATETIME or TIMESTAMP (CheckSchema).
//
// Several roots may each name theirs (a client's pessoas row, a broker's
// corretores row).

// birthDate reads birth_date: true or false.
func (p *parser) birthDate(n *yaml.Node, path string) bool {
	p.lines[path] = n.Line
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		p.addAt(n, path, "must be true or false",
			"write birth_date: true on the column holding the titular's date of birth, or leave it out")
		return false
	}
	return b
}

// birthDates checks that birth dates sit on root entities, one per entity.
func (p *parser) birthDates(m *Map) {
	for _, e := range m.Entities {
		first := ""
		for _, f := range e.Fields {
			if !f.BirthDate {
				continue
			}
			path := "entities." + e.Name + ".fields." + f.Column + ".birth_date"
			line := m.line(path, f.Line)
			switch {
			case !e.IsRoot():
				p.add(line, path, fmt.Sprintf("entity %q has no match rules: its rows are not the titular's own, so its dates of birth may be someone else's (a dependant, a spouse)", e.Name),
					"mark the date of birth on the root entity that holds the titular's own record (one with match:), and remove birth_date here")
			case first != "":
				p.add(line, path, fmt.Sprintf("entity %q already names %q as the titular's date of birth", e.Name, first),
					"keep birth_date: true on one column of the entity")
			default:
				first = f.Column
			}
		}
	}
}

// birthDate checks that a birth_date column holds dates.
func (c *schemaCheck) birthDate(f Field, col Column, path string) {
	if col.class() == classDate {
		return
	}
	bp := path + ".birth_date"
	c.add(c.m.line(bp, f.Line), bp, fmt.Sprintf("column %q is %s, not a date: titular cannot compute an age from it", f.Column, col.typeName()),
		"mark a DATE, DATETIME or TIMESTAMP column as birth_date, or remove birth_date from this field")
}

// BirthDateField is the field of root entity e that holds the titular's date
// of birth, if the map names one.
func (e *Entity) BirthDateField() (Field, bool) {
	if !e.IsRoot() {
		return Field{}, false
	}
	for _, f := range e.Fields {
		if f.BirthDate {
			return f, true
		}
	}
	return Field{}, false
}

// HasBirthDate reports whether any root entity names the titular's date of
// birth: without one, titular cannot tell a minor and does not look.
func (m *Map) HasBirthDate() bool {
	for _, e := range m.Entities {
		if _, ok := e.BirthDateField(); ok {
			return true
		}
	}
	return false
}
