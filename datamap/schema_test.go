package datamap

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// table builds a Table from "name type" column specs such as "cpf varchar(14)".
func table(name string, pk []string, unique [][]string, cols ...string) *Table {
	t := &Table{Name: name, Columns: map[string]Column{}, PrimaryKey: pk, Unique: unique}
	for _, spec := range cols {
		colName, colType, _ := strings.Cut(spec, " ")
		dataType, rest, _ := strings.Cut(colType, "(")
		c := Column{Name: colName, DataType: dataType, ColumnType: colType, Nullable: true}
		if dataType == "char" || dataType == "varchar" {
			c.MaxLength, _ = strconv.ParseInt(strings.TrimSuffix(rest, ")"), 10, 64)
		}
		t.Columns[colName] = c
	}
	return t
}

// realEstateSchema matches testdata/realestate.yaml.
func realEstateSchema() *Schema {
	return &Schema{Tables: map[string]*Table{
		"pessoas": table("pessoas", []string{"idpessoa"}, [][]string{{"cpf"}},
			"idpessoa int", "nome varchar(150)", "cpf char(11)", "rg varchar(20)", "data_nascimento date",
			"nome_mae varchar(150)", "email varchar(150)", "telefone_celular varchar(20)", "cep char(8)",
			"logradouro varchar(200)", "profissao varchar(100)", "renda_mensal decimal(12,2)", "pep tinyint(1)",
			"idconjuge int"),
		"leads": table("leads", []string{"idlead"}, nil,
			"idlead bigint", "idpessoa int", "nome varchar(150)", "email varchar(150)", "telefone varchar(20)",
			"cpf varchar(14)", "renda_informada decimal(12,2)", "status enum('novo','perdido','convertido')"),
		"lead_interacoes": table("lead_interacoes", []string{"idinteracao"}, nil,
			"idinteracao bigint", "idlead bigint", "canal varchar(30)", "descricao text"),
		"reservas": table("reservas", []string{"idreserva"}, nil,
			"idreserva int", "idpessoa_titular int", "cliente_nome varchar(150)", "cliente_cpf varchar(14)",
			"cliente_renda decimal(12,2)", "estado_civil varchar(20)", "valor_contrato decimal(14,2)", "data_venda datetime"),
		"reserva_associados": table("reserva_associados", []string{"idreserva", "idpessoa"}, nil,
			"idreserva int", "idpessoa int", "tipo varchar(20)", "renda decimal(12,2)", "criado_em timestamp"),
		"repasses": table("repasses", []string{"idrepasse"}, nil,
			"idrepasse int", "idreserva int", "banco varchar(60)", "numero_contrato varchar(40)",
			"valor_financiado decimal(14,2)", "data_contrato date"),
		"documentos": table("documentos", []string{"iddocumento"}, nil,
			"iddocumento int", "idpessoa int", "tipo varchar(30)", "caminho varchar(255)", "laudo_medico text"),
		"corretores": table("corretores", []string{"idcorretor"}, [][]string{{"cpf"}},
			"idcorretor int", "nome varchar(150)", "cpf char(11)", "email varchar(150)", "creci varchar(20)", "pix varchar(80)"),
	}}
}

func TestCheckSchemaRealEstate(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "realestate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckSchema(realEstateSchema()); err != nil {
		t.Fatalf("CheckSchema: %v", err)
	}
}

