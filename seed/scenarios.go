package seed

import (
	"fmt"
	"strings"
	"time"
)

// Scenario names (LGPD.md "Seed scenarios"). Tests and the demo look
// titulares up by these.
const (
	ScenarioConsentOnlyLead = "lead_somente_consentimento"
	ScenarioProspect        = "lead_com_pessoa_sem_venda"
	ScenarioBuyer2023       = "comprador_2023"
	ScenarioDistrato        = "distrato"
	ScenarioMinor           = "menor_dependente"
	ScenarioPEP             = "pep"
	ScenarioBrokerTitular   = "corretor_titular"
	ScenarioSameCPF         = "mesmo_cpf_varias_tabelas"
	ScenarioCPFInText       = "cpf_em_texto_livre"
	ScenarioHeavyBroker     = "corretor_pesado"
)

// fixedScenarios writes the scenario titulares first, so they get the low
// keys and always exist whatever Subjects is.
func (g *gen) fixedScenarios() error {
	for _, f := range []func() error{
		g.scConsentOnly, g.scProspect, g.scBuyer2023, g.scDistrato, g.scMinor,
		g.scPEP, g.scBrokerTitular, g.scSameCPF, g.scCPFInText,
	} {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) record(name string, p *person, format string, args ...any) {
	g.scenarios = append(g.scenarios, Scenario{Name: name, CPF: p.cpf, Email: p.email, Phone: p.mobile, FullName: p.name(nameCanonical),
		Note: fmt.Sprintf(format, args...)})
}

func at(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 17, 0, 0, time.UTC) }

func (g *gen) scConsentOnly() error {
	p := g.newPerson(false)
	g.subject()
	created := at(2025, 3, 10, 14)
	lead, err := g.addLead(leadSpec{p: p, c: g.copiesFor(), e: &g.emps[0], broker: g.brokers[0],
		withCPF: true, status: "novo", created: created})
	if err != nil {
		return err
	}
	if err := g.addConsents(lead, 3, created); err != nil {
		return err
	}
	g.record(ScenarioConsentOnlyLead, p, "leads #%d (no pessoa) with 3 consentimentos rows; no interactions, no sale: fully deletable", lead)
	return nil
}

func (g *gen) scProspect() error {
	p := g.newPerson(false)
	g.subject()
	c := g.copiesFor()
	created := at(2024, 10, 2, 9)
	id := g.id(tPessoas)
	if err := g.addPessoa(id, p, c, 0, created); err != nil {
		return err
	}
	lead, err := g.addLead(leadSpec{p: p, c: c, pessoa: id, e: &g.emps[1], broker: g.brokers[1],
		withCPF: true, status: "em_atendimento", created: created})
	if err != nil {
		return err
	}
	if err := g.addInteracoes(lead, g.brokers[1], p, 3, created); err != nil {
		return err
	}
	if err := g.addConsents(lead, 2, created); err != nil {
		return err
	}
	g.record(ScenarioProspect, p, "pessoas #%d with leads #%d (3 interactions, 2 consents); no reserva, no documents", id, lead)
	return nil
}

func (g *gen) scBuyer2023() error {
	p := g.person(false, false)
	p.marital = "casado"
	spouse := g.spouseOf(p)
	s := &sale{p: p, c: g.copiesFor(), e: &g.emps[0], broker: g.brokers[2], status: "vendida",
		reserved: at(2023, 4, 12, 10), sold: at(2023, 5, 3, 15), financed: true}
	if err := g.buyerCore(s, spouse); err != nil {
		return err
	}
	g.record(ScenarioBuyer2023, p, "pessoas #%d (spouse pessoas #%d via idconjuge and reserva_associados 'conjuge'); "+
		"reservas #%d vendida on 2023-05-03 with repasses financing and a signed contrato_compra_venda in documentos; "+
		"deletion is held until the retention ends", s.pessoa, s.spouse, s.id)
	return nil
}

