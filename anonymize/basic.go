package anonymize

import (
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"
)

// keep leaves the value as it is. It is not anonymization: an ANONYMIZE
// request accepts it only on a field under a retention hold.
type keep struct{}

func newKeep(p map[string]any) (Anonymizer, error) { return keep{}, readParams("keep", p).done() }

func (keep) Name() string                                      { return "keep" }
func (keep) Irreversible() bool                                { return false }
func (keep) Check(Column) error                                { return nil }
func (keep) Apply(_ *Key, _ Column, v any, _ int) (any, error) { return v, nil }

// nullify writes NULL, whatever the value.
type nullify struct{}

func newNullify(p map[string]any) (Anonymizer, error) {
	return nullify{}, readParams("nullify", p).done()
}

func (nullify) Name() string       { return "nullify" }
func (nullify) Irreversible() bool { return true }

func (nullify) Check(col Column) error {
	if !col.Nullable && col.DataType != "" {
		return errorf("use redact or constant on NOT NULL columns, or allow NULL in the column",
			"nullify cannot write NULL: the column is NOT NULL")
	}
	return nil
}

func (nullify) Apply(*Key, Column, any, int) (any, error) { return nil, nil }

// redactText replaces free text. It is pt-BR: the DPO and the titular read it.
const redactText = "[removido]"

// redact replaces text with a fixed marker, cut to the column's length.
type redact struct{}

func newRedact(p map[string]any) (Anonymizer, error) { return redact{}, readParams("redact", p).done() }

func (redact) Name() string       { return "redact" }
func (redact) Irreversible() bool { return true }

func (redact) Check(col Column) error {
	if err := needText("redact", col, 1); err != nil {
		return err
	}
	return notUnique("redact", col)
}

func (redact) Apply(_ *Key, col Column, v any, _ int) (any, error) {
	if blank(v) {
		return v, nil
	}
	if fits(redactText, col) {
		return redactText, nil
	}
	return strings.Repeat("*", int(col.MaxLength)), nil
}

// constant writes one fixed value, given as text or a number.
type constant struct{ value string }

func newConstant(p map[string]any) (Anonymizer, error) {
	ps := readParams("constant", p)
	c := constant{}
	v, ok := ps.get("value")
	switch x := v.(type) {
	case string:
		c.value = x
	case int, int64, float64:
		c.value = canonical(x)
	case bool:
		c.value = map[bool]string{true: "1", false: "0"}[x]
	default:
		if ok {
			ps.fail("value must be text or a number")
		} else {
			ps.fail("value is required")
		}
	}
	return c, ps.done()
}

func (constant) Name() string       { return "constant" }
func (constant) Irreversible() bool { return true }

func (c constant) Check(col Column) error {
	if err := notUnique("constant", col); err != nil {
		return err
	}
	fix := "write a value the column can hold"
	switch col.class() {
	case classText:
		if !fits(c.value, col) {
			return errorf(fix, "constant value has %d characters but the column holds %d", utf8.RuneCountInString(c.value), col.MaxLength)
		}
	case classNumber:
		if _, err := strconv.ParseFloat(c.value, 64); err != nil {
			return errorf(fix, "constant value is not a number and the column is %s", col.typeName())
		}
	case classDate, classTime:
		if _, _, ok := parseDate(c.value); !ok {
			return errorf(fix+", such as 2000-01-01", "constant value is not a date and the column is %s", col.typeName())
		}
	case classBinary:
		return errorf(fix, "constant cannot write a %s column", col.typeName())
	}
	return nil
}

func (c constant) Apply(_ *Key, _ Column, v any, _ int) (any, error) {
	if blank(v) {
		return v, nil
	}
	return c.value, nil
}

// mask hides characters behind char, showing keep_first and keep_last of
// them; characters in ignore (punctuation such as ".-/") stay as they are
// and are not counted. A mask keeps part of the value, so it is
// pseudonymization: a masked CPF is still that CPF to whoever knows some of it.
type mask struct {
	char                rune
	keepFirst, keepLast int
	ignore              string
}

func newMask(p map[string]any) (Anonymizer, error) {
	ps := readParams("mask", p)
	m := mask{char: '*'}
	if c := ps.text("char", "*"); utf8.RuneCountInString(c) == 1 {
		m.char, _ = utf8.DecodeRuneInString(c)
	} else {
		ps.fail("char must be one character")
	}
	m.keepFirst = ps.integer("keep_first", 0, 0, 1000)
	m.keepLast = ps.integer("keep_last", 0, 0, 1000)
	m.ignore = ps.text("ignore", "")
	return m, ps.done()
}

func (mask) Name() string       { return "mask" }
func (mask) Irreversible() bool { return false }

