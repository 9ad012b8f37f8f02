package crm_test

import (
	"context"
	"testing"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/seed"
)

// TestBirthDate: the date of birth comes from the root the map marks
// (pessoas.data_nascimento in the demo map), by any identifier matched;
// rows that disagree give the latest date; no row, no date, or a map that
// names none give nothing.
func TestBirthDate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, db, m, sc := seeded(t)
	child := sc[seed.ScenarioMinor]

	d, ok, err := crm.BirthDate(ctx, db, m, crm.Identifiers{CPF: child.CPF})
	if err != nil || !ok || d != (crm.Date{Year: 2016, Month: 5, Day: 14}) {
		t.Fatalf("child's date of birth: %v %v %v, want 2016-05-14", d, ok, err)
	}
	if _, ok, err := crm.BirthDate(ctx, db, m, crm.Identifiers{CPF: brdoc.CPFFromSeed(515_151_515)}); ok || err != nil {
		t.Errorf("a CPF in no row: ok %v, %v", ok, err)
	}

	// A pessoa without a date of birth.
	noDate := brdoc.CPFFromSeed(525_252_525)
	if _, err := db.Exec("INSERT INTO pessoas (cpf, nome, criado_em, atualizado_em) VALUES (?, 'Pessoa Sintética', NOW(), NOW())", noDate); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := crm.BirthDate(ctx, db, m, crm.Identifiers{CPF: noDate}); ok || err != nil {
		t.Errorf("a pessoa with no date of birth: ok %v, %v", ok, err)
	}

	// Identifiers reaching two rows that disagree: the latest date wins, so
	// a child is never taken for an adult.
	email := "irmao.sintetico@example.com"
	if _, err := db.Exec(`INSERT INTO pessoas (cpf, nome, email, data_nascimento, criado_em, atualizado_em)
 VALUES (?, 'Pessoa Sintética Dois', ?, '2020-01-02', NOW(), NOW())`, brdoc.CPFFromSeed(535_353_535), email); err != nil {
		t.Fatal(err)
	}
	d, ok, err = crm.BirthDate(ctx, db, m, crm.Identifiers{CPF: child.CPF, Email: email})
	if err != nil || !ok || d != (crm.Date{Year: 2020, Month: 1, Day: 2}) {
		t.Errorf("two rows, 2016 and 2020: %v %v %v, want 2020-01-02", d, ok, err)
	}

	// A map naming no date of birth reads nothing.
	plain, err := datamap.Parse("plain.yaml", []byte(`version: 1
subject: {identifiers: [cpf]}
entities:
  pessoa:
    table: pessoas
    key: [idpessoa]
    match: {cpf: cpf}
    fields:
      data_nascimento: {category: identificacao}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := crm.BirthDate(ctx, db, plain, crm.Identifiers{CPF: child.CPF}); ok || err != nil || plain.HasBirthDate() {
		t.Errorf("a map without birth_date: ok %v, %v", ok, err)
	}
}
