package export

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"
)

func TestDecimal(t *testing.T) {
	cases := []struct {
		in      Decimal
		literal bool
		float   float64
		number  bool // becomes an Excel number
	}{
		{"0", true, 0, true},
		{"-0.10", true, -0.1, true},
		{"12345.67", true, 12345.67, true},
		{"999999999999999", true, 999999999999999, true},
		{"9999999999999999", true, 0, false}, // 16 digits
		{"0.000000000000001", true, 1e-15, true},
		{"1000000000000000000000", true, 1e21, true}, // one significant digit
		{"1.5e3", true, 1500, true},
		{"1e400", true, 0, false},
		{"1e-400", true, 0, false},
		{"12345678901234567890.123456789", true, 0, false},
		{"", false, 0, false},
		{"-", false, 0, false},
		{"01", false, 0, false},
		{".5", false, 0, false},
		{"5.", false, 0, false},
		{"+5", false, 0, false},
		{"1,5", false, 0, false},
		{"NaN", false, 0, false},
		{"1e", false, 0, false},
		{" 1", false, 0, false},
	}
	for _, c := range cases {
		if got := isDecimalLiteral(string(c.in)); got != c.literal {
			t.Errorf("isDecimalLiteral(%q) = %v", c.in, got)
		}
		f, ok := decimalFloat(c.in)
		if ok != c.number || (ok && f != c.float) {
			t.Errorf("decimalFloat(%q) = %v, %v; want %v, %v", c.in, f, ok, c.float, c.number)
		}
	}
}

func TestDate(t *testing.T) {
	if got := (Date{Year: 987, Month: time.March, Day: 5}).String(); got != "0987-03-05" {
		t.Errorf("String = %q", got)
	}
	at := time.Date(2026, 1, 1, 1, 0, 0, 0, time.FixedZone("-03", -3*3600))
	if got := DateOf(at); got != (Date{2026, time.January, 1}) {
		t.Errorf("DateOf = %v, want the date in the time's own zone", got)
	}
}

// Whatever the text, a Decimal is written either verbatim as valid JSON or
// as an Excel number that shows exactly the same value.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0.10", "1e400", "1,5", "12345678901234567890.1", "-1.5E-7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if isDecimalLiteral(s) && !json.Valid([]byte(s)) {
			t.Fatalf("%q accepted as a literal but is not JSON", s)
		}
		v, ok := decimalFloat(Decimal(s))
		if !ok {
			return
		}
		if !isDecimalLiteral(s) || math.IsInf(v, 0) || math.IsNaN(v) {
			t.Fatalf("%q became number %v", s, v)
		}
		want, _ := strconv.ParseFloat(s, 64)
		if back, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 15, 64), 64); back != want {
			t.Fatalf("%q does not survive 15 digits: %v", s, back)
		}
	})
}
