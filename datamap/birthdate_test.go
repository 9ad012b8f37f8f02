package datamap

import (
	"errors"
	"strings"
	"testing"
)

// pessoaWith is a root entity on pessoas (lines 5-8) with the given fields,
// the first on line 10.
func pessoaWith(fields string) string {
	return doc("  p:\n    table: pessoas\n    key: [idpessoa]\n    match: {cpf: cpf}\n    fields:\n" + fields)
}

func TestBirthDateAccepted(t *testing.T) {
	m, err := Parse("m.yaml", []byte(pessoaWith("      data_nascimento: {category: identificacao, birth_date: true}\n      nome: {category: identificacao}\n")))
	if err != nil {
		t.Fatal(err)
	}
	if !m.HasBirthDate() {
		t.Fatal("HasBirthDate = false for a map that names one")
	}
	f, ok := m.Entity("p").BirthDateField()
	if !ok || f.Column != "data_nascimento" {
		t.Fatalf("BirthDateField = %q, %v; want data_nascimento", f.Column, ok)
	}
	if err := m.CheckSchema(realEstateSchema()); err != nil {
		t.Fatalf("CheckSchema of a DATE birth date: %v", err)
	}
	roundTrip(t, m)

	none, err := Parse("m.yaml", []byte(pessoaWith("      data_nascimento: {category: identificacao, birth_date: false}\n")))
	if err != nil {
		t.Fatal(err)
	}
	if none.HasBirthDate() {
		t.Error("HasBirthDate = true for birth_date: false")
	}
}

func TestBirthDateRules(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want wantProblem
	}{
		{"not a bool", pessoaWith("      data_nascimento: {category: identificacao, birth_date: yes please}\n"),
			wantProblem{"entities.p.fields.data_nascimento.birth_date", 10, "must be true or false", "birth_date: true"}},
		{"two in one entity", pessoaWith("      data_nascimento: {category: identificacao, birth_date: true}\n      nome: {category: identificacao, birth_date: true}\n"),
			wantProblem{"entities.p.fields.nome.birth_date", 11, `already names "data_nascimento"`, "one column"}},
		{"on a child entity", doc(root + "  c:\n    table: reservas\n    key: [idreserva]\n    parent: {entity: p, on: {idpessoa_titular: id}}\n    fields:\n      data_venda: {category: contexto, birth_date: true}\n"),
			wantProblem{"entities.c.fields.data_venda.birth_date", 14, "not the titular's own", "root entity"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("m.yaml", []byte(tt.yaml))
			expectProblem(t, err, tt.want)
		})
	}
}

func TestBirthDateSchema(t *testing.T) {
	for _, tc := range []struct{ column, typ string }{{"nome", "varchar(150)"}, {"renda_mensal", "decimal(12,2)"}} {
		m, err := Parse("m.yaml", []byte(pessoaWith("      "+tc.column+": {category: identificacao, birth_date: true}\n")))
		if err != nil {
			t.Fatal(err)
		}
		expectProblem(t, m.CheckSchema(realEstateSchema()), wantProblem{
			"entities.p.fields." + tc.column + ".birth_date", 10, tc.typ + ", not a date", "DATE, DATETIME or TIMESTAMP"})
	}
}

// expectProblem checks that err is Problems holding want.
func expectProblem(t *testing.T, err error, want wantProblem) {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems with %q, got %v", want.msg, err)
	}
	for _, p := range ps {
		if p.Path == want.path && p.Line == want.line && strings.Contains(p.Message, want.msg) && strings.Contains(p.Fix, want.fix) && p.Fix != "" {
			return
		}
	}
	t.Fatalf("no problem %+v in:\n%v", want, err)
}
