package datamap

import (
	"strings"
	"testing"
)

// shopSchema is a customer table with a composite UNIQUE (store_id, email),
// a nullable and a NOT NULL foreign key, and a table referencing its
// customer_code.
func shopSchema() *Schema {
	return &Schema{
		Tables: map[string]*Table{
			"customer": {Name: "customer", PrimaryKey: []string{"id"}, Unique: [][]string{{"id"}, {"store_id", "email"}, {"id", "nick"}},
				Columns: map[string]Column{
					"id":            {Name: "id", DataType: "int"},
					"store_id":      {Name: "store_id", DataType: "int"},
					"address_id":    {Name: "address_id", DataType: "int", Nullable: true},
					"email":         {Name: "email", DataType: "varchar", MaxLength: 80},
					"nick":          {Name: "nick", DataType: "varchar", MaxLength: 80},
					"customer_code": {Name: "customer_code", DataType: "varchar", MaxLength: 20},
				}},
			"store":   {Name: "store", PrimaryKey: []string{"id"}, Columns: map[string]Column{"id": {Name: "id", DataType: "int"}}},
			"address": {Name: "address", PrimaryKey: []string{"id"}, Columns: map[string]Column{"id": {Name: "id", DataType: "int"}}},
			"loyalty": {Name: "loyalty", PrimaryKey: []string{"code"}, Columns: map[string]Column{"code": {Name: "code", DataType: "varchar", MaxLength: 20}}},
		},
		ForeignKeys: []ForeignKey{
			{Table: "customer", Columns: []string{"store_id"}, RefTable: "store", RefColumns: []string{"id"}},
			{Table: "customer", Columns: []string{"address_id"}, RefTable: "address", RefColumns: []string{"id"}},
			{Table: "loyalty", Columns: []string{"code"}, RefTable: "customer", RefColumns: []string{"customer_code"}},
		},
	}
}

func TestUniqueConstrained(t *testing.T) {
	c := shopSchema().Tables["customer"]
	for col, want := range map[string]bool{
		"id":         true,  // the primary key
		"email":      true,  // (store_id, email): two customers of a store may collide
		"store_id":   true,  // likewise
		"nick":       false, // (id, nick): id alone is unique already
		"address_id": false,
	} {
		if got := UniqueConstrained(c, col); got != want {
			t.Errorf("UniqueConstrained(%s) = %v, want %v", col, got, want)
		}
	}
}

// TestAnonymizerVsForeignKeys: an anonymizer on a referencing column is
// refused unless it is nullify on a nullable column; one on a referenced
// column is refused; a constant on a column of a composite UNIQUE key goes
// through the anonymizer check as unique.
func TestAnonymizerVsForeignKeys(t *testing.T) {
	src := `version: 1
subject: {identifiers: [email]}
entities:
  customer:
    table: customer
    key: [id]
    match: {email: email}
    fields:
      email:         {category: contato, anonymizer: constant}
      nick:          {category: identificacao, anonymizer: constant}
      store_id:      {category: contexto, anonymizer: fake.name}
      address_id:    {category: endereco, anonymizer: nullify}
      customer_code: {category: identificacao, anonymizer: random}
`
	var unique []string
	check := func(ref AnonymizerRef, col *Column, u bool) error {
		if col != nil && u {
			unique = append(unique, col.Name)
			if ref.Name == "constant" {
				return fixErr{"constant repeats on a UNIQUE column", "use fake.*"}
			}
		}
		return nil
	}
	m, err := Parse("m.yaml", []byte(src), WithAnonymizerCheck(check))
	if err != nil {
		t.Fatal(err)
	}
	err = m.CheckSchema(shopSchema())
	if err == nil {
		t.Fatal("CheckSchema passed a map that breaks foreign keys")
	}
	msg := err.Error()
	for _, want := range []string{
		"m.yaml:9: entities.customer.fields.email.anonymizer: constant repeats on a UNIQUE column (fix: use fake.*)",
		"m.yaml:11: entities.customer.fields.store_id.anonymizer: fake.name on customer.store_id breaks the foreign key customer(store_id) -> store(id)",
		"fix: map the column as category: contexto (no anonymizer) or anonymizer: keep",
		"m.yaml:13: entities.customer.fields.customer_code.anonymizer: random on customer.customer_code rewrites a value the foreign key loyalty(code) -> customer(customer_code) points at",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "address_id") || strings.Contains(msg, "fields.nick") {
		t.Errorf("nullify on a nullable reference, or a constant on (id, nick), was refused:\n%s", msg)
	}
	if n := len(strings.Split(msg, "\n")); n != 3 {
		t.Errorf("%d problems, want 3:\n%s", n, msg)
	}
	if strings.Join(unique, ",") != "email,store_id" {
		t.Errorf("checked as unique: %v, want email and store_id", unique)
	}
}

