package anonymize

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/titular/titular/brdoc"
)

// TestFakeCPFShapes: every stored spelling of one CPF becomes the same
// spelling of one valid fake CPF, so joins across tables still hold.
func TestFakeCPFShapes(t *testing.T) {
	k := testKey(t, 5)
	a := mustNew(t, "fake.cpf", nil)
	const cpf = "12345678909"
	var fake string
	for i, shape := range brdoc.CPFShapes(cpf) {
		out := apply(t, a, k, varchar(14), shape).(string)
		digits, err := brdoc.NormalizeCPF(out)
		if err != nil {
			t.Fatalf("fake.cpf(%q) = %q is not a valid CPF", shape, out)
		}
		if i == 0 {
			fake = digits
		} else if digits != fake {
			t.Errorf("fake.cpf(%q) = %q, a different CPF than the other spellings (%s)", shape, out, fake)
		}
		if brdoc.CPFShapes(digits)[i] != out {
			t.Errorf("fake.cpf(%q) = %q is not in the input's shape", shape, out)
		}
	}
	if fake == cpf {
		t.Error("the fake CPF is the input")
	}
	if apply(t, a, testKey(t, 6), varchar(14), cpf) == fake {
		t.Error("two tenant keys gave the same fake CPF")
	}
	for _, junk := range []string{"não informado", "000.000.000-00", "123"} {
		out := apply(t, a, k, varchar(14), junk).(string)
		if _, err := brdoc.NormalizeCPF(out); err != nil || out == junk {
			t.Errorf("fake.cpf(%q) = %q, want a valid fake CPF", junk, out)
		}
	}
	if out := apply(t, a, k, varchar(11), "não informado").(string); len(out) != 11 {
		t.Errorf("fake.cpf on VARCHAR(11) = %q, want digits only", out)
	}
}

func TestFakeCNPJ(t *testing.T) {
	k := testKey(t, 5)
	cases := []struct {
		params    map[string]any
		in        string
		col       Column
		letters   bool
		formatted bool
	}{
		{nil, "11222333000181", Column{DataType: "char", MaxLength: 14}, false, false},
		{nil, "11.222.333/0001-81", varchar(18), false, true},
		{nil, "12ABC34501DE35", Column{DataType: "char", MaxLength: 14}, true, false},
		{nil, "12.ABC.345/01DE-35", varchar(14), true, false},
		{map[string]any{"alphanumeric": true}, "11222333000181", varchar(14), true, false},
	}
	for _, c := range cases {
		out := apply(t, mustNew(t, "fake.cnpj", c.params), k, c.col, c.in).(string)
		norm, err := brdoc.NormalizeCNPJ(out)
		if err != nil || norm == c.in {
			t.Errorf("fake.cnpj(%q) = %q: not a valid, different CNPJ (%v)", c.in, out, err)
			continue
		}
		// Most alphanumeric CNPJs have letters, not all: only numeric is checked.
		if hasLetters := strings.ContainsAny(norm, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"); hasLetters && !c.letters {
			t.Errorf("fake.cnpj(%q) = %q has letters for a numeric input", c.in, out)
		}
		if (len(out) == 18) != c.formatted {
			t.Errorf("fake.cnpj(%q) = %q, formatted=%v", c.in, out, c.formatted)
		}
	}
}

func TestFakePhone(t *testing.T) {
	k := testKey(t, 5)
	a := mustNew(t, "fake.phone", nil)
	for _, e164 := range []string{"+5511987654321", "+551134567890"} {
		var fake string
		for i, shape := range brdoc.PhoneShapes(e164) {
			out := apply(t, a, k, varchar(25), shape).(string)
			norm, err := brdoc.NormalizePhone(out)
			if err != nil {
				t.Fatalf("fake.phone(%q) = %q is not a phone", shape, out)
			}
			if i == 0 {
				fake = norm
			} else if norm != fake {
				t.Errorf("fake.phone(%q) = %q, another number than %s", shape, out, fake)
			}
			if brdoc.PhoneShapes(norm)[i] != out {
				t.Errorf("fake.phone(%q) = %q is not in the input's shape", shape, out)
			}
		}
		if fake == e164 || len(fake) != len(e164) {
			t.Errorf("fake of %s = %s: want another number of the same kind", e164, fake)
		}
	}
	for _, in := range []string{"011 98765-4321", "ramal 23"} {
		out := apply(t, a, k, varchar(25), in).(string)
		if _, err := brdoc.NormalizePhone(out); err != nil || out != "("+out[1:3]+") "+out[5:] {
			t.Errorf("fake.phone(%q) = %q, want a phone as (DD) NNNNN-NNNN", in, out)
		}
	}
	if out := apply(t, a, k, varchar(11), "ramal 23").(string); len(out) != 11 {
		t.Errorf("fake.phone on VARCHAR(11) = %q, want 11 digits", out)
	}
}

