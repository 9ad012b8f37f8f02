package seed

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// catalog writes what exists before any titular: developments, agencies and
// their brokers, staff users and the CRM's consent terms. Sizes grow with
// Subjects so a big tenant looks like a big CRM.
func (g *gen) catalog() error {
	n := g.opts.Subjects
	for range max(3, n/500) {
		if err := g.addEmpreendimento(); err != nil {
			return err
		}
	}
	for range max(2, n/5000) {
		if err := g.addImobiliaria(); err != nil {
			return err
		}
	}
	for i := range max(6, n/250) {
		p := g.newPerson(false)
		id, err := g.addCorretor(p, pick(g.rng, g.agencies))
		if err != nil {
			return err
		}
		g.brokers = append(g.brokers, id)
		if i%3 == 0 { // a third of the brokers log in to the CRM
			if err := g.addUsuario(p, id, "corretor", "local"); err != nil {
				return err
			}
		}
	}
	for range max(4, n/5000) {
		profile := pick(g.rng, []string{"administrador", "gerente", "atendimento", "financeiro"})
		if err := g.addUsuario(g.newPerson(false), 0, profile, pick(g.rng, []string{"ad", "ad", "local"})); err != nil {
			return err
		}
	}
	return g.addTermos()
}

func (g *gen) addEmpreendimento() error {
	r := g.rng
	e := emp{id: g.id(tEmpreendimentos), city: pick(r, cities)}
	g.emps = append(g.emps, e)
	name := pick(r, devPrefixes) + " " + pick(r, devNames)
	// Each development is its own SPE; one in five has the alphanumeric
	// CNPJ format that starts in July 2026 (IN RFB 2.229/2024).
	base := fmt.Sprintf("%08d0001", r.IntN(1e8))
	if r.IntN(5) == 0 {
		base = g.alnum(8) + "0001"
	}
	launch := randDate(r, time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), refDate.AddDate(0, -6, 0))
	return g.out.add(tEmpreendimentos, e.id, name,
		"SPE "+asciiFold.Replace(name)+" Empreendimentos Ltda", cnpjFromBase(base),
		e.city.name, e.city.uf, day(launch), day(launch.AddDate(3, r.IntN(12), 0)))
}

func (g *gen) alnum(n int) string {
	const chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b strings.Builder
	for range n {
		b.WriteByte(chars[g.rng.IntN(len(chars))])
	}
	return b.String()
}

func (g *gen) addImobiliaria() error {
	r := g.rng
	id := g.id(tImobiliarias)
	g.agencies = append(g.agencies, id)
	m := g.newPerson(false) // the manager: a person, though not one of the titulares counted
	fantasy := pick(r, agencyNames)
	cnpj := cnpjFromBase(fmt.Sprintf("%08d0001", r.IntN(1e8)))
	return g.out.add(tImobiliarias, id, fantasy+" Negócios Imobiliários Ltda", fantasy, cnpj,
		fmt.Sprintf("%05d-J", 1000+int(id)), m.name(nameCanonical), formatCPF(m.cpf, cpfDotted),
		storedEmail(m.email, emailTitle), formatPhone(m.mobile, 3), pick(r, banks),
		fmt.Sprintf("%04d", r.IntN(1e4)), fmt.Sprintf("%06d-%d", r.IntN(1e6), r.IntN(10)), cnpj,
		ts(randDate(r, time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), refDate)))
}

// addCorretor writes a broker row for p (CPF dotted, e-mail title-cased, as
// broker sign-up forms tend to store them) and returns its key.
func (g *gen) addCorretor(p *person, agency int64) (int64, error) {
	r := g.rng
	id := g.id(tCorretores)
	var pix string
	switch r.IntN(4) {
	case 0:
		pix = p.cpf
	case 1:
		pix = p.email
	case 2:
		pix = p.mobile
	default:
		pix = g.uuid()
	}
	err := g.out.add(tCorretores, id, nullID(agency), p.name(nameCanonical), formatCPF(p.cpf, cpfDotted),
		p.rg, day(p.birth), storedEmail(p.email, pickWeighted(r, 40, 40, 10, 10)),
		formatPhone(p.mobile, r.IntN(phoneShapes)), formatCEP(p.cep, true), p.street, p.number,
		nullStr(p.complement), p.bairro, p.city.name, p.city.uf,
		fmt.Sprintf("CRECI/%s %06d-F", p.city.uf, 10000+int(id)), pick(r, banks),
		fmt.Sprintf("%04d", r.IntN(1e4)), fmt.Sprintf("%08d-%d", r.IntN(1e8), r.IntN(10)), pix,
		1, ts(randDate(r, time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), refDate)))
	return id, err
}