// TestSensitiveBasis: a health note under legitimate interest fails at
// CheckSchema, pointing at the field; under consent it passes.
func TestSensitiveBasis(t *testing.T) {
	src := `version: 1
subject: {identifiers: [email]}
entities:
  patient_note:
    table: customer
    key: [id]
    purpose: atendimento
    legal_basis: legitimo_interesse
    match: {email: email}
    fields:
      nick: {category: saude, anonymizer: nullify}
`
	s := shopSchema()
	s.ForeignKeys = nil
	s.Tables["customer"].Columns["nick"] = Column{Name: "nick", DataType: "varchar", MaxLength: 80, Nullable: true}
	m, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	err = m.CheckSchema(s)
	if err == nil || !strings.Contains(err.Error(), "m.yaml:11: entities.patient_note.fields.nick: field nick holds sensitive data (saude, LGPD Art. 5 II) but entity patient_note's legal_basis legitimo_interesse (line 8) is not one Art. 11 allows") ||
		!strings.Contains(err.Error(), "fix: move the field to an entity whose legal_basis is one of consentimento,") {
		t.Errorf("CheckSchema = %v; want the sensitive field refused", err)
	}
	for _, basis := range []string{"protecao_credito", "execucao_contrato"} {
		m, err := Parse("m.yaml", []byte(strings.Replace(src, "legitimo_interesse", basis, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.CheckSchema(s); err == nil {
			t.Errorf("%s passed for a health note", basis)
		}
	}
	m, err = Parse("m.yaml", []byte(strings.Replace(src, "legitimo_interesse", "consentimento", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckSchema(s); err != nil {
		t.Errorf("a health note under consent: %v", err)
	}
	if got := MissingBasics(m); len(got) != 0 {
		t.Errorf("MissingBasics = %v, want none", got)
	}
	m, err = Parse("m.yaml", []byte(strings.Replace(strings.Replace(src, "    legal_basis: legitimo_interesse\n", "", 1), "purpose: atendimento", "purpose: x", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := MissingBasics(m); len(got) != 1 || got[0] != "patient_note" {
		t.Errorf("MissingBasics = %v, want [patient_note]", got)
	}
}

func TestMapProblemLine(t *testing.T) {
	src := `version: 1
subject: {identifiers: [email]}
entities:
  store:
    table: store
    key: [id]
    match: {email: email}
  customer:
    table: customer
    key: [id]
    parent: {entity: store, on: {store_id: id}}
`
	m, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Problem("entities.customer.parent", "reaches others", "fix it"); p.String() != "m.yaml:11: entities.customer.parent: reaches others (fix: fix it)" {
		t.Errorf("Problem = %q", p)
	}
	if p := m.Problem("entities.store.retention", "x", ""); p.Line != 4 {
		t.Errorf("an absent key: line %d, want the entity's (4)", p.Line)
	}
	if (Problems{}).AsError() != nil {
		t.Error("no problems is an error")
	}
}
