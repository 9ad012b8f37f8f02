package seed

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"
)

// identities hands out CPFs, phone numbers and e-mail suffixes that never
// repeat within one run, so no two distinct people share an identifier.
// Each sequence runs a counter through a permutation of its number space,
// which looks random but cannot collide.
type identities struct {
	next                 int // people handed out so far
	cpfs, mobiles, lands permutation
}

func newIdentities(rng *rand.Rand) *identities {
	return &identities{
		cpfs:    newPermutation(rng, 9),
		mobiles: newPermutation(rng, 8),
		lands:   newPermutation(rng, 7),
	}
}

// permutation is a bijection on the numbers of `width` decimal digits:
// affine map, digit reversal, affine map. One affine map alone would leave
// visible strides between consecutive outputs.
type permutation struct {
	width, mod     int
	a1, b1, a2, b2 int
	seq            int
}

func newPermutation(rng *rand.Rand, width int) permutation {
	mod := 1
	for range width {
		mod *= 10
	}
	coprime := func() int { // odd and not a multiple of 5: invertible mod 10^k
		for {
			if m := 1 + rng.IntN(mod-1); m%2 != 0 && m%5 != 0 {
				return m
			}
		}
	}
	return permutation{width: width, mod: mod, a1: coprime(), b1: rng.IntN(mod), a2: coprime(), b2: rng.IntN(mod)}
}

func (p *permutation) nextValue() int {
	x := (p.seq*p.a1 + p.b1) % p.mod
	p.seq++
	r := 0
	for range p.width {
		r, x = r*10+x%10, x/10
	}
	return (r*p.a2 + p.b2) % p.mod
}

func (id *identities) cpf() string {
	for {
		if base := id.cpfs.nextValue(); !repeatedDigits(base) {
			return cpfFromBase(base)
		}
	}
}

func repeatedDigits(base int) bool {
	s := fmt.Sprintf("%09d", base)
	return strings.Count(s, s[:1]) == len(s)
}

// mobile is +55 DDD 9XXXXXXXX; the eight digits after the 9 are unique.
func (id *identities) mobile(ddd string) string {
	return fmt.Sprintf("+55%s9%08d", ddd, id.mobiles.nextValue())
}

// landline is +55 DDD [2-5]XXXXXXX; the seven digits after the first are unique.
func (id *identities) landline(ddd string) string {
	n := id.lands.nextValue()
	return fmt.Sprintf("+55%s%d%07d", ddd, 2+n%4, n)
}

// person is one synthetic human, before any table stores a copy of them.
type person struct {
	no                 int // unique per run; suffix of the e-mail
	cpf                string
	given, surnames    []string // surnames may start with a connective ("da")
	female             bool
	birth              time.Time
	email              string // normalized: lower-case
	mobile, landline   string // E.164; landline may be empty
	city               city
	cep                string // 8 digits
	street, number     string
	complement, bairro string
	marital            string
	profession         string
	incomeCents        int64
	rg, rgIssuer       string
	mother             string
	minor, pep         bool
}

// newPerson draws an adult aged 20..75 on refDate (or a minor aged 1..12 when
// minor is set: still under 18 for years after the reference date).
func (g *gen) newPerson(minor bool) *person {
	return g.person(minor, g.rng.IntN(2) == 0)
}

