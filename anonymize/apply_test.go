package anonymize

import (
	"strings"
	"testing"
	"time"
)

var (
	varchar   = func(n int64) Column { return Column{DataType: "varchar", MaxLength: n, Nullable: true} }
	textNN    = Column{DataType: "varchar", MaxLength: 20}
	dateCol   = Column{DataType: "date", Nullable: true}
	decimalNN = Column{DataType: "decimal"}
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// TestApplyExact covers the anonymizers whose output does not depend on the
// key, value by value, including the awkward ones: NULL, blanks, numbers,
// dates and values that do not parse.
func TestApplyExact(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]any
		col    Column
		in     any
		want   any
	}{
		{"keep", nil, varchar(20), "Ana", "Ana"},
		{"keep", nil, Column{DataType: "int"}, int64(7), int64(7)},
		{"nullify", nil, varchar(20), "Ana", nil},
		{"nullify", nil, varchar(20), "", nil},
		{"nullify", nil, Column{DataType: "decimal", Nullable: true}, "4870.50", nil},
		{"redact", nil, varchar(200), "Cliente enviou o CPF 123.456.789-09", "[removido]"},
		{"redact", nil, varchar(5), "segredo", "*****"},
		{"redact", nil, varchar(20), "", ""},
		{"redact", nil, varchar(20), "   ", "   "},
		{"redact", nil, varchar(20), nil, nil},
		{"constant", map[string]any{"value": 0}, Column{DataType: "tinyint"}, int64(1), "0"},
		{"constant", map[string]any{"value": "n/d"}, varchar(10), "Solteiro", "n/d"},
		{"constant", map[string]any{"value": "n/d"}, varchar(10), nil, nil},
		{"mask", nil, varchar(20), "secreto", "*******"},
		{"mask", map[string]any{"keep_last": 2, "ignore": ".-"}, varchar(20), "123.456.789-09", "***.***.***-09"},
		{"mask", map[string]any{"keep_first": 3, "keep_last": 3, "char": "#"}, varchar(20), "abcdef", "######"},
		{"mask", map[string]any{"keep_first": 1}, varchar(20), "Zé", "Z*"},
		{"generalize.year", nil, dateCol, day(1985, 3, 12), day(1985, 1, 1)},
		{"generalize.year", nil, Column{DataType: "datetime"}, time.Date(1985, 3, 12, 14, 5, 0, 0, time.UTC), day(1985, 1, 1)},
		{"generalize.year", nil, varchar(10), "12/03/1985", "01/01/1985"},
		{"generalize.year", nil, varchar(20), "1985-03-12 10:11:12", "1985-01-01 00:00:00"},
		{"generalize.year", nil, Column{DataType: "year"}, int64(1985), int64(1985)},
		{"generalize.year", nil, varchar(20), "ontem", nil},
		{"generalize.year", nil, textNN, "ontem", ""},
		{"generalize.month", nil, dateCol, day(1985, 3, 12), day(1985, 3, 1)},
		{"generalize.month", nil, dateCol, nil, nil},
		{"generalize.cep_prefix", nil, varchar(9), "01310-100", "01310-000"},
		{"generalize.cep_prefix", map[string]any{"digits": 3}, varchar(9), "01310100", "01300000"},
		{"generalize.cep_prefix", map[string]any{"digits": 3}, varchar(9), "01.310-100", "01300-000"},
		{"generalize.cep_prefix", nil, varchar(9), "sem CEP", nil},
		{"generalize.bucket", map[string]any{"size": 500}, decimalNN, "4870.50", "4500.00"},
		{"generalize.bucket", map[string]any{"size": 500}, decimalNN, "-1.00", "-500.00"},
		{"generalize.bucket", map[string]any{"size": 0.25}, decimalNN, "7.3", "7.25"},
		{"generalize.bucket", map[string]any{"size": 5}, Column{DataType: "smallint"}, int64(37), int64(35)},
		{"generalize.bucket", map[string]any{"size": 5}, Column{DataType: "smallint"}, int64(-1), int64(-5)},
		{"generalize.bucket", map[string]any{"size": 1000}, Column{DataType: "double"}, 2500.5, 2000.0},
		{"generalize.bucket", map[string]any{"size": 1000}, varchar(20), "R$ 2.500,00", nil},
		{"ip_truncate", nil, varchar(45), "192.168.10.77", "192.168.10.0"},
		{"ip_truncate", map[string]any{"ipv4_prefix": 16}, varchar(45), "192.168.10.77", "192.168.0.0"},
		{"ip_truncate", nil, varchar(45), "2001:db8:1:2:3:4:5:6", "2001:db8:1::"},
		{"ip_truncate", nil, varchar(45), "::ffff:10.1.2.3", "10.1.2.0"},
		{"ip_truncate", nil, varchar(45), "fe80::1%eth0", "fe80::"},
		{"ip_truncate", nil, varchar(45), "localhost", nil},
	}
	k := testKey(t, 1)
	for _, c := range cases {
		a := mustNew(t, c.name, c.params)
		if err := a.Check(c.col); err != nil {
			t.Fatalf("%s on %+v: %v", c.name, c.col, err)
		}
		got := apply(t, a, k, c.col, c.in)
		if gt, ok := got.(time.Time); ok {
			if wt, ok := c.want.(time.Time); !ok || !gt.Equal(wt) {
				t.Errorf("%s %v (%q) = %v, want %v", c.name, c.params, c.in, got, c.want)
			}
			continue
		}
		if got != c.want {
			t.Errorf("%s %v (%q) = %#v, want %#v", c.name, c.params, c.in, got, c.want)
		}
	}
}