func TestFakeCEP(t *testing.T) {
	k := testKey(t, 5)
	a := mustNew(t, "fake.cep", nil)
	dashed := apply(t, a, k, varchar(9), "01310-100").(string)
	plain := apply(t, a, k, varchar(9), "01310100").(string)
	if len(dashed) != 9 || strings.ReplaceAll(dashed, "-", "") != plain {
		t.Errorf("fake.cep gave %q and %q for two spellings of one CEP", dashed, plain)
	}
	if _, err := brdoc.NormalizeCEP(plain); err != nil || plain == "01310100" {
		t.Errorf("fake.cep = %q", plain)
	}
}

func TestFakeNameEmailAddress(t *testing.T) {
	k := testKey(t, 5)
	name := mustNew(t, "fake.name", nil)
	a := apply(t, name, k, varchar(150), "José Antônio da Conceição")
	if b := apply(t, name, k, varchar(150), "  JOSE  ANTONIO DA CONCEICAO "); a != b {
		t.Errorf("two spellings of one name gave %q and %q", a, b)
	}
	if s := a.(string); len(strings.Fields(s)) < 2 {
		t.Errorf("fake.name = %q, want a given name and a surname", s)
	}
	if s := apply(t, name, k, varchar(5), "José da Silva").(string); utf8.RuneCountInString(s) > 5 {
		t.Errorf("fake.name on VARCHAR(5) = %q", s)
	}
	email := mustNew(t, "fake.email", nil)
	e := apply(t, email, k, varchar(150), "Jose.Conceicao@Example.COM").(string)
	if e != apply(t, email, k, varchar(150), "jose.conceicao@example.com") {
		t.Error("e-mail case changed the fake")
	}
	if _, err := brdoc.NormalizeEmail(e); err != nil || !strings.HasSuffix(e, "@example.com") && !strings.HasSuffix(e, "@example.net") && !strings.HasSuffix(e, "@example.org") {
		t.Errorf("fake.email = %q, want an address at a reserved domain", e)
	}
	if short := apply(t, email, k, varchar(21), "jose@example.com").(string); len(short) > 21 || !strings.HasSuffix(short, "@example.com") {
		t.Errorf("fake.email on VARCHAR(21) = %q", short)
	}
	street := apply(t, mustNew(t, "fake.address", nil), k, varchar(150), "Rua Augusta").(string)
	if !strings.Contains(street, " ") || street == "Rua Augusta" {
		t.Errorf("fake.address = %q", street)
	}
}

func TestNameLists(t *testing.T) {
	for _, list := range [][]string{givenNames[:], surnames[:], streetNames[:]} {
		seen := map[string]bool{}
		for _, n := range list {
			if seen[n] {
				t.Errorf("%q is listed twice", n)
			}
			seen[n] = true
		}
	}
	if len(givenNames)*len(surnames)*len(surnames) < 1_000_000 {
		t.Error("too few fake names for distinct titulares")
	}
}

// TestAttempt: a higher attempt draws another value, which is how the
// executor resolves collisions on UNIQUE columns.
func TestAttempt(t *testing.T) {
	k := testKey(t, 7)
	for _, name := range []string{"fake.cpf", "fake.email", "fake.name", "fake.phone", "fake.cnpj", "fake.cep", "random", "hmac"} {
		a := mustNew(t, name, nil)
		in := "12345678909"
		if name == "fake.email" {
			in = "ana@example.com"
		}
		first, err := a.Apply(k, varchar(100), in, 0)
		if err != nil {
			t.Fatal(err)
		}
		second, err := a.Apply(k, varchar(100), in, 1)
		if err != nil {
			t.Fatal(err)
		}
		if first == second {
			t.Errorf("%s: attempt 1 gave the same output as attempt 0", name)
		}
	}
}
