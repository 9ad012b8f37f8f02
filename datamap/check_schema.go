package datamap

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// CheckSchema reports, as Problems, every way the map does not fit the schema:
// unknown tables and columns (with the closest existing name), a key that is
// neither the primary key nor a unique key, parent joins on missing or
// incompatible columns, match rules on non-text columns, validations that the
// column type cannot hold, and a retention date that is not a date column.
func (m *Map) CheckSchema(s *Schema) error {
	c := &schemaCheck{m: m, s: s}
	if s == nil || len(s.Tables) == 0 {
		c.add(0, "", "the schema has no tables", "check that titular reads the tenant's database and that its tables exist")
		return c.probs.asError()
	}
	for _, e := range m.Entities {
		c.entity(e)
	}
	return c.probs.asError()
}

type schemaCheck struct {
	m     *Map
	s     *Schema
	probs Problems
}

func (c *schemaCheck) add(line int, path, msg, fix string) {
	c.probs = append(c.probs, Problem{File: c.m.File, Path: path, Line: line, Message: msg, Fix: fix})
}

// at returns the line of path, falling back to the entity's.
func (c *schemaCheck) at(path string, e *Entity) int { return c.m.line(path, e.Line) }

func (c *schemaCheck) table(e *Entity) *Table {
	if t := c.s.Tables[e.Table]; t != nil {
		return t
	}
	path := "entities." + e.Name + ".table"
	c.add(c.at(path, e), path, fmt.Sprintf("table %q does not exist", e.Table),
		nameFix(e.Table, slices.Sorted(maps.Keys(c.s.Tables)), "table"))
	return nil
}

// column looks name up in t, reporting it at path when missing.
func (c *schemaCheck) column(t *Table, name, path string, line int) (Column, bool) {
	if col, ok := t.Columns[name]; ok {
		return col, true
	}
	c.add(line, path, fmt.Sprintf("column %q does not exist in table %q", name, t.Name),
		nameFix(name, slices.Sorted(maps.Keys(t.Columns)), "column"))
	return Column{}, false
}

func (c *schemaCheck) entity(e *Entity) {
	c.sensitiveBasis(e, "entities."+e.Name)
	t := c.table(e)
	if t == nil {
		return
	}
	base := "entities." + e.Name
	c.key(e, t, base)
	for _, r := range e.Match {
		path := base + ".match." + r.Identifier
		col, ok := c.column(t, r.Column, path, c.at(path, e))
		if ok {
			c.matchColumn(r, col, path, c.at(path, e))
		}
	}
	if e.Parent != nil {
		c.parent(e, t, base)
	}
	for _, w := range e.Where {
		path := base + ".where." + w.Column
		c.column(t, w.Column, path, c.at(path, e))
	}
	for _, f := range e.Fields {
		path := base + ".fields." + f.Column
		col, ok := c.column(t, f.Column, path, f.Line)
		if ok && f.Validate != "" {
			vp := path + ".validate"
			if msg, fix := validateFits(f.Validate, col); msg != "" {
				c.add(c.m.line(vp, f.Line), vp, msg, fix)
			}
		}
		if ok {
			c.anonymizer(t, f, col, path)
		}
		if ok && f.BirthDate {
			c.birthDate(f, col, path)
		}
	}
	c.holds(e, t, base)
	if e.AttachmentPath != "" {
		path := base + ".attachment_path"
		c.column(t, e.AttachmentPath, path, c.at(path, e))
	}
}