// addUsuario writes a CRM login for p; broker is 0 for staff.
func (g *gen) addUsuario(p *person, broker int64, profile, login string) error {
	r := g.rng
	id := g.id(tUsuarios)
	handle := strings.ToLower(asciiFold.Replace(p.given[0]+"."+p.surnames[len(p.surnames)-1])) + fmt.Sprint(p.no)
	return g.out.add(tUsuarios, id, nullID(broker), p.name(namePlain), formatCPF(p.cpf, cpfDigits),
		p.email, formatPhone(p.mobile, 2), handle, profile, login, 1,
		ts(refDate.Add(-time.Duration(r.IntN(90*24*3600))*time.Second)),
		ts(randDate(r, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), refDate.AddDate(0, -3, 0))))
}

// termTexts are the CRM's consent purposes; version 2 of each replaced
// version 1 on termsV2.
var (
	termTexts = []struct{ finalidade, text string }{
		{"marketing_email", "Autorizo o envio de ofertas de imóveis e novidades por e-mail."},
		{"marketing_whatsapp", "Autorizo o contato por WhatsApp e SMS com ofertas de imóveis."},
		{"compartilhamento_parceiros", "Autorizo o compartilhamento dos meus dados com correspondentes bancários para simulação de financiamento."},
		{"pesquisa_satisfacao", "Autorizo o contato para pesquisas de satisfação sobre o atendimento."},
	}
	termsV1 = time.Date(2020, 9, 18, 0, 0, 0, 0, time.UTC) // LGPD in force
	termsV2 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
)

func (g *gen) addTermos() error {
	for version, since := range []time.Time{termsV1, termsV2} {
		for _, tt := range termTexts {
			text := tt.text
			var until any
			if version == 0 {
				until = day(termsV2.AddDate(0, 0, -1))
			} else {
				text += " Posso revogar este consentimento a qualquer momento pelos canais de atendimento."
			}
			sum := sha256.Sum256([]byte(text))
			t := term{id: g.id(tTermos), finalidade: tt.finalidade, since: since}
			g.terms = append(g.terms, t)
			if err := g.out.add(tTermos, t.id, tt.finalidade, version+1, text, hex.EncodeToString(sum[:]),
				day(since), until); err != nil {
				return err
			}
		}
	}
	return nil
}

// newUnit writes a unit of development e; status follows the sale's outcome.
func (g *gen) newUnit(e *emp, status string) (id, priceCents int64, err error) {
	r := g.rng
	c := e.units
	e.units++
	id = g.id(tUnidades)
	// Blocks of 400 units, four per floor: numbers like "1203" stay unique.
	bloco := string(rune('A' + c/400%26))
	numero := fmt.Sprintf("%d%02d", c%400/4+1, c%4+1)
	if c >= 400*26 {
		bloco += fmt.Sprint(c / (400 * 26))
	}
	rooms := 1 + r.IntN(4)
	area := int64(30+rooms*15+r.IntN(25))*100 + int64(r.IntN(100))
	priceCents = (int64(rooms)*90_000 + int64(r.IntN(400))*1000 + 60_000) * 100
	tipo := pick(r, []string{"apartamento", "apartamento", "apartamento", "casa", "studio"})
	err = g.out.add(tUnidades, id, e.id, bloco, numero, tipo, money(area), rooms, money(priceCents), status)
	return id, priceCents, err
}

// spareUnits adds unsold units, so availability queries see some.
func (g *gen) spareUnits() error {
	for range max(10, g.opts.Subjects/20) {
		e := &g.emps[g.rng.IntN(len(g.emps))]
		if _, _, err := g.newUnit(e, pick(g.rng, []string{"disponivel", "disponivel", "disponivel", "bloqueada"})); err != nil {
			return err
		}
	}
	return nil
}

// uuid draws a version-4 UUID from the run's generator (random PIX keys).
func (g *gen) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.rng.IntN(256)) //nolint:gosec // G115: IntN(256) is in [0, 256)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
