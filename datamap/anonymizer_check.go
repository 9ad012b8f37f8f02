package datamap

import (
	"errors"
	"slices"
)

// AnonymizerCheck validates an anonymizer reference beyond its name. Parse
// calls it with col nil to check the params alone; CheckSchema calls it with
// the column the field maps to, unique telling whether two rows could
// collide on it (UniqueConstrained). An error with a Fix() string method
// gives the problem's fix. The anonymize registry supplies it (through the
// store, which knows both packages), so datamap stays free of anonymizers.
type AnonymizerCheck func(ref AnonymizerRef, col *Column, unique bool) error

// WithAnonymizerCheck validates anonymizer params at Parse and their fit to
// the column at CheckSchema (type, length, NULL, UNIQUE).
func WithAnonymizerCheck(check AnonymizerCheck) Option {
	return func(o *options) { o.check = check }
}

// anonymizerProblem splits a check error into message and fix.
func anonymizerProblem(err error) (msg, fix string) {
	var f interface{ Fix() string }
	if errors.As(err, &f) && f.Fix() != "" {
		return err.Error(), f.Fix()
	}
	return err.Error(), "choose an anonymizer and params that fit the column"
}

// anonymizer runs the check on a field's anonymizer against its column.
func (c *schemaCheck) anonymizer(t *Table, f Field, col Column, path string) {
	if f.Anonymizer == nil {
		return
	}
	c.foreignKeys(t, f, col, path)
	if c.m.anonCheck == nil {
		return
	}
	if err := c.m.anonCheck(*f.Anonymizer, &col, UniqueConstrained(t, f.Column)); err != nil {
		ap := path + ".anonymizer"
		msg, fix := anonymizerProblem(err)
		c.add(c.m.line(ap, f.Line), ap, msg, fix)
	}
}

// UniqueColumn reports whether column alone is the table's primary key or
// one of its unique keys, so no two rows may hold the same value.
func UniqueColumn(t *Table, column string) bool {
	one := []string{column}
	return slices.Equal(t.PrimaryKey, one) || slices.ContainsFunc(t.Unique, func(u []string) bool { return slices.Equal(u, one) })
}
