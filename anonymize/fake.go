package anonymize

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// fakeName writes a pt-BR full name. Names are keyed on their folded form,
// so "JOSÉ DA SILVA" and "José da Silva" in two tables get one fake.
type fakeName struct{}

func newFakeName(p map[string]any) (Anonymizer, error) {
	return fakeName{}, readParams("fake.name", p).done()
}

func (fakeName) Name() string           { return "fake.name" }
func (fakeName) Irreversible() bool     { return true }
func (fakeName) Check(col Column) error { return needText("fake.name", col, 3) }

// Canonical is the folded name.
func (fakeName) Canonical(v any) string { return foldName(canonical(v)) }

func (f fakeName) Apply(k *Key, col Column, v any, attempt int) (any, error) {
	if blank(v) {
		return v, nil
	}
	in := f.Canonical(v)
	for a := attempt; ; a++ {
		s, err := k.stream("fake.name", a, []byte(in))
		if err != nil {
			return nil, err
		}
		given, last := givenNames[s.intn(len(givenNames))], surnames[s.intn(len(surnames))]
		name := given + " " + last
		if s.intn(3) > 0 { // two surnames, as most Brazilians have
			name = given + " " + surnames[s.intn(len(surnames))] + " " + last
		}
		s.close()
		if !fits(name, col) {
			name = given + " " + last
		}
		if out := fit(name, col); foldName(out) != in {
			return out, nil
		}
	}
}

// emailDomains are reserved for documentation by RFC 2606: mail to them
// never reaches anyone.
var emailDomains = [...]string{"example.com", "example.net", "example.org"}

// fakeEmailMin fits the short form u0123abcd@example.com.
const fakeEmailMin = 21

// fakeEmail writes nome.sobrenome1234@example.com (a reserved domain),
// keyed on the lower-cased address.
type fakeEmail struct{}

func newFakeEmail(p map[string]any) (Anonymizer, error) {
	return fakeEmail{}, readParams("fake.email", p).done()
}

func (fakeEmail) Name() string           { return "fake.email" }
func (fakeEmail) Irreversible() bool     { return true }
func (fakeEmail) Check(col Column) error { return needText("fake.email", col, fakeEmailMin) }

// Canonical is the lower-cased address.
func (fakeEmail) Canonical(v any) string { return strings.ToLower(canonical(v)) }

func (f fakeEmail) Apply(k *Key, col Column, v any, attempt int) (any, error) {
	if blank(v) {
		return v, nil
	}
	in := f.Canonical(v)
	for a := attempt; ; a++ {
		s, err := k.stream("fake.email", a, []byte(in))
		if err != nil {
			return nil, err
		}
		given, last := givenNames[s.intn(len(givenNames))], surnames[s.intn(len(surnames))]
		out := fmt.Sprintf("%s.%s%04d@%s", slug(given), slug(last), s.intn(10_000), emailDomains[s.intn(len(emailDomains))])
		if !fits(out, col) {
			var b [4]byte
			for i := range b {
				b[i] = byte(s.intn(256)) //nolint:gosec // G115: intn(256) is in [0, 256)
			}
			out = "u" + hex.EncodeToString(b[:]) + "@example.com"
		}
		s.close()
		if out != in {
			return out, nil
		}
	}
}

// fakeAddressMin fits the shortest street, "Rua do Sol".
const fakeAddressMin = 10

// fakeAddress writes a street name (logradouro) without a number: numbers,
// complements and neighbourhoods are their own columns in a CRM.
type fakeAddress struct{}

func newFakeAddress(p map[string]any) (Anonymizer, error) {
	return fakeAddress{}, readParams("fake.address", p).done()
}

func (fakeAddress) Name() string       { return "fake.address" }
func (fakeAddress) Irreversible() bool { return true }

func (fakeAddress) Check(col Column) error {
	if err := needText("fake.address", col, fakeAddressMin); err != nil {
		return err
	}
	return notUnique("fake.address", col)
}

// Canonical is the folded street name.
func (fakeAddress) Canonical(v any) string { return foldName(canonical(v)) }

func (f fakeAddress) Apply(k *Key, col Column, v any, attempt int) (any, error) {
	if blank(v) {
		return v, nil
	}
	in := f.Canonical(v)
	for a := attempt; ; a++ {
		s, err := k.stream("fake.address", a, []byte(in))
		if err != nil {
			return nil, err
		}
		out := fit(streetTypes[s.intn(len(streetTypes))]+" "+streetNames[s.intn(len(streetNames))], col)
		s.close()
		if foldName(out) != in {
			return out, nil
		}
	}
}
