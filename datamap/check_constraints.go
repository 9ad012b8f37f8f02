package datamap

import (
	"fmt"
	"slices"
	"strings"
)

// UniqueConstrained reports whether two rows could collide on column once an
// anonymizer rewrote it: the column is in a primary or unique key whose
// other columns do not already hold a unique key of their own (UNIQUE
// (store_id, email): two customers of one store given one constant e-mail
// collide; UNIQUE (id, email) with id the primary key never does). A
// single-column key is the simplest case (UniqueColumn).
func UniqueConstrained(t *Table, column string) bool {
	keys := slices.Clone(t.Unique)
	if len(t.PrimaryKey) > 0 {
		keys = append(keys, t.PrimaryKey)
	}
	for _, k := range keys {
		if !slices.Contains(k, column) {
			continue
		}
		rest := slices.DeleteFunc(slices.Clone(k), func(c string) bool { return c == column })
		if !slices.ContainsFunc(keys, func(u []string) bool { return len(u) > 0 && subset(u, rest) }) {
			return true
		}
	}
	return false
}

// subset reports whether every column of a is in b.
func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// rewrites reports whether an anonymizer changes the stored value (every
// one but keep).
func rewrites(ref *AnonymizerRef) bool { return ref != nil && ref.Name != "keep" }

// foreignKeys refuses an anonymizer that would break a declared foreign
// key. On the referencing side a fake value points at no row (or at
// someone else's), so only nullify on a nullable column fits. On the
// referenced side the rows pointing at the old value would lose their
// parent (or, ON UPDATE CASCADE, be rewritten behind titular's back):
// refused too, since a key column identifies a row and is no one's data.
func (c *schemaCheck) foreignKeys(t *Table, f Field, col Column, path string) {
	if !rewrites(f.Anonymizer) {
		return
	}
	ap := path + ".anonymizer"
	line := c.m.line(ap, f.Line)
	for _, fk := range c.s.ForeignKeys {
		if fk.Table == t.Name && slices.Contains(fk.Columns, f.Column) {
			if f.Anonymizer.Name == "nullify" && col.Nullable {
				continue
			}
			fix := "map the column as category: contexto (no anonymizer) or anonymizer: keep: it is a link, not the person's data"
			if col.Nullable {
				fix = "use anonymizer: nullify, which empties the link, or map the column as category: contexto (no anonymizer)"
			}
			c.add(line, ap, fmt.Sprintf("%s on %s.%s breaks the foreign key %s(%s) -> %s(%s): a rewritten value points at no row, or at another person's",
				f.Anonymizer.Name, t.Name, f.Column, fk.Table, strings.Join(fk.Columns, ", "), fk.RefTable, strings.Join(fk.RefColumns, ", ")), fix)
			return
		}
	}
	for _, fk := range c.s.ForeignKeys {
		if fk.RefTable == t.Name && slices.Contains(fk.RefColumns, f.Column) {
			c.add(line, ap, fmt.Sprintf("%s on %s.%s rewrites a value the foreign key %s(%s) -> %s(%s) points at: the rows of %s would lose their parent",
				f.Anonymizer.Name, t.Name, f.Column, fk.Table, strings.Join(fk.Columns, ", "), fk.RefTable, strings.Join(fk.RefColumns, ", "), fk.Table),
				"map it as category: contexto (no anonymizer) or anonymizer: keep: other tables join on it")
			return
		}
	}
}
