package seed

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// copies says how each table spells one person's CPF and phone. The three
// copies always differ, as they do in real CRMs where each screen saved the
// value as typed.
type copies struct {
	cpf   [3]int // pessoas, leads, reservas
	phone [3]int
}

const (
	inPessoas = iota
	inLeads
	inReservas
)

func (g *gen) copiesFor() copies {
	r := g.rng
	var c copies
	c.cpf[inPessoas] = pickWeighted(r, 20, 70, 10) // digits, dotted, dash
	rest := make([]int, 0, 2)
	for s := range cpfShapes {
		if s != c.cpf[inPessoas] {
			rest = append(rest, s)
		}
	}
	// Leads mostly keep the bare digits of a web form.
	if rest[0] == cpfDigits && r.IntN(4) > 0 || rest[0] != cpfDigits && r.IntN(4) == 0 {
		c.cpf[inLeads], c.cpf[inReservas] = rest[0], rest[1]
	} else {
		c.cpf[inLeads], c.cpf[inReservas] = rest[1], rest[0]
	}
	perm := r.Perm(phoneShapes)
	copy(c.phone[:], perm)
	return c
}

// addPessoa writes the master record of p under key id.
func (g *gen) addPessoa(id int64, p *person, c copies, spouse int64, created time.Time) error {
	r := g.rng
	sex := "M"
	if p.female {
		sex = "F"
	}
	var income any
	if p.incomeCents > 0 {
		income = money(p.incomeCents)
	}
	return g.out.add(tPessoas, id, formatCPF(p.cpf, c.cpf[inPessoas]), p.rg, p.rgIssuer,
		p.name(nameCanonical), day(p.birth), sex, p.marital, p.mother,
		nullStr(storedEmail(p.email, pickWeighted(r, 60, 20, 10, 10))),
		phoneOrNil(p.mobile, c.phone[inPessoas]), phoneOrNil(p.landline, c.phone[inPessoas]),
		formatCEP(p.cep, r.IntN(10) < 7), p.street, p.number, nullStr(p.complement), p.bairro,
		p.city.name, p.city.uf, nullStr(p.profession), income, boolInt(p.minor), boolInt(p.pep),
		nullID(spouse), ts(created), ts(later(r, created, 400)))
}

type leadSpec struct {
	p       *person
	name    string // as typed on the lead; empty: a random spelling
	c       copies
	pessoa  int64 // 0: the person exists only as this lead
	e       *emp
	broker  int64
	withCPF bool
	status  string
	created time.Time
}

// addLead writes the lead's own copy of the person: a differently typed
// name, CPF and phone shapes of its own, the e-mail as the form received it.
func (g *gen) addLead(s leadSpec) (int64, error) {
	r := g.rng
	id := g.id(tLeads)
	var cpf, income any
	if s.withCPF {
		cpf = formatCPF(s.p.cpf, s.c.cpf[inLeads])
	}
	if s.p.incomeCents > 0 && r.IntN(2) == 0 {
		income = money(s.p.incomeCents / 100000 * 100000) // "renda aproximada", rounded to R$ 1.000
	}
	name := s.name
	if name == "" {
		name = s.p.name(pickWeighted(r, 50, 20, 20, 10))
	}
	return id, g.out.add(tLeads, id, nullID(s.pessoa), s.e.id, nullID(s.broker), name, nullStr(storedEmail(s.p.email, pickWeighted(r, 50, 30, 20))),
		phoneOrNil(s.p.mobile, s.c.phone[inLeads]), cpf, income, pick(r, leadOrigins), s.status,
		ts(s.created), ts(later(r, s.created, 120)))
}

// addInteracoes writes n broker notes on a lead, after it was created.
func (g *gen) addInteracoes(lead, broker int64, p *person, n int, created time.Time) error {
	r := g.rng
	for range n {
		note := pick(r, interactionNotes)
		if strings.Contains(note, "%s") {
			note = fmt.Sprintf(note, p.given[0])
		}
		if err := g.addInteracao(lead, broker, pick(r, channels), note, later(r, created, 120)); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) addInteracao(lead, broker int64, channel, note string, at time.Time) error {
	return g.out.add(tLeadInteracoes, g.id(tLeadInteracoes), lead, nullID(broker), channel, note, ts(at))
}

// addConsents records n distinct purposes accepted on lead capture, under
// the terms version in force then; some were later revoked.
func (g *gen) addConsents(lead int64, n int, at time.Time) error {
	r := g.rng
	for _, k := range r.Perm(len(termTexts))[:min(n, len(termTexts))] {
		t := g.terms[k]
		if !at.Before(termsV2) {
			t = g.terms[len(termTexts)+k]
		}
		var revoked any
		if r.IntN(8) == 0 {
			revoked = ts(later(r, at, 300))
		}
		ip := fmt.Sprintf("198.51.100.%d", 1+r.IntN(254)) // documentation ranges (RFC 5737, 3849)
		switch r.IntN(3) {
		case 0:
			ip = fmt.Sprintf("203.0.113.%d", 1+r.IntN(254))
		case 1:
			ip = fmt.Sprintf("2001:db8:%x::%x", r.IntN(0xffff), 1+r.IntN(0xffff))
		}
		channel := pick(r, []string{"site", "site", "whatsapp", "stand"})
		if err := g.out.add(tConsentimentos, g.id(tConsentimentos), t.id, lead, 1, channel, ip,
			pick(r, userAgents), ts(at), revoked); err != nil {
			return err
		}
	}
	return nil
}

// addDocumento writes an attachment owned by a pessoa (optionally tied to a
// reserva) or by a broker.
func (g *gen) addDocumento(pessoa, reserva, broker int64, kind string, signed bool, at time.Time) error {
	r := g.rng
	id := g.id(tDocumentos)
	owner := fmt.Sprintf("pessoas/%d", pessoa)
	if broker != 0 {
		owner = fmt.Sprintf("corretores/%d", broker)
	}
	var sum [32]byte
	for i := range sum {
		sum[i] = byte(r.IntN(256)) //nolint:gosec // G115: IntN(256) is in [0, 256)
	}
	return g.out.add(tDocumentos, id, nullID(pessoa), nullID(reserva), nullID(broker), kind, kind+".pdf",
		fmt.Sprintf("s3://crm-demo-documentos/%s/%d-%s.pdf", owner, id, kind), hex.EncodeToString(sum[:]),
		20_000+r.IntN(2_000_000), boolInt(signed), ts(at))
}

// Value helpers: DATE and DATETIME go as strings and money as exact
// decimals, so nothing depends on the connection's time zone or on floats.

func day(t time.Time) string { return t.Format(time.DateOnly) }
func ts(t time.Time) string  { return t.Format(time.DateTime) }

func dayOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return day(t)
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func phoneOrNil(e164 string, shape int) any {
	if e164 == "" {
		return nil
	}
	return formatPhone(e164, shape)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// randDate draws a moment in [from, to) at a business hour.
func randDate(r *rand.Rand, from, to time.Time) time.Time {
	days := int(to.Sub(from).Hours() / 24)
	d := from.AddDate(0, 0, r.IntN(max(days, 1)))
	return d.Add(time.Duration(8*3600+r.IntN(12*3600)) * time.Second)
}

// later draws a moment up to maxDays after t, never past refDate.
func later(r *rand.Rand, t time.Time, maxDays int) time.Time {
	u := t.Add(time.Duration(r.IntN(maxDays*24*3600+1)) * time.Second)
	if u.After(refDate) {
		return refDate
	}
	return u
}

// pickWeighted returns an index drawn with the given weights.
func pickWeighted(r *rand.Rand, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}
