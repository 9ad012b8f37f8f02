package anonymize

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/titular/titular/brdoc"
)

// Generalizers keep a coarser version of the value: the year of a date, the
// region of a CEP, the band of an income. The output depends only on that
// coarse part, so it says nothing more about the titular than the bucket
// does; a value already at the start of its bucket (1 January, 01310-000)
// comes back as it is, which reveals no more than any other value would.

// generalizeDate keeps the year, or the year and month, of a date.
type generalizeDate struct {
	name  string
	month bool
}

func newGeneralizeYear(p map[string]any) (Anonymizer, error) {
	return generalizeDate{name: "generalize.year"}, readParams("generalize.year", p).done()
}

func newGeneralizeMonth(p map[string]any) (Anonymizer, error) {
	return generalizeDate{name: "generalize.month", month: true}, readParams("generalize.month", p).done()
}

func (g generalizeDate) Name() string     { return g.name }
func (generalizeDate) Irreversible() bool { return true }

func (g generalizeDate) Check(col Column) error {
	switch col.class() {
	case classDate, classTime, classText:
		return notUnique(g.name, col)
	case classNumber:
		// A YEAR (or integer year) column already holds only the year.
		if !g.month {
			return notUnique(g.name, col)
		}
	}
	return errorf("map it to a DATE, DATETIME, TIMESTAMP or text column", "%s cannot read a %s column", g.name, col.typeName())
}

func (g generalizeDate) Apply(_ *Key, col Column, v any, _ int) (any, error) {
	if blank(v) {
		return v, nil
	}
	if col.class() == classNumber {
		return v, nil // a year is as coarse as generalize.year goes
	}
	t, layout, ok := parseDate(v)
	if !ok {
		return unreadable(col), nil
	}
	m := time.January
	if g.month {
		m = t.Month()
	}
	out := formatDate(time.Date(t.Year(), m, 1, 0, 0, 0, 0, t.Location()), layout)
	if str, isText := out.(string); isText && !fits(str, col) {
		return unreadable(col), nil // "0:00" read leniently, written "00:00"
	}
	return out, nil
}

// cepPrefix keeps the first digits of a CEP (the region, sector and
// subsector as digits grow) and zeroes the rest, in the input's shape.
type cepPrefix struct{ digits int }

func newCEPPrefix(p map[string]any) (Anonymizer, error) {
	ps := readParams("generalize.cep_prefix", p)
	return cepPrefix{digits: ps.integer("digits", 5, 1, 7)}, ps.done()
}

func (cepPrefix) Name() string       { return "generalize.cep_prefix" }
func (cepPrefix) Irreversible() bool { return true }

func (cepPrefix) Check(col Column) error {
	if err := needText("generalize.cep_prefix", col, 8); err != nil {
		return err
	}
	return notUnique("generalize.cep_prefix", col)
}

func (c cepPrefix) Apply(_ *Key, col Column, v any, _ int) (any, error) {
	if blank(v) {
		return v, nil
	}
	raw := canonical(v)
	norm, err := brdoc.NormalizeCEP(raw)
	if errors.Is(err, brdoc.ErrInvalid) && strings.Trim(raw, "0.- ") == "" && strings.Count(raw, "0") == 8 {
		norm, err = "00000000", nil // already generalized to one zero digit: stays so
	}
	if err != nil {
		// Not a CEP: nothing of it may survive, and that is not a failure.
		return unreadable(col), nil //nolint:nilerr // an unparseable value becomes the unreadable marker
	}
	out := norm[:c.digits] + strings.Repeat("0", len(norm)-c.digits)
	if dashed := brdoc.FormatCEP(out); strings.Contains(raw, "-") && fits(dashed, col) {
		return dashed, nil
	}
	return out, nil
}

// bucket rounds a number down to a multiple of size: an income of 4,870.50
// becomes 4,500 with size 500. DECIMAL values are computed exactly and keep
// their scale.
type bucket struct {
	size float64
	text string   // size as written, for decimal scale
	rat  *big.Rat // size, exact; read only, so shared by concurrent Applies
}

func newBucket(p map[string]any) (Anonymizer, error) {
	ps := readParams("generalize.bucket", p)
	b := bucket{size: ps.number("size", 0)}
	if b.size == 0 && len(ps.errs) == 0 {
		ps.fail("size is required")
	}
	b.text = strconv.FormatFloat(b.size, 'f', -1, 64)
	b.rat, _ = new(big.Rat).SetString(b.text) // FormatFloat output always parses
	return b, ps.done()
}

func (bucket) Name() string       { return "generalize.bucket" }
func (bucket) Irreversible() bool { return true }

// integerTypes hold whole numbers only.
var integerTypes = []string{"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year"}

func (b bucket) Check(col Column) error {
	switch col.class() {
	case classNumber:
		for _, t := range integerTypes {
			if strings.EqualFold(col.DataType, t) && b.size != math.Trunc(b.size) {
				return errorf("use a whole size such as 5 or 1000", "generalize.bucket size %s cannot round a %s column", b.text, col.typeName())
			}
		}
	case classText:
	default:
		return errorf("map it to a number or text column", "generalize.bucket cannot read a %s column", col.typeName())
	}
	return notUnique("generalize.bucket", col)
}

func (b bucket) Apply(_ *Key, col Column, v any, _ int) (any, error) {
	if blank(v) {
		return v, nil
	}
	switch x := v.(type) {
	case int64:
		s := int64(b.size)
		q := x / s
		if x%s != 0 && x < 0 && q > math.MinInt64/s {
			q-- // round toward minus infinity, like the decimal path
		}
		return q * s, nil
	case float64:
		return math.Floor(x/b.size) * b.size, nil
	}
	raw := canonical(v)
	r, ok := new(big.Rat).SetString(raw)
	if !ok {
		return unreadable(col), nil
	}
	q := r.Quo(r, b.rat)
	floor := new(big.Int).Div(q.Num(), q.Denom()) // Euclidean: floor for a positive denominator
	out := q.Mul(q.SetInt(floor), b.rat)
	s := out.FloatString(max(decimals(raw), decimals(b.text)))
	if !fits(s, col) {
		return unreadable(col), nil
	}
	return s, nil
}

// decimals counts the digits after a number's decimal point.
func decimals(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}
