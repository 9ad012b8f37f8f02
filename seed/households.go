package seed

import (
	"time"
)

// firstLead is when the CRM started capturing leads.
var firstLead = time.Date(2021, 1, 4, 0, 0, 0, 0, time.UTC)

// household writes one random shape of titular (LGPD.md "Seed scenarios"
// without the fixed identities): a lead that never became a pessoa, a
// pessoa still negotiating, or a buyer with the people around the sale.
func (g *gen) household() error {
	switch x := g.rng.IntN(100); {
	case x < 28:
		return g.leadOnly(g.newPerson(false))
	case x < 55:
		return g.prospect(g.newPerson(false))
	default:
		return g.buyer()
	}
}

// leadOnly: a person known only as a lead (site form, portal), usually with
// consents and a few notes.
func (g *gen) leadOnly(p *person) error {
	r := g.rng
	g.subject()
	created := randDate(r, firstLead, refDate.AddDate(0, 0, -2))
	lead, err := g.addLead(leadSpec{p: p, c: g.copiesFor(), e: g.randomEmp(), broker: pick(r, g.brokers),
		withCPF: r.IntN(10) < 4, status: pick(r, []string{"novo", "em_atendimento", "perdido"}), created: created})
	if err != nil {
		return err
	}
	if err := g.addInteracoes(lead, pick(r, g.brokers), p, r.IntN(4), created); err != nil {
		return err
	}
	return g.addConsents(lead, ifElse(r.IntN(5) > 0, 1+r.IntN(3), 0), created)
}

// prospect: a pessoa with one or two leads and no sale.
func (g *gen) prospect(p *person) error {
	r := g.rng
	g.subject()
	g.maybePEP(p)
	c := g.copiesFor()
	created := randDate(r, firstLead, refDate.AddDate(0, 0, -2))
	id := g.id(tPessoas)
	if err := g.addPessoa(id, p, c, 0, created); err != nil {
		return err
	}
	for n := 1 + ifElse(r.IntN(5) == 0, 1, 0); n > 0; n-- {
		broker := pick(r, g.brokers)
		lead, err := g.addLead(leadSpec{p: p, c: c, pessoa: id, e: g.randomEmp(), broker: broker,
			withCPF: r.IntN(10) < 7, status: pick(r, []string{"em_atendimento", "qualificado", "perdido"}), created: created})
		if err != nil {
			return err
		}
		if err := g.addInteracoes(lead, broker, p, 1+r.IntN(5), created); err != nil {
			return err
		}
		if err := g.addConsents(lead, r.IntN(4), created); err != nil {
			return err
		}
		created = later(r, created, 200)
	}
	return nil
}

// buyer: a pessoa with a converted lead and a reserva in any status, often
// with a spouse (a titular of their own), sometimes a minor dependant or a
// co-buyer or guarantor.
func (g *gen) buyer() error {
	r := g.rng
	p := g.newPerson(false)
	g.maybePEP(p)
	s := &sale{p: p, c: g.copiesFor(), e: g.randomEmp(), broker: pick(r, g.brokers), financed: r.IntN(10) < 7}
	g.randomSaleDates(s)
	var spouse *person
	if p.marital == "casado" && g.left >= 2 {
		spouse = g.spouseOf(p)
	}
	if err := g.buyerCore(s, spouse); err != nil {
		return err
	}
	if g.left >= 1 && r.IntN(100) < 8 {
		if _, err := g.associate(s, g.newPerson(true), "dependente"); err != nil {
			return err
		}
	}
	if g.left >= 1 && r.IntN(100) < 5 {
		if _, err := g.associate(s, g.newPerson(false), pick(r, []string{"cocomprador", "fiador", "procurador"})); err != nil {
			return err
		}
	}
	return nil
}