// TestBlanks: NULL and blank text carry nothing personal and come back as
// they are from every anonymizer but nullify.
func TestBlanks(t *testing.T) {
	k := testKey(t, 2)
	for _, name := range NewRegistry().Names() {
		a := mustNew(t, name, nil)
		for _, in := range []any{nil, "", "  \t"} {
			got := apply(t, a, k, Column{}, in)
			want := in
			if name == "nullify" {
				want = nil
			}
			if got != want {
				t.Errorf("%s(%q) = %#v, want %#v", name, in, got, want)
			}
		}
	}
}

func TestDateShift(t *testing.T) {
	k := testKey(t, 3)
	a := mustNew(t, "date_shift", map[string]any{"max_days": 10})
	seen := map[int]bool{}
	for i := range 200 {
		in := day(1980, 1, 1).AddDate(0, 0, i)
		out := apply(t, a, k, dateCol, in).(time.Time)
		d := int(out.Sub(in).Hours() / 24)
		if d == 0 || d < -10 || d > 10 {
			t.Fatalf("date_shift moved %v by %d days, want 1..10 either way", in, d)
		}
		seen[d] = true
		text := apply(t, a, k, varchar(10), in.Format("02/01/2006"))
		if text != out.Format("02/01/2006") {
			t.Errorf("the same date as text shifted differently: %v vs %v", text, out)
		}
	}
	if len(seen) < 15 {
		t.Errorf("only %d distinct shifts in 200 dates", len(seen))
	}
	if got := apply(t, a, k, dateCol, day(9999, 12, 31)).(time.Time); got.Year() != 9999 {
		t.Errorf("date_shift left MySQL's date range: %v", got)
	}
	if got := apply(t, a, k, varchar(10), "amanhã"); got != nil {
		t.Errorf("an unreadable date became %v, want NULL", got)
	}
}

func TestRandomAndHMAC(t *testing.T) {
	k := testKey(t, 4)
	r := mustNew(t, "random", map[string]any{"length": 12, "charset": "digits"})
	out := apply(t, r, k, varchar(60), "ana.silva").(string)
	if len(out) != 12 || strings.Trim(out, "0123456789") != "" {
		t.Errorf("random(12, digits) = %q", out)
	}
	if dflt := apply(t, mustNew(t, "random", nil), k, varchar(8), "ana").(string); len(dflt) != 8 {
		t.Errorf("random without length on VARCHAR(8) = %q, want 8 characters", dflt)
	}
	h := mustNew(t, "hmac", map[string]any{"domain": "crm"})
	full := apply(t, h, k, varchar(100), "12345678909").(string)
	if len(full) != 64 {
		t.Errorf("hmac = %q, want 64 hex characters", full)
	}
	if cut := apply(t, h, k, varchar(20), "12345678909"); cut != full[:20] {
		t.Errorf("hmac on VARCHAR(20) = %q, want the first 20 characters", cut)
	}
	other := mustNew(t, "hmac", map[string]any{"domain": "outro"})
	if apply(t, other, k, varchar(100), "12345678909") == full {
		t.Error("two hmac domains gave the same pseudonym")
	}
	if apply(t, h, k, varchar(100), int64(12345678909)) != full {
		t.Error("the same value read as a number and as text gave different pseudonyms")
	}
}
