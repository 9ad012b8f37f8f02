package anonymize

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// class groups column types by what an anonymizer may write into them.
type class int

const (
	classText   class = iota // char, varchar, text; also an unknown type
	classNumber              // integers, decimal, float, year
	classDate                // date
	classTime                // datetime, timestamp
	classBinary              // binary, varbinary, blobs
	classOther               // enum, set, json, time, bit, spatial: constrained values
)

func (c Column) class() class {
	switch strings.ToLower(c.DataType) {
	case "", "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		return classText
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric",
		"float", "double", "real", "year":
		return classNumber
	case "date":
		return classDate
	case "datetime", "timestamp":
		return classTime
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return classBinary
	}
	return classOther
}

// typeName is the column type for messages.
func (c Column) typeName() string {
	if c.DataType == "" {
		return "text"
	}
	return strings.ToLower(c.DataType)
}

// needText refuses columns that do not hold text, or hold fewer than
// minChars characters.
func needText(name string, col Column, minChars int64) error {
	if col.class() != classText {
		return errorf("map "+name+" to a CHAR, VARCHAR or TEXT column, or choose another anonymizer",
			"%s writes text and cannot write a %s column", name, col.typeName())
	}
	if minChars > 0 && col.MaxLength > 0 && col.MaxLength < minChars {
		return errorf(fmt.Sprintf("widen the column to at least %d characters or choose another anonymizer", minChars),
			"%s needs at least %d characters but the column holds %d", name, minChars, col.MaxLength)
	}
	return nil
}

// notUnique refuses UNIQUE columns for anonymizers whose outputs repeat.
func notUnique(name string, col Column) error {
	if col.Unique {
		return errorf("use an anonymizer that draws distinct values (fake.*, random) or nullify",
			"%s writes repeating values and the column is UNIQUE", name)
	}
	return nil
}

// text returns v as text when it is a string or bytes.
func text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return "", false
}

// blank reports NULL and empty or all-space text: values every anonymizer
// but nullify returns unchanged, since they carry nothing personal.
func blank(v any) bool {
	if v == nil {
		return true
	}
	s, ok := text(v)
	return ok && strings.TrimSpace(s) == ""
}

// fit cuts s to the column's length in characters.
func fit(s string, col Column) string {
	if col.MaxLength <= 0 || int64(len(s)) <= col.MaxLength {
		return s
	}
	if int64(utf8.RuneCountInString(s)) <= col.MaxLength {
		return s
	}
	n := int64(0)
	for i := range s {
		if n == col.MaxLength {
			return s[:i]
		}
		n++
	}
	return s
}

// fits reports whether s fits the column's length.
func fits(s string, col Column) bool {
	return col.MaxLength <= 0 || int64(utf8.RuneCountInString(s)) <= col.MaxLength
}

// unreadable is what a transform that needs the parsed value writes when it
// cannot parse it: NULL when the column allows it, else the empty string.
// Nothing of the original survives either way.
func unreadable(col Column) any {
	if col.Nullable || col.DataType == "" {
		return nil
	}
	return ""
}

// canonical renders a value as the text an HMAC is computed over: the same
// value read from a VARCHAR or an INT column gives the same text.
func canonical(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case []byte:
		return strings.TrimSpace(string(x))
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// dateLayouts are the text layouts date transforms understand, most specific
// first. Brazilian CRMs store ISO dates and dd/mm/yyyy.
var dateLayouts = []string{
	"2006-01-02 15:04:05.999999", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05",
	"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02",
	"02/01/2006 15:04:05", "02/01/2006 15:04", "02/01/2006",
}

// parseDate reads a date or datetime value. For text it also returns the
// layout, so the result is written back the way it was stored.
func parseDate(v any) (t time.Time, layout string, ok bool) {
	switch x := v.(type) {
	case time.Time:
		return x, "", true
	}
	s, isText := text(v)
	if !isText {
		return time.Time{}, "", false
	}
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, l, true
		}
	}
	return time.Time{}, "", false
}

// formatDate writes t back in the input's form: a time.Time for date
// columns, text in layout otherwise.
func formatDate(t time.Time, layout string) any {
	if layout == "" {
		return t
	}
	return t.Format(layout)
}
