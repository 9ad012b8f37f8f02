package crm_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store"
	"github.com/titular/titular/store/storetest"
)

// A small CRM of our own, unlike the demo schema: people with identifiers,
// leads that are both found by identifier and hang off a person, sales with
// a composite-keyed child and a grand-child keyed by that pair, and columns
// holding secrets that no map names.
const crmSchema = `
CREATE TABLE people (
  id            INT           NOT NULL AUTO_INCREMENT,
  cpf           VARCHAR(14)   NULL,
  email         VARCHAR(120)  NULL,
  phone         VARCHAR(20)   NULL,
  name          VARCHAR(100)  NOT NULL,
  birth         DATE          NULL,
  income        DECIMAL(12,2) NULL,
  created       DATETIME      NULL,
  password_hash VARCHAR(100)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_people_email (email),
  KEY ix_people_cpf (cpf),
  KEY ix_people_phone (phone)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE leads (
  id        INT          NOT NULL AUTO_INCREMENT,
  person_id INT          NULL,
  cpf       VARCHAR(14)  NULL,
  email     VARCHAR(120) NULL,
  phone     VARCHAR(25)  NULL,
  note      TEXT         NULL,
  PRIMARY KEY (id),
  KEY ix_leads_cpf (cpf),
  KEY ix_leads_email (email),
  KEY ix_leads_phone (phone),
  CONSTRAINT fk_leads_person FOREIGN KEY (person_id) REFERENCES people (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE sales (
  id         INT           NOT NULL AUTO_INCREMENT,
  person_id  INT           NOT NULL,
  client_cpf VARCHAR(14)   NULL,
  value      DECIMAL(20,4) NOT NULL,
  sold_on    DATE          NULL,
  PRIMARY KEY (id),
  KEY ix_sales_person (person_id),
  KEY ix_sales_cpf (client_cpf)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE sale_parts (
  sale_id INT           NOT NULL,
  part_no SMALLINT      NOT NULL,
  amount  DECIMAL(12,2) NOT NULL,
  PRIMARY KEY (sale_id, part_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE part_notes (
  id              BIGINT       NOT NULL AUTO_INCREMENT,
  sale_id         INT          NOT NULL,
  part_no         SMALLINT     NOT NULL,
  body            VARCHAR(200) NOT NULL,
  internal_secret VARCHAR(64)  NULL,
  PRIMARY KEY (id),
  KEY ix_part_notes_part (sale_id, part_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
`

// crmMap lists children before their parents on purpose: crm.Walk must still
// visit parents first. The first field of every entity tags its rows.
const crmMap = `version: 1
subject:
  identifiers: [cpf, email, phone]
entities:
  part_note:
    table: part_notes
    key: [id]
    parent: {entity: sale_part, on: {sale_id: sale_id, part_no: part_no}}
    fields:
      body: {category: comunicacao}
  sale_part:
    table: sale_parts
    key: [sale_id, part_no]
    parent: {entity: sale, on: {sale_id: id}}
    fields:
      amount:  {category: financeiro}
      part_no: {category: contexto}
  lead:
    table: leads
    key: [id]
    match: {cpf: cpf, email: email, phone: phone}
    parent: {entity: person, on: {person_id: id}}
    fields:
      note:  {category: comunicacao}
      cpf:   {category: identificacao, validate: cpf}
      email: {category: contato, validate: email}
      phone: {category: contato, validate: phone}
  sale:
    table: sales
    key: [id]
    match: {cpf: client_cpf}
    parent: {entity: person, on: {person_id: id}}
    fields:
      value:      {category: financeiro}
      client_cpf: {category: identificacao, validate: cpf}
      sold_on:    {category: contexto}
  person:
    table: people
    key: [id]
    match: {cpf: cpf, email: email, phone: phone}
    fields:
      name:    {category: identificacao}
      cpf:     {category: identificacao, validate: cpf}
      email:   {category: contato, validate: email}
      phone:   {category: contato, validate: phone}
      birth:   {category: identificacao}
      income:  {category: financeiro}
      created: {category: contexto}
`

