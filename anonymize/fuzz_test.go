package anonymize

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Invariants every built-in keeps, whatever the input:
//   - deterministic: the same key, column and value give the same output;
//   - fits the column: text within its length, never NULL in a NOT NULL
//     column (unless the input was NULL), the column's kind of value;
//   - irreversible ones never emit their input: fakes, random and
//     date_shift always differ from a non-blank input; generalizers and
//     fixed replacements are idempotent (their output is already a bucket or
//     the marker), so an output equal to the input reveals only the bucket.

// drawsNew are the irreversible anonymizers whose output never equals a
// non-blank input.
var drawsNew = map[string]bool{
	"random": true, "fake.name": true, "fake.email": true, "fake.phone": true, "fake.cpf": true,
	"fake.cnpj": true, "fake.cep": true, "fake.address": true, "date_shift": true,
}

// fuzzColumn builds a column from fuzzed numbers, clamped to what each
// anonymizer's Check accepts (columns it refuses are skipped).
func fuzzColumn(dataType string, maxLen uint8, nullable bool) Column {
	return Column{DataType: dataType, MaxLength: int64(maxLen), Nullable: nullable}
}

func checkInvariants(t *testing.T, a Anonymizer, col Column, in any) {
	t.Helper()
	if a.Check(col) != nil {
		return
	}
	k := testKey(t, 9)
	out, err := a.Apply(k, col, in, 0)
	if err != nil {
		t.Fatalf("%s(%q): %v", a.Name(), in, err)
	}
	again, _ := a.Apply(k, col, in, 0)
	if !same(out, again) {
		t.Fatalf("%s(%q) is not deterministic: %#v then %#v", a.Name(), in, out, again)
	}
	if out == nil && in != nil && !col.Nullable && col.DataType != "" {
		t.Fatalf("%s(%q) wrote NULL into a NOT NULL column", a.Name(), in)
	}
	if s, ok := out.(string); ok {
		if !fits(s, col) {
			t.Fatalf("%s(%q) = %q does not fit %d characters", a.Name(), in, s, col.MaxLength)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("%s(%q) = %q is not valid UTF-8", a.Name(), in, s)
		}
	}
	if !a.Irreversible() || blank(in) {
		return
	}
	if drawsNew[a.Name()] {
		if same(out, in) || (a.Name() == "fake.email" && strings.EqualFold(canonical(out), canonical(in))) {
			t.Fatalf("%s emitted its input %q", a.Name(), in)
		}
		return
	}
	if twice, _ := a.Apply(k, col, out, 0); out != nil && !same(twice, out) && !blank(out) {
		t.Fatalf("%s is not idempotent: %q -> %#v -> %#v", a.Name(), in, out, twice)
	}
}

func same(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return a == b
}

func textAnonymizers(t testing.TB) []Anonymizer {
	var out []Anonymizer
	for _, name := range NewRegistry().Names() {
		out = append(out, mustNew(t, name, nil))
	}
	return append(out,
		mustNew(t, "mask", map[string]any{"keep_first": 2, "keep_last": 2, "ignore": ".-/"}),
		mustNew(t, "random", map[string]any{"length": 6, "charset": "ab"}),
		mustNew(t, "fake.cnpj", map[string]any{"alphanumeric": true}),
		mustNew(t, "generalize.cep_prefix", map[string]any{"digits": 1}),
		mustNew(t, "generalize.bucket", map[string]any{"size": 0.01}),
		mustNew(t, "date_shift", map[string]any{"max_days": 1}),
		mustNew(t, "ip_truncate", map[string]any{"ipv4_prefix": 8, "ipv6_prefix": 16}),
	)
}

func FuzzText(f *testing.F) {
	for _, s := range []string{
		"123.456.789-09", "12345678909", "12.ABC.345/01DE-35", "11222333000181", "(11) 98765-4321",
		"+551134567890", "01310-100", "Jose@Example.com", "José da Conceição", "Rua Augusta",
		"12/03/1985", "1985-03-12 10:11:12", "4870.50", "-3", "192.168.0.1", "2001:db8::1",
		"", " ", "não informado", "\xff\xfe", "0000-00-00", "9999-12-31",
	} {
		f.Add(s, uint8(0), true)
		f.Add(s, uint8(14), false)
	}
	anons := textAnonymizers(f)
	f.Fuzz(func(t *testing.T, in string, maxLen uint8, nullable bool) {
		if !utf8.ValidString(in) {
			in = strings.ToValidUTF8(in, "?") // MySQL text columns hold valid text
		}
		col := fuzzColumn("varchar", maxLen, nullable)
		if !fits(in, col) {
			return // the column could not hold it in the first place
		}
		for _, a := range anons {
			checkInvariants(t, a, col, in)
		}
	})
}

func FuzzNumber(f *testing.F) {
	for _, n := range []int64{0, 1, -1, 37, 4870, 1 << 62, -1 << 63} {
		f.Add(n, 2.5)
	}
	anons := []Anonymizer{
		mustNew(f, "generalize.bucket", map[string]any{"size": 5}),
		mustNew(f, "generalize.bucket", map[string]any{"size": 1000}),
		mustNew(f, "constant", map[string]any{"value": 0}),
		mustNew(f, "nullify", nil),
		mustNew(f, "keep", nil),
		mustNew(f, "generalize.year", nil),
	}
	f.Fuzz(func(t *testing.T, n int64, x float64) {
		for _, a := range anons {
			checkInvariants(t, a, Column{DataType: "bigint", Nullable: true}, n)
			checkInvariants(t, a, Column{DataType: "double"}, x)
		}
	})
}

func FuzzDate(f *testing.F) {
	for _, s := range []int64{0, 1, 86400 * 365 * 30, -86400 * 365 * 900, 253402300799} {
		f.Add(s)
	}
	anons := []Anonymizer{
		mustNew(f, "generalize.year", nil), mustNew(f, "generalize.month", nil),
		mustNew(f, "date_shift", nil), mustNew(f, "date_shift", map[string]any{"max_days": 3650}),
	}
	f.Fuzz(func(t *testing.T, secs int64) {
		// MySQL's DATE and DATETIME range.
		in := time.Unix(secs, 0).UTC()
		if in.Year() < 1000 || in.Year() > 9999 {
			return
		}
		for _, a := range anons {
			checkInvariants(t, a, Column{DataType: "datetime"}, in)
			d := time.Date(in.Year(), in.Month(), in.Day(), 0, 0, 0, 0, time.UTC)
			checkInvariants(t, a, Column{DataType: "date", Nullable: true}, d)
			if out, _ := a.Apply(testKey(t, 9), Column{DataType: "date"}, d, 0); out.(time.Time).Year() < 1000 || out.(time.Time).Year() > 9999 {
				t.Fatalf("%s(%v) = %v leaves MySQL's date range", a.Name(), d, out)
			}
		}
	})
}