func (g *gen) scDistrato() error {
	p := g.newPerson(false)
	p.marital = "solteiro"
	s := &sale{p: p, c: g.copiesFor(), e: &g.emps[1], broker: g.brokers[3], status: "distratada",
		reserved: at(2022, 7, 20, 11), sold: at(2022, 8, 10, 16), undone: at(2023, 3, 20, 10),
		reason: "Desistência do comprador"}
	if err := g.buyerCore(s, nil); err != nil {
		return err
	}
	g.record(ScenarioDistrato, p, "pessoas #%d; reservas #%d distratada (data_venda 2022-08-10, data_distrato 2023-03-20) with a termo_distrato document; no financing",
		s.pessoa, s.id)
	return nil
}

// scMinor: the minor is a pessoa of their own (menor = 1) tied to the
// parent's purchase as a 'dependente' in reserva_associados; the parent who
// bought is the guardian (LGPD Art. 14).
func (g *gen) scMinor() error {
	parent := g.newPerson(false)
	parent.marital = "divorciado"
	s := &sale{p: parent, c: g.copiesFor(), e: &g.emps[2], broker: g.brokers[4], status: "vendida",
		reserved: at(2024, 2, 5, 13), sold: at(2024, 2, 20, 10), financed: true}
	if err := g.buyerCore(s, nil); err != nil {
		return err
	}
	minor := g.newPerson(true)
	minor.birth = time.Date(2016, 5, 14, 0, 0, 0, 0, time.UTC)
	id, err := g.associate(s, minor, "dependente")
	if err != nil {
		return err
	}
	g.record(ScenarioMinor, minor, "pessoas #%d with menor = 1, born 2016, no e-mail or phone; 'dependente' in reserva_associados of "+
		"reservas #%d bought by the parent and guardian pessoas #%d; a certidao_nascimento in documentos", id, s.id, s.pessoa)
	return nil
}

func (g *gen) scPEP() error {
	p := g.newPerson(false)
	p.pep, p.profession = true, pepProfessions[0]
	s := &sale{p: p, c: g.copiesFor(), e: &g.emps[2], broker: g.brokers[5], status: "vendida",
		reserved: at(2024, 6, 10, 10), sold: at(2024, 6, 28, 11), financed: true}
	if err := g.buyerCore(s, nil); err != nil {
		return err
	}
	g.record(ScenarioPEP, p, "pessoas #%d with pep = 1 (politically exposed person); reservas #%d vendida in 2024 with financing", s.pessoa, s.id)
	return nil
}

// scBrokerTitular: a broker exercising their own rights. Their data sits in
// corretores, usuarios (their CRM login), documentos (CRECI card) and a lead
// they filled in themselves as a prospective buyer.
func (g *gen) scBrokerTitular() error {
	p := g.newPerson(false)
	broker, err := g.addCorretor(p, g.agencies[0])
	if err != nil {
		return err
	}
	if err := g.addUsuario(p, broker, "corretor", "local"); err != nil {
		return err
	}
	if err := g.addDocumento(0, 0, broker, "carteira_creci", false, at(2022, 1, 17, 9)); err != nil {
		return err
	}
	g.subject()
	c := g.copiesFor()
	c.cpf[inLeads] = cpfDash // corretores holds the dotted shape
	created := at(2025, 5, 2, 19)
	lead, err := g.addLead(leadSpec{p: p, c: c, e: &g.emps[0], broker: g.brokers[0], withCPF: true,
		status: "em_atendimento", created: created})
	if err != nil {
		return err
	}
	if err := g.addInteracoes(lead, g.brokers[0], p, 2, created); err != nil {
		return err
	}
	if err := g.addConsents(lead, 1, created); err != nil {
		return err
	}
	g.record(ScenarioBrokerTitular, p, "corretores #%d (also a usuarios login and a carteira_creci in documentos) and leads #%d (no pessoa) for the same person",
		broker, lead)
	return nil
}

