package anonymize

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/titular/titular/datamap"
)

func TestRegistryHasEveryBuiltin(t *testing.T) {
	r := NewRegistry()
	for _, name := range datamap.BuiltinAnonymizers() {
		if !r.Known(name) {
			t.Errorf("the data map accepts %q but the registry has no constructor for it", name)
		}
	}
	if got, want := len(r.Names()), len(datamap.BuiltinAnonymizers()); got != want {
		t.Errorf("registry has %d built-ins, the data map vocabulary %d", got, want)
	}
}

// TestIrreversible pins which built-ins anonymize (Art. 12) and which only
// pseudonymize or keep (Art. 13): an ANONYMIZE request relies on it.
func TestIrreversible(t *testing.T) {
	keyed := []string{"keep", "mask", "hmac"}
	r := NewRegistry()
	for _, name := range r.Names() {
		a, err := r.New(name, defaultParams[name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if a.Name() != name {
			t.Errorf("%s: Name() = %q", name, a.Name())
		}
		if want := !slices.Contains(keyed, name); a.Irreversible() != want {
			t.Errorf("%s: Irreversible() = %v, want %v", name, a.Irreversible(), want)
		}
	}
}

type upper struct{}

func (upper) Name() string       { return "acme.upper" }
func (upper) Irreversible() bool { return false }
func (upper) Check(Column) error { return nil }
func (upper) Apply(_ *Key, _ Column, v any, _ int) (any, error) {
	return strings.ToUpper(v.(string)), nil
}

func TestRegister(t *testing.T) {
	r := NewRegistry()
	ctor := func(map[string]any) (Anonymizer, error) { return upper{}, nil }
	if err := r.Register("acme.upper", ctor); err != nil {
		t.Fatal(err)
	}
	a, err := r.New("acme.upper", nil)
	if err != nil || a.Name() != "acme.upper" {
		t.Fatalf("New(acme.upper) = %v, %v", a, err)
	}
	for _, name := range []string{"acme.upper", "fake.cpf", "Acme", "acme..x", "", "acme upper"} {
		if err := r.Register(name, ctor); err == nil {
			t.Errorf("Register(%q) was accepted", name)
		}
	}
	if err := r.Register("acme.nil", nil); err == nil {
		t.Error("a nil constructor was accepted")
	}
	if NewRegistry().Known("acme.upper") {
		t.Error("registering on one registry changed another: there must be no shared state")
	}
	if _, err := r.New("acme.missing", nil); !errors.Is(err, ErrUnknown) {
		t.Errorf("New(unknown) = %v, want ErrUnknown", err)
	}
}

func TestParams(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]any
		want   string // part of the message; "" means valid
	}{
		{"keep", map[string]any{"x": 1}, `unknown param "x": keep takes no params`},
		{"constant", nil, "value is required"},
		{"constant", map[string]any{"value": []any{1}}, "value must be text or a number"},
		{"constant", map[string]any{"value": 0}, ""},
		{"constant", map[string]any{"value": true}, ""},
		{"mask", map[string]any{"char": "ab"}, "char must be one character"},
		{"mask", map[string]any{"keep_first": -1}, "keep_first must be between 0 and 1000"},
		{"mask", map[string]any{"keep_last": 2.5}, "keep_last must be a whole number"},
		{"mask", map[string]any{"char": "#", "keep_first": 3, "keep_last": 2, "ignore": ".-"}, ""},
		{"hmac", map[string]any{"domain": " "}, "domain must not be empty"},
		{"hmac", map[string]any{"domain": 7}, "domain must be text"},
		{"random", map[string]any{"length": 0}, "length must be between 1 and 1024"},
		{"random", map[string]any{"charset": "a"}, "charset must be"},
		{"random", map[string]any{"length": 8, "charset": "hex"}, ""},
		{"fake.cnpj", map[string]any{"alphanumeric": "yes"}, "alphanumeric must be true or false"},
		{"generalize.cep_prefix", map[string]any{"digits": 8}, "digits must be between 1 and 7"},
		{"generalize.bucket", nil, "size is required"},
		{"generalize.bucket", map[string]any{"size": -5}, "size must be a positive number"},
		{"generalize.bucket", map[string]any{"size": "10"}, "size must be a number"},
		{"date_shift", map[string]any{"max_days": 0}, "max_days must be between 1 and 3650"},
		{"ip_truncate", map[string]any{"ipv4_prefix": 32}, "ipv4_prefix must be between 8 and 24"},
		{"ip_truncate", map[string]any{"ipv6_prefix": 56, "typo": 1}, `unknown param "typo"`},
	}
	r := NewRegistry()
	for _, c := range cases {
		_, err := r.New(c.name, c.params)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s %v: %v", c.name, c.params, err)
			}
			continue
		}
		var ae *Error
		if !errors.As(err, &ae) || !strings.Contains(ae.Msg, c.want) || ae.Fix() == "" {
			t.Errorf("%s %v: error %v, want an *Error containing %q with a fix", c.name, c.params, err, c.want)
		}
	}
}