func TestCheckSchema(t *testing.T) {
	tests := []struct {
		name   string
		yaml   string
		schema func(s *Schema) // changes to the base schema
		want   wantProblem
	}{
		{"unknown table", doc("  p:\n    table: pesoas\n    key: [id]\n    match: {cpf: cpf}\n"), nil,
			wantProblem{"entities.p.table", 6, `table "pesoas" does not exist`, `did you mean "pessoas"?`}},
		{"unknown column in key", doc("  p:\n    table: pessoas\n    key: [idpesoa]\n    match: {cpf: cpf}\n"), nil,
			wantProblem{"entities.p.key[0]", 7, `column "idpesoa" does not exist in table "pessoas"`, `did you mean "idpessoa"?`}},
		{"key not unique", doc("  p:\n    table: pessoas\n    key: [nome]\n    match: {cpf: cpf}\n"), nil,
			wantProblem{"entities.p.key", 7, "neither the primary key nor a unique key", "key: [idpessoa]"}},
		{"key on table without keys", doc("  p:\n    table: pessoas\n    key: [nome]\n    match: {cpf: cpf}\n"),
			func(s *Schema) { s.Tables["pessoas"].PrimaryKey, s.Tables["pessoas"].Unique = nil, nil },
			wantProblem{"entities.p.key", 7, "neither the primary key nor a unique key", "has no primary or unique key"}},
		{"unknown match column", doc("  p:\n    table: pessoas\n    key: [idpessoa]\n    match: {cpf: documento}\n"), nil,
			wantProblem{"entities.p.match.cpf", 8, `column "documento" does not exist`, ""}},
		{"match on number", doc("  p:\n    table: pessoas\n    key: [idpessoa]\n    match: {cpf: idconjuge}\n"), nil,
			wantProblem{"entities.p.match.cpf", 8, `match column "idconjuge" is int`, "CHAR or VARCHAR"}},
		{"match column too short", doc("  p:\n    table: pessoas\n    key: [idpessoa]\n    match: {cpf: cep}\n"), nil,
			wantProblem{"entities.p.match.cpf", 8, "at most 8 characters, too short for a cpf", "at least 11"}},
		{"unknown field column", doc("  p:\n    table: pessoas\n    key: [idpessoa]\n    match: {cpf: cpf}\n    fields:\n      e_mail: {category: contato}\n"), nil,
			wantProblem{"entities.p.fields.e_mail", 10, `column "e_mail" does not exist`, `did you mean "email"?`}},
		{"validate cpf on a number", doc("  p:\n    table: pessoas\n    key: [idpessoa]\n    match: {cpf: cpf}\n    fields:\n      idconjuge: {category: familiar, validate: cpf}\n"), nil,
			wantProblem{"entities.p.fields.idconjuge.validate", 10, "needs a text column; int drops leading zeros", "CHAR or VARCHAR"}},
		{"validate cnpj too short", doc("  p:\n    table: pessoas\n    key: [idpessoa]\n    match: {cpf: cpf}\n    fields:\n      cpf: {category: identificacao, validate: cnpj}\n"), nil,
			wantProblem{"entities.p.fields.cpf.validate", 10, "cnpj values need 14 characters but the column holds 11", "widen"}},
		{"validate email on a date", doc("  p:\n    table: pessoas\n    key: [idpessoa]\n    match: {cpf: cpf}\n    fields:\n      data_nascimento: {category: contato, validate: email}\n"), nil,
			wantProblem{"entities.p.fields.data_nascimento.validate", 10, "email needs a text column, not date", ""}},
		{"validate date on a number", doc("  p:\n    table: pessoas\n    key: [idpessoa]\n    match: {cpf: cpf}\n    fields:\n      renda_mensal: {category: financeiro, validate: date}\n"), nil,
			wantProblem{"entities.p.fields.renda_mensal.validate", 10, "date does not fit a decimal(12,2) column", ""}},
		{"parent child column missing", doc(root + "  c:\n    table: leads\n    key: [idlead]\n    parent: {entity: p, on: {id_pessoa: idpessoa}}\n"),
			func(s *Schema) { s.Tables["pessoas"].Columns["id"] = Column{Name: "id", DataType: "int"} },
			wantProblem{"entities.c.parent.on.id_pessoa", 12, `column "id_pessoa" does not exist in table "leads"`, `did you mean "idpessoa"?`}},
		{"where column missing", doc(root + "  c:\n    table: leads\n    key: [idlead]\n    where: {origen: site}\n    parent: {entity: p, on: {idpessoa: idpessoa}}\n"), nil,
			wantProblem{"entities.c.where.origen", 12, `column "origen" does not exist in table "leads"`, ""}},
		{"parent column missing", doc("  p:\n    table: pessoas\n    key: [idpessoa]\n    match: {cpf: cpf}\n  c:\n    table: leads\n    key: [idlead]\n    parent: {entity: p, on: {idpessoa: id}}\n"), nil,
			wantProblem{"entities.c.parent.on.idpessoa", 12, `column "id" does not exist in table "pessoas"`, ""}},
		{"parent types differ", doc("  p:\n    table: pessoas\n    key: [idpessoa]\n    match: {cpf: cpf}\n  c:\n    table: leads\n    key: [idlead]\n    parent: {entity: p, on: {cpf: idpessoa}}\n"), nil,
			wantProblem{"entities.c.parent.on.cpf", 12, "leads.cpf (varchar(14)) cannot join pessoas.idpessoa (int): one is text, the other number", "same kind"}},
		{"retention from missing", doc("  p:\n    table: pessoas\n    key: [idpessoa]\n    match: {cpf: cpf}\n    retention: {basis: obrigacao_legal, reference: CTN, keep_years: 5, from: data_venda}\n"), nil,
			wantProblem{"entities.p.retention.from", 9, `column "data_venda" does not exist in table "pessoas"`, ""}},
		{"retention from not a date", doc("  p:\n    table: pessoas\n    key: [idpessoa]\n    match: {cpf: cpf}\n    retention: {basis: obrigacao_legal, reference: CTN, keep_years: 5, from: nome}\n"), nil,
			wantProblem{"entities.p.retention.from", 9, `retention counts from "nome", which is varchar(150), not a date`, "date, datetime or timestamp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, tt.yaml)
			s := realEstateSchema()
			if tt.schema != nil {
				tt.schema(s)
			}
			var probs Problems
			if err := m.CheckSchema(s); !errors.As(err, &probs) {
				t.Fatalf("CheckSchema = %v, want Problems", err)
			}
			assertProblem(t, probs, tt.want)
		})
	}
}

func TestCheckSchemaAcceptsUniqueKeyAndTextDates(t *testing.T) {
	m := mustParse(t, doc(`  p:
    table: pessoas
    key: [cpf]
    match: {cpf: cpf}
    fields:
      rg: {category: documental, validate: date}
      telefone_celular: {category: contato, validate: phone}
`))
	if err := m.CheckSchema(realEstateSchema()); err != nil {
		t.Fatal(err)
	}
}

func TestCheckSchemaEmpty(t *testing.T) {
	m := mustParse(t, doc(root))
	for _, s := range []*Schema{nil, {}} {
		var probs Problems
		if err := m.CheckSchema(s); !errors.As(err, &probs) || probs[0].Fix == "" {
			t.Errorf("CheckSchema(%v) = %v, want a problem with a fix", s, err)
		}
	}
}

func TestCheckSchemaHandBuiltMap(t *testing.T) {
	// A map built in code has no line table; problems fall back to the entity line.
	m := &Map{File: "code", Entities: []*Entity{{Name: "p", Table: "nada", Key: []string{"id"}, Line: 0}}}
	var probs Problems
	if err := m.CheckSchema(realEstateSchema()); !errors.As(err, &probs) || probs[0].Path != "entities.p.table" {
		t.Fatalf("CheckSchema = %v", err)
	}
}