// scSameCPF: one CPF in pessoas, leads and the reservas snapshot, each with
// its own CPF shape and its own spelling of the name.
func (g *gen) scSameCPF() error {
	p := g.person(false, false)
	p.given, p.surnames = []string{"José", "Antônio"}, []string{"da", "Conceição"}
	p.email = g.emailFor("José", "Conceição", p.no, "example.com")
	p.marital = "solteiro"
	c := g.copiesFor()
	c.cpf = [3]int{cpfDotted, cpfDigits, cpfDash}
	s := &sale{p: p, c: c, e: &g.emps[0], broker: g.brokers[6%len(g.brokers)], status: "reservada",
		reserved: at(2025, 9, 15, 15), name: asciiFold.Replace(p.name(nameNoConnective))}
	g.subject()
	s.pessoa = g.id(tPessoas)
	created := at(2025, 8, 30, 10)
	if err := g.addPessoa(s.pessoa, p, c, 0, created); err != nil {
		return err
	}
	lead, err := g.addLead(leadSpec{p: p, name: p.name(nameUpperPlain), c: c, pessoa: s.pessoa, e: s.e,
		broker: s.broker, withCPF: true, status: "convertido", created: created})
	if err != nil {
		return err
	}
	s.lead = lead
	reserva, err := g.addSale(s)
	if err != nil {
		return err
	}
	g.record(ScenarioSameCPF, p, "one CPF in pessoas #%d (%q, dotted), leads #%d (%q, digits) and reservas #%d snapshot (%q, 9+2 digits)",
		s.pessoa, p.name(nameCanonical), lead, p.name(nameUpperPlain), reserva, s.name)
	return nil
}

// scCPFInText: a broker typed the titular's CPF into an interaction note;
// the lead itself has no CPF column value.
func (g *gen) scCPFInText() error {
	p := g.newPerson(false)
	g.subject()
	c := g.copiesFor()
	created := at(2025, 6, 3, 11)
	id := g.id(tPessoas)
	if err := g.addPessoa(id, p, c, 0, created); err != nil {
		return err
	}
	lead, err := g.addLead(leadSpec{p: p, c: c, pessoa: id, e: &g.emps[1], broker: g.brokers[1],
		status: "qualificado", created: created})
	if err != nil {
		return err
	}
	notes := []string{
		"Cliente enviou o CPF " + formatCPF(p.cpf, cpfDotted) + " pelo WhatsApp para a análise de crédito.",
		"Conferido na ficha: CPF " + p.cpf + ", renda comprovada por holerite.",
	}
	for i, n := range notes {
		if err := g.addInteracao(lead, g.brokers[1], "whatsapp", n, created.AddDate(0, 0, 2+i)); err != nil {
			return err
		}
	}
	if err := g.addConsents(lead, 1, created); err != nil {
		return err
	}
	g.record(ScenarioCPFInText, p, "pessoas #%d, leads #%d (cpf column empty) whose 2 lead_interacoes notes quote the CPF in prose", id, lead)
	return nil
}

// heavyBroker adds a broker with opts.HeavyInteractions notes spread over
// random leads: a titular with very many rows, for export and bench runs.
func (g *gen) heavyBroker() error {
	r := g.rng
	p := g.newPerson(false)
	broker, err := g.addCorretor(p, g.agencies[len(g.agencies)-1])
	if err != nil {
		return err
	}
	leads := g.next[tLeads]
	for range g.opts.HeavyInteractions {
		note := strings.ReplaceAll(pick(r, interactionNotes), "%s", "Cliente")
		lead := 1 + r.Int64N(leads)
		if err := g.addInteracao(lead, broker, pick(r, channels), note,
			randDate(r, firstLead, refDate.AddDate(0, 0, -1))); err != nil {
			return err
		}
	}
	g.record(ScenarioHeavyBroker, p, "corretores #%d with %d lead_interacoes rows on random leads", broker, g.opts.HeavyInteractions)
	return nil
}