// The titular and the decoys. All synthetic.
var (
	subjectCPF   = brdoc.CPFFromSeed(1001)
	decoyCPF     = brdoc.CPFFromSeed(2002)
	decoy2CPF    = brdoc.CPFFromSeed(3003)
	subjectEmail = "ana.souza@example.com"
	subjectPhone = "+5511987654321"
	decoyPhone   = "+5521998765432"
	// Differs from the subject's number in the last digit only.
	nearPhone = "+5511987654320"
)

// crmDB creates the schema on a fresh database and parses the map.
func crmDB(t *testing.T) (*sql.DB, *datamap.Map) {
	t.Helper()
	db, _ := storetest.NewDatabase(t)
	for _, st := range store.SplitStatements(crmSchema) {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("create schema: %v\n%s", err, st)
		}
	}
	m, err := datamap.Parse("crm.yaml", []byte(crmMap))
	if err != nil {
		t.Fatalf("parse map: %v", err)
	}
	return db, m
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", strings.SplitN(query, "\n", 2)[0], err)
	}
}

// shapes returns brdoc's shapes, failing the test if the value is invalid.
func shapes(t *testing.T, list []string) []string {
	t.Helper()
	if len(list) < 3 {
		t.Fatalf("test identifier has only %d shapes", len(list))
	}
	return list
}

// seedCRM writes the rows the crm.Walk tests look for. The subject's CPF and
// phone are stored in a different shape in every table and the e-mail in
// mixed case.
func seedCRM(t *testing.T, db *sql.DB) {
	t.Helper()
	cpf := shapes(t, brdoc.CPFShapes(subjectCPF)) // digits, 000.000.000-00, 000000000-00
	ph := shapes(t, brdoc.PhoneShapes(subjectPhone))
	nearPh := shapes(t, brdoc.PhoneShapes(nearPhone))
	dcpf := shapes(t, brdoc.CPFShapes(decoyCPF))
	d2cpf := shapes(t, brdoc.CPFShapes(decoy2CPF))

	mustExec(t, db, `INSERT INTO people (id, cpf, email, phone, name, birth, income, created, password_hash) VALUES
 (1, ?, 'Ana.Souza@Example.COM', ?, 'Ana Subject', '1985-03-07', 12345.67, '2024-01-02 03:04:05', 'SECRET-HASH-P1'),
 (2, ?, 'bia@example.com', ?, 'Bia Decoy', NULL, NULL, NULL, 'SECRET-HASH-P2'),
 (3, ?, 'ana.souza@example.com.br', ?, 'Caio Decoy', '1990-01-01', 1.00, '2020-01-01 00:00:00', 'SECRET-HASH-P3')`,
		cpf[1], ph[3], dcpf[0], decoyPhone, d2cpf[2], nearPh[2])
	mustExec(t, db, `INSERT INTO leads (id, person_id, cpf, email, phone, note) VALUES
 (11, 1, ?, 'ANA.SOUZA@EXAMPLE.COM', ?, 'L1 cpf, email, phone and child'),
 (12, NULL, ?, NULL, NULL, 'L2 cpf only'),
 (13, 1, NULL, NULL, NULL, 'L3 child only'),
 (14, NULL, NULL, 'ana.souza@example.com', NULL, 'L4 email only'),
 (15, NULL, NULL, NULL, ?, 'L5 phone only'),
 (16, 2, ?, 'bia@example.com', NULL, 'L6 decoy'),
 (17, NULL, NULL, 'Ana.Souza@Example.com.br', ?, 'L7 lookalike'),
 (18, 3, ?, NULL, NULL, 'L8 child of a decoy')`,
		cpf[0], ph[1], cpf[2], ph[8], dcpf[1], nearPh[7], d2cpf[0])
	mustExec(t, db, `INSERT INTO sales (id, person_id, client_cpf, value, sold_on) VALUES
 (21, 1, ?, 350000.0000, '2023-06-30'),
 (22, 1, NULL, 12345678901234.5678, NULL),
 (23, 2, ?, 99.0000, '2022-02-02'),
 (24, 2, ?, 777.7700, '2021-01-01')`,
		cpf[2], dcpf[0], cpf[1])
	mustExec(t, db, `INSERT INTO sale_parts (sale_id, part_no, amount) VALUES
 (21, 1, 100.01), (21, 2, 200.02), (22, 1, 300.03), (23, 1, 900.01), (23, 2, 900.02), (24, 1, 400.04)`)
	// (22, 2) and (24, 2) are no part: a join that matched sale_id and part_no
	// separately would wrongly pick their orphan notes up.
	mustExec(t, db, `INSERT INTO part_notes (id, sale_id, part_no, body, internal_secret) VALUES
 (31, 21, 1, 'N1', 'SECRET-N'), (32, 21, 2, 'N2', 'SECRET-N'), (33, 22, 1, 'N3', 'SECRET-N'),
 (34, 22, 2, 'N4 orphan', 'SECRET-N'), (35, 23, 1, 'N5 decoy', 'SECRET-N'), (36, 24, 1, 'N6 via S4', 'SECRET-N'),
 (37, 21, 1, 'N7', 'SECRET-N'), (38, 24, 2, 'N8 orphan', 'SECRET-N')`)
}

