package datamap

import (
	"fmt"
	"strings"
)

// WithIrreversible tells CheckSchema which anonymizers are irreversible
// (anonymization, Art. 12), typically from the anonymize registry. A held
// row loses the fields its holds do not keep: with their anonymizer when it
// is irreversible, else by NULL, which the column must accept. Without this
// option that last check is skipped.
func WithIrreversible(irreversible func(AnonymizerRef) bool) Option {
	return func(o *options) { o.irreversible = irreversible }
}

// holds checks each hold's date columns, and that every personal field a
// hold with keep does not keep can be minimized: an irreversible
// anonymizer, or a column that accepts NULL.
func (c *schemaCheck) holds(e *Entity, t *Table, base string) {
	for i, r := range e.Holds {
		hp := r.path
		if hp == "" { // a map built by hand
			hp = index(base+".retention", i)
		}
		fp := hp + ".from"
		for _, name := range r.From.Columns() {
			col, ok := c.column(t, name, fp, c.at(fp, e))
			if ok && col.class() != classDate {
				c.add(c.at(fp, e), fp, fmt.Sprintf("retention counts from %q, which is %s, not a date", name, col.typeName()),
					"name a date, datetime or timestamp column, such as the sale, cancellation or contract date")
			}
		}
		if r.Keep == nil || c.m.irreversible == nil {
			continue
		}
		for _, f := range e.PersonalFields() {
			if keeps(r, f.Column) || (f.Anonymizer != nil && c.m.irreversible(*f.Anonymizer)) {
				continue
			}
			col, ok := t.Columns[f.Column]
			if !ok || col.Nullable {
				continue // a missing column is reported with the field
			}
			kp := hp + ".keep"
			c.add(c.at(kp, e), kp, fmt.Sprintf("field %s is not kept by the hold (%s) and has no irreversible anonymizer, "+
				"so a held row would have to lose it by NULL, but column %q is NOT NULL", f.Column, r.Reference, f.Column),
				fmt.Sprintf("add %s to keep if the hold needs it, or give the field an irreversible anonymizer (%s)",
					f.Column, strings.Join([]string{"redact", "fake.*", "constant", "generalize.*"}, ", ")))
		}
	}
}

// keeps reports whether the hold says it needs column.
func keeps(r *Retention, column string) bool {
	for _, k := range r.Keep {
		if k == column {
			return true
		}
	}
	return false
}