// key checks that the entity key exists and identifies one row.
func (c *schemaCheck) key(e *Entity, t *Table, base string) {
	path := base + ".key"
	all := true
	for i, k := range e.Key {
		p := index(path, i)
		if _, ok := c.column(t, k, p, c.m.line(p, c.at(path, e))); !ok {
			all = false
		}
	}
	if !all || len(e.Key) == 0 {
		return
	}
	if sameSet(e.Key, t.PrimaryKey) || slices.ContainsFunc(t.Unique, func(u []string) bool { return sameSet(e.Key, u) }) {
		return
	}
	fix := fmt.Sprintf("table %q has no primary or unique key: add one, since rows must be told apart", t.Name)
	if len(t.PrimaryKey) > 0 {
		fix = fmt.Sprintf("use the primary key: key: [%s]", strings.Join(t.PrimaryKey, ", "))
	} else if len(t.Unique) > 0 {
		fix = fmt.Sprintf("use a unique key: key: [%s]", strings.Join(t.Unique[0], ", "))
	}
	c.add(c.at(path, e), path, fmt.Sprintf("key [%s] is neither the primary key nor a unique key of table %q",
		strings.Join(e.Key, ", "), t.Name), fix)
}

// minMatchLength is the shortest stored form of an identifier (0: no limit).
func minMatchLength(identifier string) int64 {
	switch identifier {
	case "cpf":
		return 11
	case "phone":
		return 10 // a landline without the country code
	}
	return 0
}

func (c *schemaCheck) matchColumn(r MatchRule, col Column, path string, line int) {
	if col.class() != classText {
		c.add(line, path, fmt.Sprintf("match column %q is %s; identifiers are matched as text", r.Column, col.typeName()),
			"match on a CHAR or VARCHAR column that holds the identifier")
		return
	}
	if need := minMatchLength(r.Identifier); col.MaxLength > 0 && col.MaxLength < need {
		c.add(line, path, fmt.Sprintf("match column %q holds at most %d characters, too short for a %s", r.Column, col.MaxLength, r.Identifier),
			fmt.Sprintf("match on a column of at least %d characters", need))
	}
}

// parent checks both sides of every join column pair.
func (c *schemaCheck) parent(e *Entity, t *Table, base string) {
	pe := c.m.Entity(e.Parent.Entity)
	if pe == nil {
		return // Parse reports unknown parents
	}
	pt := c.s.Tables[pe.Table]
	for _, pair := range e.Parent.On {
		path := base + ".parent.on." + pair.Child
		line := c.at(path, e)
		cc, okChild := c.column(t, pair.Child, path, line)
		if pt == nil {
			continue // the parent's table is reported on the parent
		}
		pc, okParent := c.column(pt, pair.Parent, path, line)
		if !okChild || !okParent {
			continue
		}
		cl, pl := cc.class(), pc.class()
		if cl != pl && cl != classOther && pl != classOther {
			c.add(line, path, fmt.Sprintf("%s.%s (%s) cannot join %s.%s (%s): one is %s, the other %s",
				t.Name, pair.Child, cc.typeName(), pt.Name, pair.Parent, pc.typeName(), cl, pl),
				"join on columns of the same kind (both numbers or both text)")
		}
	}
}

// validateFits says why a validation cannot apply to col ("" when it can).
func validateFits(v string, col Column) (msg, fix string) {
	cl := col.class()
	need := validateLength(v)
	switch {
	case v == "date":
		if cl != classDate && cl != classText {
			return fmt.Sprintf("validate: date does not fit a %s column", col.typeName()),
				"use validate: date on a date or text column, or remove it"
		}
	case cl == classNumber && (v == "cpf" || v == "cnpj" || v == "cep" || v == "phone"):
		return fmt.Sprintf("validate: %s needs a text column; %s drops leading zeros", v, col.typeName()),
			"store the value in a CHAR or VARCHAR column, or remove validate"
	case cl != classText:
		return fmt.Sprintf("validate: %s needs a text column, not %s", v, col.typeName()),
			"remove validate or point it at a CHAR or VARCHAR column"
	case col.MaxLength > 0 && col.MaxLength < need:
		return fmt.Sprintf("validate: %s values need %d characters but the column holds %d", v, need, col.MaxLength),
			"widen the column or remove validate"
	}
	return "", ""
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// validateLength is the shortest column a validated value fits in.
func validateLength(v string) int64 {
	switch v {
	case "cpf":
		return 11
	case "cnpj":
		return 14
	case "phone":
		return 10
	case "cep":
		return 8
	case "email":
		return 6 // a@b.co
	}
	return 0
}