// buyerCore writes the buyer (and spouse) pessoas, the converted lead with
// notes and consents, and the sale; it fills in s.pessoa, s.spouse, s.lead
// and s.id.
func (g *gen) buyerCore(s *sale, spouse *person) error {
	r := g.rng
	g.subject()
	leadCreated := s.reserved.AddDate(0, 0, -(5 + r.IntN(115)))
	s.pessoa = g.id(tPessoas)
	var spouseID int64
	if spouse != nil {
		g.subject()
		spouseID = g.id(tPessoas)
		s.spouse = spouseID
		if err := g.addPessoa(spouseID, spouse, g.copiesFor(), s.pessoa, s.reserved); err != nil {
			return err
		}
	}
	if err := g.addPessoa(s.pessoa, s.p, s.c, spouseID, leadCreated.AddDate(0, 0, r.IntN(5))); err != nil {
		return err
	}
	lead, err := g.addLead(leadSpec{p: s.p, c: s.c, pessoa: s.pessoa, e: s.e, broker: s.broker,
		withCPF: r.IntN(10) < 8, status: "convertido", created: leadCreated})
	if err != nil {
		return err
	}
	s.lead = lead
	if err := g.addInteracoes(lead, s.broker, s.p, 2+r.IntN(5), leadCreated); err != nil {
		return err
	}
	if err := g.addConsents(lead, r.IntN(4), leadCreated); err != nil {
		return err
	}
	reserva, err := g.addSale(s)
	if err != nil {
		return err
	}
	if spouse != nil {
		s2 := *s
		s2.p = spouse
		if err := g.addAssociado(reserva, spouseID, &s2, "conjuge"); err != nil {
			return err
		}
		if err := g.addDocumento(spouseID, reserva, 0, "rg", false, s.reserved); err != nil {
			return err
		}
	}
	s.id = reserva
	return nil
}

// associate writes another titular tied to the last sale: a minor
// dependant (with a birth certificate) or a co-buyer, guarantor or attorney.
func (g *gen) associate(s *sale, p *person, kind string) (int64, error) {
	g.subject()
	if p.minor { // a dependant lives with the buyer
		b := s.p
		p.city, p.cep, p.street, p.number, p.complement, p.bairro = b.city, b.cep, b.street, b.number, b.complement, b.bairro
	}
	id := g.id(tPessoas)
	created := s.reserved
	if err := g.addPessoa(id, p, g.copiesFor(), 0, created); err != nil {
		return 0, err
	}
	s2 := *s
	s2.p = p
	if err := g.addAssociado(s.id, id, &s2, kind); err != nil {
		return 0, err
	}
	doc := "rg"
	if p.minor {
		doc = "certidao_nascimento"
	}
	return id, g.addDocumento(id, s.id, 0, doc, false, created)
}

func (g *gen) addAssociado(reserva, pessoa int64, s *sale, kind string) error {
	r := g.rng
	id := g.id(tReservaAssociados)
	var income, share any
	compoe := false
	if s.p.incomeCents > 0 && kind != "procurador" {
		income = money(s.p.incomeCents)
		compoe = kind != "fiador" && r.IntN(2) == 0
	}
	if kind == "conjuge" || kind == "cocomprador" {
		share = "50.00"
	}
	return g.out.add(tReservaAssociados, id, reserva, pessoa, kind, income, boolInt(compoe), share, day(s.reserved))
}

// spouseOf draws a married partner living at p's address. The landline is
// not shared: no two titulares share a phone number.
func (g *gen) spouseOf(p *person) *person {
	sp := g.person(false, !p.female)
	sp.marital = "casado"
	sp.city, sp.cep, sp.street, sp.number, sp.complement, sp.bairro = p.city, p.cep, p.street, p.number, p.complement, p.bairro
	sp.landline = ""
	return sp
}

// maybePEP makes about one adult pessoa in a hundred a politically exposed
// person.
func (g *gen) maybePEP(p *person) {
	if g.rng.IntN(100) == 0 {
		p.pep = true
		p.profession = pick(g.rng, pepProfessions)
	}
}

func (g *gen) randomEmp() *emp { return &g.emps[g.rng.IntN(len(g.emps))] }
