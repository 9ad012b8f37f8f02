package anonymize

import (
	"slices"
	"strings"

	"github.com/titular/titular/brdoc"
)

// Fakes of Brazilian identifiers are valid documents (check digits and all),
// keyed on the normalized identifier and written in the input's own shape,
// so every stored spelling of one CPF becomes the same spelling of one fake
// CPF, and the column's length is kept. A value that does not parse still
// gets a well-formed fake, keyed on its raw text.

// idFake is the part every identifier fake shares: reading the input and
// drawing until the fake differs from it.
type idFake struct {
	name string
	min  int64
	// norm returns the normalized identifier, or an error.
	norm func(s string) (string, error)
	// gen turns a draw into a normalized fake; alnum and mobile tell the
	// kind the input was.
	gen func(n uint64, in parsedID) string
	// render writes a normalized fake in the input's shape, fitting col.
	render func(fake string, in parsedID, col Column) string
}

// parsedID is an input identifier as read.
type parsedID struct {
	raw  string // trimmed input
	norm string // normalized form; "" when it did not parse
}

func (f idFake) Name() string           { return f.name }
func (f idFake) Irreversible() bool     { return true }
func (f idFake) Check(col Column) error { return needText(f.name, col, f.min) }

func (f idFake) Apply(k *Key, col Column, v any, attempt int) (any, error) {
	if blank(v) {
		return v, nil
	}
	in := f.parse(v)
	msg := in.canonical()
	for a := attempt; ; a++ {
		s, err := k.stream(f.name, a, []byte(msg))
		if err != nil {
			return nil, err
		}
		fake := f.gen(s.uint64(), in)
		s.close()
		if fake != in.norm {
			return f.render(fake, in, col), nil
		}
	}
}

func (f idFake) parse(v any) parsedID {
	in := parsedID{raw: canonical(v)}
	if n, err := f.norm(in.raw); err == nil {
		in.norm = n
	}
	return in
}

// Canonical is the normalized identifier, or the raw text when it does not
// parse (marked, so it never equals a normalized one).
func (f idFake) Canonical(v any) string { return f.parse(v).canonical() }

// canonical is Canonical for an input already parsed, so Apply reads the
// value once.
func (in parsedID) canonical() string {
	if in.norm != "" {
		return in.norm
	}
	return "raw:" + in.raw
}

// shaped writes fake in the shape in.raw has among shapes(in.norm); failing
// that (the input did not parse, or is spelt in a shape not listed), in the
// first of fallbacks (indexes into shapes(fake)) that fits the column.
func shaped(shapes func(string) []string, fake string, in parsedID, col Column, fallbacks ...int) string {
	out := shapes(fake)
	if in.norm != "" {
		if i := slices.Index(shapes(in.norm), in.raw); i >= 0 && i < len(out) && fits(out[i], col) {
			return out[i]
		}
	}
	for _, i := range fallbacks {
		if fits(out[i], col) {
			return out[i]
		}
	}
	return fit(out[fallbacks[len(fallbacks)-1]], col)
}

func newFakeCPF(p map[string]any) (Anonymizer, error) {
	return idFake{
		name: "fake.cpf", min: 11, norm: brdoc.NormalizeCPF,
		gen: func(n uint64, _ parsedID) string { return brdoc.CPFFromSeed(n) },
		render: func(fake string, in parsedID, col Column) string {
			return shaped(brdoc.CPFShapes, fake, in, col, 1, 0) // dotted when it fits, else digits
		},
	}, readParams("fake.cpf", p).done()
}

// fakeCNPJ's alphanumeric param draws from the IN RFB 2.229/2024 space even
// for numeric inputs; an alphanumeric input always gets an alphanumeric fake.
func newFakeCNPJ(p map[string]any) (Anonymizer, error) {
	ps := readParams("fake.cnpj", p)
	alnum := ps.flag("alphanumeric", false)
	return idFake{
		name: "fake.cnpj", min: 14, norm: brdoc.NormalizeCNPJ,
		gen: func(n uint64, in parsedID) string {
			letters := strings.IndexFunc(in.norm, func(r rune) bool { return r >= 'A' && r <= 'Z' }) >= 0
			return brdoc.CNPJFromSeed(n, alnum || letters)
		},
		render: func(fake string, in parsedID, col Column) string {
			if formatted := brdoc.FormatCNPJ(fake); strings.ContainsAny(in.raw, "./-") && fits(formatted, col) {
				return formatted
			}
			return fake
		},
	}, ps.done()
}

func newFakeCEP(p map[string]any) (Anonymizer, error) {
	return idFake{
		name: "fake.cep", min: 8, norm: brdoc.NormalizeCEP,
		gen: func(n uint64, _ parsedID) string { return brdoc.CEPFromSeed(n) },
		render: func(fake string, in parsedID, col Column) string {
			if dashed := brdoc.FormatCEP(fake); strings.Contains(in.raw, "-") && fits(dashed, col) {
				return dashed
			}
			return fake
		},
	}, readParams("fake.cep", p).done()
}

// fakePhone keeps the kind of number: a mobile stays a mobile and a landline
// a landline, so the shape (and length) of the input is kept too. Unparseable
// input gets a mobile.
func newFakePhone(p map[string]any) (Anonymizer, error) {
	return idFake{
		name: "fake.phone", min: 11, norm: brdoc.NormalizePhone,
		gen: func(n uint64, in parsedID) string {
			return brdoc.PhoneFromSeed(n, in.norm == "" || len(in.norm) == 14)
		},
		render: func(fake string, in parsedID, col Column) string {
			// (11) 98765-4321 when it fits, else 11987654321.
			return shaped(brdoc.PhoneShapes, fake, in, col, 3, 2)
		},
	}, readParams("fake.phone", p).done()
}