// person is newPerson with the sex chosen by the caller (a spouse, a
// scenario with a fixed name).
func (g *gen) person(minor, female bool) *person {
	r := g.rng
	g.ids.next++
	p := &person{no: g.ids.next, cpf: g.ids.cpf(), female: female, minor: minor}
	first := pick(r, maleNames)
	if p.female {
		first = pick(r, femaleNames)
	}
	p.given = []string{first}
	if r.IntN(3) == 0 {
		if second := pick(r, ifElse(p.female, femaleNames, maleNames)); second != first {
			p.given = append(p.given, second)
		}
	}
	first2 := pick(r, surnames)
	if r.IntN(2) == 0 {
		p.surnames = append(p.surnames, connectiveFor(first2, r))
	}
	p.surnames = append(p.surnames, first2)
	if r.IntN(2) == 0 {
		p.surnames = append(p.surnames, pick(r, surnames))
	}
	age := 20 + r.IntN(56)
	if minor {
		age = 1 + r.IntN(12)
	}
	p.birth = refDate.AddDate(-age, -r.IntN(12), -r.IntN(28))
	p.city = pick(r, cities)
	p.cep = fmt.Sprintf("%05d%03d", p.city.cepBase+r.IntN(900), r.IntN(1000))
	p.street = pick(r, streetKinds) + " " + pick(r, streetNames)
	p.number = fmt.Sprint(1 + r.IntN(2500))
	p.complement = pick(r, complements)
	p.bairro = pick(r, neighbourhoods)
	p.rg = fmt.Sprintf("%d%07d%d", 1+r.IntN(59), r.IntN(1e7), r.IntN(10))
	p.rgIssuer = pick(r, rgIssuers) + "/" + p.city.uf
	p.mother = pick(r, femaleNames) + " " + pick(r, surnames) + " " + p.surnames[len(p.surnames)-1]
	if minor {
		p.marital = "solteiro"
		return p
	}
	p.email = g.emailFor(p.given[0], p.surnames[len(p.surnames)-1], p.no, pick(r, emailDomains))
	p.mobile = g.ids.mobile(p.city.ddd)
	if r.IntN(4) == 0 {
		p.landline = g.ids.landline(p.city.ddd)
	}
	p.marital = pick(r, maritalStatuses)
	p.profession = pick(r, professions)
	p.incomeCents = int64(1500+r.IntN(28000)) * 100
	return p
}

// emailFor builds a unique lower-case address: the trailing number is the
// person's run-unique number, so two people never share a local part.
func (g *gen) emailFor(first, last string, no int, domain string) string {
	return strings.ToLower(asciiFold.Replace(first)+"."+asciiFold.Replace(last)) + fmt.Sprint(no) + "@" + domain
}

// name spellings: CRMs hold the same person under differently typed names.
const (
	nameCanonical    = iota // José Antônio da Conceição
	nameUpperPlain          // JOSE ANTONIO DA CONCEICAO
	namePlain               // Jose Antonio da Conceicao
	nameInitials            // José A. da Conceição
	nameNoConnective        // José Antônio Conceição
)

func (p *person) name(spelling int) string {
	given, sur := p.given, p.surnames
	switch spelling {
	case nameInitials:
		g := []string{given[0]}
		for _, n := range given[1:] {
			initial, _ := utf8.DecodeRuneInString(n)
			g = append(g, string(initial)+".")
		}
		given = g
	case nameNoConnective:
		sur = nil
		for _, s := range p.surnames {
			if !isConnective(s) {
				sur = append(sur, s)
			}
		}
	}
	full := strings.Join(append(append([]string{}, given...), sur...), " ")
	switch spelling {
	case nameUpperPlain:
		return strings.ToUpper(asciiFold.Replace(full))
	case namePlain:
		return asciiFold.Replace(full)
	}
	return full
}

// connectiveFor picks the particle that goes before a surname: "dos Santos",
// "da Silva", "de Souza".
func connectiveFor(surname string, r *rand.Rand) string {
	switch {
	case surname == "Santos" || surname == "Ramos":
		return "dos"
	case r.IntN(2) == 0:
		return "da"
	}
	return "de"
}

func isConnective(s string) bool {
	for _, c := range connectives {
		if s == c {
			return true
		}
	}
	return false
}

// e-mail spellings stored by the CRM; matching relies on the column collation.
const (
	emailLower = iota
	emailTitle // Maria.Silva12@example.com
	emailUpper // MARIA.SILVA12@EXAMPLE.COM
	emailDomainUpper
)

func storedEmail(email string, spelling int) string {
	if email == "" {
		return ""
	}
	local, domain, _ := strings.Cut(email, "@")
	switch spelling {
	case emailTitle:
		parts := strings.Split(local, ".")
		for i, s := range parts {
			parts[i] = strings.ToUpper(s[:1]) + s[1:]
		}
		return strings.Join(parts, ".") + "@" + domain
	case emailUpper:
		return strings.ToUpper(email)
	case emailDomainUpper:
		return local + "@" + strings.ToUpper(domain)
	}
	return email
}

// age is the whole years between birth and at.
func age(birth, at time.Time) int {
	a := at.Year() - birth.Year()
	if at.YearDay() < birth.YearDay() {
		a--
	}
	return a
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

func ifElse[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}
