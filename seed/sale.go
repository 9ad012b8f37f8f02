package seed

import (
	"fmt"
	"time"
)

// sale is one reserva and what hangs off it.
type sale struct {
	id       int64 // the reserva, once written
	p        *person
	name     string // client name on the snapshot; empty: a random spelling
	c        copies
	pessoa   int64
	spouse   int64 // the spouse's pessoa, when married on the sale
	lead     int64
	broker   int64
	e        *emp
	status   string    // reservada, vendida, distratada, cancelada
	reserved time.Time // data_reserva
	sold     time.Time // data_venda: vendida and distratada only
	undone   time.Time // data_distrato: distratada only
	reason   string    // motivo_distrato
	financed bool      // a bank finances part of it (repasses)
}

// randomSaleDates fills status and dates for a random buyer: open
// reservations are recent, closed ones anywhere from 2021 on.
func (g *gen) randomSaleDates(s *sale) {
	r := g.rng
	s.status = []string{"vendida", "reservada", "distratada", "cancelada"}[pickWeighted(r, 60, 12, 10, 18)]
	if s.status == "reservada" {
		s.reserved = randDate(r, refDate.AddDate(0, 0, -120), refDate.AddDate(0, 0, -1))
		return
	}
	s.reserved = randDate(r, time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), refDate.AddDate(0, 0, -200))
	if s.status == "cancelada" {
		return
	}
	s.sold = s.reserved.AddDate(0, 0, 3+r.IntN(28))
	if s.status == "distratada" {
		s.undone = later(r, s.sold.AddDate(0, 0, 60), 440)
		s.reason = pick(r, []string{"Desistência do comprador", "Crédito não aprovado pelo banco",
			"Inadimplência das parcelas de entrada", "Mudança de cidade"})
	}
}

// addSale writes the unit, the reserva with its client snapshot, the bank
// financing and the buyer's documents. Associates are the caller's.
func (g *gen) addSale(s *sale) (int64, error) {
	r := g.rng
	unitStatus := map[string]string{"vendida": "vendida", "reservada": "reservada"}[s.status]
	if unitStatus == "" {
		unitStatus = "disponivel" // back on sale after a distrato or cancellation
	}
	unit, price, err := g.newUnit(s.e, unitStatus)
	if err != nil {
		return 0, err
	}
	var fgts, financed int64
	if r.IntN(5) < 2 {
		fgts = int64(5_000+r.IntN(35_000)) * 100
	}
	if s.financed {
		financed = (price - fgts) * int64(50+r.IntN(31)) / 100 / 10_000 * 10_000
	}
	var income any
	if s.p.incomeCents > 0 { // income declared back then: a little lower than today's
		income = money(s.p.incomeCents * int64(85+r.IntN(16)) / 100 / 100 * 100)
	}
	name := s.name
	if name == "" {
		name = s.p.name([]int{nameCanonical, namePlain, nameInitials, nameNoConnective}[pickWeighted(r, 60, 20, 10, 10)])
	}
	id := g.id(tReservas)
	err = g.out.add(tReservas, id, unit, s.pessoa, nullID(s.broker), nullID(s.lead), s.status,
		day(s.reserved), dayOrNil(s.sold), dayOrNil(s.undone), nullStr(s.reason),
		money(price), money(price-fgts-financed), money(fgts), money(financed),
		name,
		formatCPF(s.p.cpf, s.c.cpf[inReservas]), nullStr(storedEmail(s.p.email, pickWeighted(r, 80, 20))),
		phoneOrNil(s.p.mobile, s.c.phone[inReservas]), income, s.p.marital, age(s.p.birth, s.reserved),
		ts(s.reserved), ts(later(r, s.reserved, 90)))
	if err != nil {
		return 0, err
	}
	if err := g.addDocumento(s.pessoa, id, 0, "rg", false, s.reserved); err != nil {
		return 0, err
	}
	if err := g.addDocumento(s.pessoa, id, 0, "comprovante_renda", false, s.reserved); err != nil {
		return 0, err
	}
	if s.sold.IsZero() {
		return id, nil
	}
	if err := g.addDocumento(s.pessoa, id, 0, "contrato_compra_venda", true, s.sold); err != nil {
		return 0, err
	}
	if !s.undone.IsZero() {
		if err := g.addDocumento(s.pessoa, id, 0, "termo_distrato", true, s.undone); err != nil {
			return 0, err
		}
	}
	if financed > 0 {
		return id, g.addRepasse(id, s, price, financed)
	}
	return id, nil
}

// addRepasse writes the bank financing of a sale. The correspondent is a
// sharing recipient in the data map.
func (g *gen) addRepasse(reserva int64, s *sale, price, financed int64) error {
	r := g.rng
	id := g.id(tRepasses)
	mode, subsidy, rate := "SBPE", any(nil), 950+r.IntN(240)
	if price <= 350_000_00 {
		mode, rate = "MCMV", 450+r.IntN(370)
		subsidy = money(int64(r.IntN(50_000)) * 100)
	} else if r.IntN(2) == 0 {
		mode = "SFH"
	}
	k := r.IntN(len(correspondents))
	signed, status := later(r, s.sold.AddDate(0, 0, 15), 45), "assinado"
	switch {
	case !s.undone.IsZero():
		status = "cancelado"
	case signed.Equal(refDate):
		status = "em_analise"
	}
	var signedAt any
	if status != "em_analise" {
		signedAt = day(signed)
	}
	return g.out.add(tRepasses, id, reserva, pick(r, banks), mode,
		fmt.Sprintf("%d.%04d.%07d-%d", 1+r.IntN(9), r.IntN(1e4), id, r.IntN(10)),
		money(financed), subsidy, money(financed*int64(60+r.IntN(41))/100), fmt.Sprintf("%d.%02d", rate/100, rate%100),
		240+12*r.IntN(16), correspondents[k], cnpjFromBase(correspondentCNPJBases[k]), signedAt, status)
}

// correspondentCNPJBases are the first twelve characters of the
// correspondents' (synthetic) CNPJs.
var correspondentCNPJBases = []string{"112223330001", "445556660001"}