// recorder is a crm.Sink that checks the call protocol and keeps every row.
type recorder struct {
	cur    *datamap.Entity
	order  []string
	rows   map[string][][]any
	ents   map[string]*datamap.Entity
	errors []string
}

func newRecorder() *recorder {
	return &recorder{rows: map[string][][]any{}, ents: map[string]*datamap.Entity{}}
}

func (r *recorder) fail(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) BeginEntity(e *datamap.Entity) error {
	if r.cur != nil {
		r.fail("BeginEntity(%s) inside %s", e.Name, r.cur.Name)
	}
	if _, dup := r.ents[e.Name]; dup {
		r.fail("BeginEntity(%s) twice", e.Name)
	}
	r.cur, r.ents[e.Name] = e, e
	r.order = append(r.order, e.Name)
	return nil
}

func (r *recorder) Row(values []any) error {
	if r.cur == nil {
		r.fail("Row outside an entity")
		return nil
	}
	if len(values) != len(r.cur.Fields) {
		r.fail("%s: row has %d values for %d fields", r.cur.Name, len(values), len(r.cur.Fields))
	}
	r.rows[r.cur.Name] = append(r.rows[r.cur.Name], append([]any(nil), values...))
	return nil
}

func (r *recorder) EndEntity(e *datamap.Entity, n int64) error {
	if r.cur == nil || r.cur.Name != e.Name {
		r.fail("EndEntity(%s) without its BeginEntity", e.Name)
	}
	if int64(len(r.rows[e.Name])) != n {
		r.fail("EndEntity(%s, %d) after %d rows", e.Name, n, len(r.rows[e.Name]))
	}
	r.cur = nil
	return nil
}

// tags returns each row's first value as text, in delivery order.
func (r *recorder) tags(entity string) []string {
	var out []string
	for _, row := range r.rows[entity] {
		out = append(out, fmt.Sprint(row[0]))
	}
	return out
}

// value returns the value of column in the row tagged tag.
func (r *recorder) value(t *testing.T, entity, tag, column string) any {
	t.Helper()
	e := r.ents[entity]
	col := -1
	for i, f := range e.Fields {
		if f.Column == column {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("%s has no field %s", entity, column)
	}
	for _, row := range r.rows[entity] {
		if fmt.Sprint(row[0]) == tag {
			return row[col]
		}
	}
	t.Fatalf("%s: no row tagged %q", entity, tag)
	return nil
}
