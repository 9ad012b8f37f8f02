package crm_test

import (
	"context"
	"testing"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/seed"
)

// TestLinked: the rows a titular's identifier reaches give her other
// identifiers (a CPF's pessoa row her e-mail and mobile; a lead under a
// pessoa the e-mail she typed), and rows that may be two people's (one
// e-mail, two CPFs) link nothing.
func TestLinked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, db, m, sc := seeded(t)
	p := sc[seed.ScenarioSameCPF]
	email, err := brdoc.NormalizeEmail(p.Email)
	if err != nil {
		t.Fatal(err)
	}
	phone, err := brdoc.NormalizePhone(p.Phone)
	if err != nil {
		t.Fatal(err)
	}
	got, err := crm.Linked(ctx, db, m, crm.Identifiers{CPF: p.CPF})
	if err != nil {
		t.Fatal(err)
	}
	if got != (crm.Identifiers{Email: email, Phone: phone}) {
		t.Errorf("linked by CPF: %+v, want the pessoa's e-mail and mobile", got)
	}
	if got, err = crm.Linked(ctx, db, m, crm.Identifiers{Email: email}); err != nil || got != (crm.Identifiers{CPF: p.CPF, Phone: phone}) {
		t.Errorf("linked by e-mail: %+v %v, want the CPF and mobile", got, err)
	}

	// A pessoa known by CPF only, whose lead holds an e-mail: linked
	// through the parent edge.
	cpf, leadEmail := brdoc.CPFFromSeed(424_242_424), "so.no.lead@example.com"
	res, err := db.Exec("INSERT INTO pessoas (cpf, nome, criado_em, atualizado_em) VALUES (?, 'Pessoa Sintética', NOW(), NOW())", cpf)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	if _, err := db.Exec(`INSERT INTO leads (idpessoa, nome, email, origem, status, criado_em, atualizado_em)
 VALUES (?, 'Pessoa Sintética', ?, 'site', 'novo', NOW(), NOW())`, id, leadEmail); err != nil {
		t.Fatal(err)
	}
	if got, err = crm.Linked(ctx, db, m, crm.Identifiers{CPF: cpf}); err != nil || got != (crm.Identifiers{Email: leadEmail}) {
		t.Errorf("CPF in pessoas, e-mail in its lead: %+v %v", got, err)
	}

	// Another CPF behind the same e-mail: from the e-mail, nothing links.
	if _, err := db.Exec(`INSERT INTO leads (nome, email, cpf, origem, status, criado_em, atualizado_em)
 VALUES ('Outra Pessoa', ?, ?, 'site', 'novo', NOW(), NOW())`, email, brdoc.CPFFromSeed(434_343_434)); err != nil {
		t.Fatal(err)
	}
	if got, err = crm.Linked(ctx, db, m, crm.Identifiers{Email: email}); err != nil || !got.Empty() {
		t.Errorf("two CPFs behind one e-mail linked %+v %v; want nothing", got, err)
	}
	// From the CPF the other lead is not reached: the link stands.
	if got, err = crm.Linked(ctx, db, m, crm.Identifiers{CPF: p.CPF}); err != nil || got.Email != email {
		t.Errorf("linked by CPF after the other lead: %+v %v", got, err)
	}
	// A given identifier the rows contradict links nothing either.
	if got, err = crm.Linked(ctx, db, m, crm.Identifiers{CPF: cpf, Email: email}); err != nil || !got.Empty() {
		t.Errorf("rows contradicting the CPF sent linked %+v %v", got, err)
	}
}