func TestCheck(t *testing.T) {
	text := func(n int64) Column { return Column{DataType: "varchar", MaxLength: n, Nullable: true} }
	notNull := Column{DataType: "varchar", MaxLength: 100}
	unique := Column{DataType: "varchar", MaxLength: 100, Unique: true}
	cases := []struct {
		name   string
		params map[string]any
		col    Column
		ok     bool
	}{
		{"nullify", nil, text(10), true},
		{"nullify", nil, notNull, false},
		{"nullify", nil, Column{}, true},
		{"redact", nil, notNull, true},
		{"redact", nil, unique, false},
		{"redact", nil, Column{DataType: "int"}, false},
		{"constant", map[string]any{"value": "x"}, unique, false},
		{"constant", map[string]any{"value": "abcdef"}, text(3), false},
		{"constant", map[string]any{"value": 0}, Column{DataType: "tinyint"}, true},
		{"constant", map[string]any{"value": "n/a"}, Column{DataType: "int"}, false},
		{"constant", map[string]any{"value": "2000-01-01"}, Column{DataType: "date"}, true},
		{"constant", map[string]any{"value": "ontem"}, Column{DataType: "date"}, false},
		{"mask", nil, unique, false},
		{"hmac", nil, text(15), false},
		{"hmac", nil, text(16), true},
		{"random", map[string]any{"length": 20}, text(10), false},
		{"random", map[string]any{"length": 4, "charset": "digits"}, unique, false},
		{"random", map[string]any{"length": 12}, unique, true},
		{"fake.name", nil, Column{DataType: "int"}, false},
		{"fake.name", nil, unique, true},
		{"fake.email", nil, text(20), false},
		{"fake.email", nil, text(21), true},
		{"fake.cpf", nil, text(10), false},
		{"fake.cpf", nil, Column{DataType: "bigint"}, false},
		{"fake.cpf", nil, text(11), true},
		{"fake.cnpj", nil, Column{DataType: "char", MaxLength: 14}, true},
		{"fake.cep", nil, text(8), true},
		{"fake.phone", nil, text(10), false},
		{"fake.address", nil, unique, false},
		{"generalize.year", nil, Column{DataType: "date", Nullable: true}, true},
		{"generalize.year", nil, Column{DataType: "year"}, true},
		{"generalize.month", nil, Column{DataType: "int"}, false},
		{"generalize.month", nil, Column{DataType: "enum"}, false},
		{"generalize.cep_prefix", nil, text(7), false},
		{"generalize.bucket", map[string]any{"size": 0.5}, Column{DataType: "int"}, false},
		{"generalize.bucket", map[string]any{"size": 0.5}, Column{DataType: "decimal"}, true},
		{"generalize.bucket", map[string]any{"size": 5}, Column{DataType: "date"}, false},
		{"date_shift", nil, Column{DataType: "datetime"}, true},
		{"date_shift", nil, Column{DataType: "int"}, false},
		{"ip_truncate", nil, text(6), false},
		{"ip_truncate", nil, text(45), true},
	}
	r := NewRegistry()
	for _, c := range cases {
		a, err := r.New(c.name, c.params)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		err = a.Check(c.col)
		if (err == nil) != c.ok {
			t.Errorf("%s %v on %+v: Check = %v, want ok=%v", c.name, c.params, c.col, err, c.ok)
		}
		var ae *Error
		if err != nil && (!errors.As(err, &ae) || ae.Fix() == "") {
			t.Errorf("%s: Check error %v is not an *Error with a fix", c.name, err)
		}
	}
}

func TestKey(t *testing.T) {
	if _, err := NewKey(make([]byte, 31)); err == nil {
		t.Error("a 31-byte key was accepted")
	}
	secret := make([]byte, 32)
	k, err := NewKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	secret[0] = 1 // the key keeps its own copy
	a, _ := k.sum("d", 0, []byte("x"))
	b, _ := testKey(t, 0).sum("d", 0, []byte("x"))
	if a != b {
		t.Error("changing the caller's slice changed the key")
	}
	if c, _ := k.sum("e", 0, []byte("x")); c == a {
		t.Error("two domains gave the same HMAC")
	}
}

// TestCanonical: every spelling of one identifier has one canonical form,
// which the executor uses to move all copies together after a collision.
func TestCanonical(t *testing.T) {
	cpf := mustNew(t, "fake.cpf", nil).(Canonicalizer)
	if cpf.Canonical("123.456.789-09") != cpf.Canonical("12345678909") || cpf.Canonical("12345678909") != "12345678909" {
		t.Error("CPF spellings have different canonical forms")
	}
	if cpf.Canonical("12345678909") == cpf.Canonical("raw:12345678909") {
		t.Error("a raw value can pose as a normalized one")
	}
	email := mustNew(t, "fake.email", nil).(Canonicalizer)
	if email.Canonical(" Ana@Example.com ") != "ana@example.com" {
		t.Error("e-mail canonical form is not trimmed and lower-cased")
	}
}
