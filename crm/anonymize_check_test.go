package crm_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/datamap"
)

// TestAnonymizeRefusesPseudonymization: a map with a keyed hash on a
// personal field, or a personal field without an anonymizer, is refused,
// naming the field; the same on a field under a blocking hold is accepted.
func TestAnonymizeRefusesPseudonymization(t *testing.T) {
	data, err := os.ReadFile("../examples/realestate/datamap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	reg := anonymize.NewRegistry()
	if _, err := crm.PlanAnonymize(mustParseMap(t, doc), reg); err != nil {
		t.Fatalf("the example map must be anonymizable: %v", err)
	}
	cases := []struct{ from, to, field, code string }{
		{"cpf:              {category: identificacao, anonymizer: fake.cpf,", "cpf:              {category: identificacao, anonymizer: {name: hmac, params: {domain: cpf}},", "pessoa.cpf", crm.ReasonNotIrreversible},
		{"rg:               {category: documental, anonymizer: nullify,", "rg:               {category: documental,", "pessoa.rg", crm.ReasonNoAnonymizer},
		{"nome:             {category: identificacao, anonymizer: fake.name, correctable: nome,", "nome:             {category: identificacao, anonymizer: keep, correctable: nome,", "lead.nome", crm.ReasonNotIrreversible},
	}
	for _, c := range cases {
		if !strings.Contains(doc, c.from) {
			t.Fatalf("example map changed; update the test: %q", c.from)
		}
		_, err := crm.PlanAnonymize(mustParseMap(t, strings.Replace(doc, c.from, c.to, 1)), reg)
		var refused *crm.RefusedError
		if !errors.As(err, &refused) || len(refused.Reasons) != 1 {
			t.Fatalf("%s: want one refusal, got %v", c.field, err)
		}
		r := refused.Reasons[0]
		entity, _, _ := strings.Cut(c.field, ".")
		if r.Code != c.code || r.Entity != entity || !strings.Contains(r.Message, c.field) || r.LegalReference == "" ||
			!strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: reason %+v / %v", c.field, r, err)
		}
	}
	held := strings.Replace(doc, "banco:            {category: financeiro, anonymizer: keep,", "banco:            {category: financeiro, anonymizer: {name: mask, params: {keep_first: 2}},", 1)
	// A keyed or partial transform is pseudonymization (Art. 13) even under
	// a hold: once the hold ends the sweep anonymizes the row, and a keyed
	// value would stay linkable. keep (what the hold retains) is accepted:
	// the example map keeps banco under its hold.
	_, err = crm.PlanAnonymize(mustParseMap(t, held), reg)
	var refused *crm.RefusedError
	if !errors.As(err, &refused) || len(refused.Reasons) != 1 || refused.Reasons[0].Code != crm.ReasonNotIrreversible ||
		!strings.Contains(refused.Reasons[0].Message, "repasse.banco") {
		t.Errorf("a keyed anonymizer under a blocking hold must be refused: %v", err)
	}
}

func mustParseMap(t *testing.T, doc string) *datamap.Map {
	t.Helper()
	m, err := datamap.Parse("datamap.yaml", []byte(doc), crm.DatamapOptions(anonymize.NewRegistry())...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAnonymizeRefusedWhenSchemaChanged: a column that no longer fits its
// anonymizer (NOT NULL under nullify) is refused before anything changes.
func TestAnonymizeRefusedWhenSchemaChanged(t *testing.T) {
	s, db, m, sc := seeded(t)
	ids := crmtest.IDs(sc["lead_com_pessoa_sem_venda"])
	if _, err := db.Exec("UPDATE pessoas SET uf = 'SP' WHERE uf IS NULL"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("ALTER TABLE pessoas MODIFY uf CHAR(2) NOT NULL"); err != nil {
		t.Fatal(err)
	}
	before := crmtest.SubjectRows(t, db, m, ids)
	plan, err := crm.PlanAnonymize(m, anonymize.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	key, _ := anonymize.NewKey(testAnonKey)
	err = inTx(db, func(tx *sql.Tx) error {
		_, err := s.Anonymize(context.Background(), db, tx, plan, key, ids)
		return err
	})
	var refused *crm.RefusedError
	if !errors.As(err, &refused) || refused.Reasons[0].Code != crm.ReasonAnonymizerNotFit || !strings.Contains(err.Error(), "pessoa.uf") {
		t.Fatalf("want a refusal naming pessoa.uf, got %v", err)
	}
	if after := crmtest.SubjectRows(t, db, m, ids); len(after["pessoa"]) != len(before["pessoa"]) || len(after["pessoa"]) == 0 {
		t.Error("a refused ANONYMIZE changed rows")
	}
}

// TestDatamapOptionsCheckColumns is `titular datamap check`: the example
// map fits the demo schema; a map whose anonymizers do not fit is reported
// field by field.
func TestDatamapOptionsCheckColumns(t *testing.T) {
	_, db, _, _ := seeded(t)
	schema, err := crm.LoadSchema(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	opts := crm.DatamapOptions(anonymize.NewRegistry())
	m, err := datamap.Load("../examples/realestate/datamap.yaml", opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckSchema(schema); err != nil {
		t.Fatalf("example map: %v", err)
	}
	bad, err := datamap.Parse("bad.yaml", []byte(`version: 1
subject: {identifiers: [cpf]}
entities:
  pessoa:
    table: pessoas
    key: [idpessoa]
    match: {cpf: cpf}
    fields:
      nome: {category: identificacao, anonymizer: nullify}
      cpf:  {category: identificacao, anonymizer: redact}
      cep:  {category: endereco, anonymizer: fake.email}
`), opts...)
	if err != nil {
		t.Fatal(err)
	}
	err = bad.CheckSchema(schema)
	for _, want := range []string{"fields.nome.anonymizer: nullify cannot write NULL", "fields.cpf.anonymizer: redact writes repeating values and the column is UNIQUE",
		"fields.cep.anonymizer: fake.email needs at least 21 characters"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckSchema = %v, want a problem %q", err, want)
		}
	}
	if _, err := datamap.Parse("typo.yaml", []byte(`version: 1
subject: {identifiers: [cpf]}
entities:
  pessoa:
    table: pessoas
    key: [idpessoa]
    match: {cpf: cpf}
    fields:
      cep: {category: endereco, anonymizer: {name: generalize.cep_prefix, params: {digitos: 3}}}
`), opts...); err == nil || !strings.Contains(err.Error(), `unknown param "digitos"`) {
		t.Errorf("a misspelt param must be reported at parse, got %v", err)
	}
}