func (m mask) Check(col Column) error {
	if err := needText("mask", col, 0); err != nil {
		return err
	}
	return notUnique("mask", col)
}

func (m mask) Apply(_ *Key, col Column, v any, _ int) (any, error) {
	if blank(v) {
		return v, nil
	}
	s, _ := text(v)
	if s == "" {
		s = canonical(v)
	}
	n := 0
	for _, r := range s {
		if !strings.ContainsRune(m.ignore, r) {
			n++
		}
	}
	show := m.keepFirst+m.keepLast < n // showing everything would be no mask
	var b strings.Builder
	i := 0
	for _, r := range s {
		if strings.ContainsRune(m.ignore, r) {
			b.WriteRune(r)
			continue
		}
		if show && (i < m.keepFirst || i >= n-m.keepLast) {
			b.WriteRune(r)
		} else {
			b.WriteRune(m.char)
		}
		i++
	}
	return fit(b.String(), col), nil
}

// hmacMinLen is the shortest hmac output: 64 bits of the tag, in hex.
const hmacMinLen = 16

// hmacAnon replaces a value with the hex HMAC of it under the tenant key and
// its domain: a stable pseudonym. Whoever holds the key can recompute it for
// a guessed value (and a CPF has only 10^9 values), so it is not
// anonymization.
type hmacAnon struct{ domain string }

func newHMAC(p map[string]any) (Anonymizer, error) {
	ps := readParams("hmac", p)
	h := hmacAnon{domain: ps.text("domain", "hmac")}
	if strings.TrimSpace(h.domain) == "" {
		ps.fail("domain must not be empty")
	}
	return h, ps.done()
}

func (hmacAnon) Name() string       { return "hmac" }
func (hmacAnon) Irreversible() bool { return false }

func (hmacAnon) Check(col Column) error { return needText("hmac", col, hmacMinLen) }

func (h hmacAnon) Apply(k *Key, col Column, v any, attempt int) (any, error) {
	if blank(v) {
		return v, nil
	}
	sum, err := k.sum("hmac:"+h.domain, attempt, []byte(canonical(v)))
	if err != nil {
		return nil, err
	}
	return fit(hex.EncodeToString(sum[:]), col), nil
}

// charsets are random's named character sets.
var charsets = map[string]string{
	"alnum":  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"alpha":  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"lower":  "abcdefghijklmnopqrstuvwxyz",
	"upper":  "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"digits": "0123456789",
	"hex":    "0123456789abcdef",
}

// random writes length characters drawn from charset (a name from charsets
// or the characters themselves). The draw is keyed by the input, so it is
// repeatable, but the output has nothing of the input's form.
type random struct {
	length  int
	charset []rune
}

func newRandom(p map[string]any) (Anonymizer, error) {
	ps := readParams("random", p)
	r := random{length: ps.integer("length", 0, 1, 1024)}
	cs := ps.text("charset", "alnum")
	if named, ok := charsets[cs]; ok {
		cs = named
	}
	seen := map[rune]bool{}
	for _, c := range cs {
		if !seen[c] {
			seen[c] = true
			r.charset = append(r.charset, c)
		}
	}
	if len(r.charset) < 2 {
		ps.fail("charset must be alnum, alpha, lower, upper, digits, hex or at least two distinct characters")
	}
	return r, ps.done()
}

func (random) Name() string       { return "random" }
func (random) Irreversible() bool { return true }

// size is the output length: the param, else 16 or the column's length.
func (r random) size(col Column) int {
	if r.length > 0 {
		return r.length
	}
	if col.MaxLength > 0 && col.MaxLength < 16 {
		return int(col.MaxLength)
	}
	return 16
}

func (r random) Check(col Column) error {
	if err := needText("random", col, int64(r.length)); err != nil {
		return err
	}
	// On a UNIQUE column the output space must dwarf the rows, or retries
	// after collisions would never end: ask for at least 2^32 values.
	bits := 0.0
	for n := 1; n < len(r.charset); n *= 2 {
		bits++
	}
	if col.Unique && bits*float64(r.size(col)) < 32 {
		return errorf("raise length or use a larger charset", "random draws too few distinct values for a UNIQUE column")
	}
	return nil
}

func (r random) Apply(k *Key, col Column, v any, attempt int) (any, error) {
	if blank(v) {
		return v, nil
	}
	in := canonical(v)
	for a := attempt; ; a++ {
		s, err := k.stream("random", a, []byte(in))
		if err != nil {
			return nil, err
		}
		out := make([]rune, r.size(col))
		for i := range out {
			out[i] = r.charset[s.intn(len(r.charset))]
		}
		s.close()
		if res := string(out); res != in {
			return res, nil
		}
	}
}
