package crm_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store/storetest"
)

// A rental CRM whose own foreign keys act on delete: payments lose their
// rental (SET NULL), contracts and inspections go with it (CASCADE), and a
// rental goes with its tenant (CASCADE); a payment also keeps its payer
// (RESTRICT). Payments and contracts are held 5 years; inspections
// (vistorias) are not in the map at all.
const fkSchema = `
CREATE TABLE pessoas (idpessoa INT NOT NULL PRIMARY KEY, cpf CHAR(11) NOT NULL, nome VARCHAR(80) NOT NULL) ENGINE=InnoDB;
CREATE TABLE locacoes (idlocacao INT NOT NULL PRIMARY KEY, idpessoa INT NOT NULL, endereco VARCHAR(120) NOT NULL,
  CONSTRAINT fk_locacoes_pessoa FOREIGN KEY (idpessoa) REFERENCES pessoas (idpessoa) ON DELETE CASCADE) ENGINE=InnoDB;
CREATE TABLE pagamentos (idpagamento INT NOT NULL PRIMARY KEY, idpessoa INT NOT NULL, idlocacao INT NULL,
  data_pagamento DATE NOT NULL, valor DECIMAL(12,2) NOT NULL,
  CONSTRAINT fk_pagamentos_pessoa FOREIGN KEY (idpessoa) REFERENCES pessoas (idpessoa),
  CONSTRAINT fk_pagamentos_locacao FOREIGN KEY (idlocacao) REFERENCES locacoes (idlocacao) ON DELETE SET NULL) ENGINE=InnoDB;
CREATE TABLE contratos (idcontrato INT NOT NULL PRIMARY KEY, idpessoa INT NOT NULL, idlocacao INT NOT NULL, assinado_em DATE NOT NULL,
  CONSTRAINT fk_contratos_locacao FOREIGN KEY (idlocacao) REFERENCES locacoes (idlocacao) ON DELETE CASCADE) ENGINE=InnoDB;
CREATE TABLE vistorias (idvistoria INT NOT NULL PRIMARY KEY, idlocacao INT NOT NULL, laudo VARCHAR(200) NOT NULL,
  CONSTRAINT fk_vistorias_locacao FOREIGN KEY (idlocacao) REFERENCES locacoes (idlocacao) ON DELETE CASCADE) ENGINE=InnoDB;
`

const fkMap = `
version: 1
subject:
  identifiers: [cpf]
entities:
  pessoa:
    table: pessoas
    key: [idpessoa]
    purpose: locacao
    legal_basis: execucao_contrato
    match: {cpf: cpf}
    fields:
      cpf:  {category: identificacao, anonymizer: fake.cpf}
      nome: {category: identificacao, anonymizer: fake.name}
  locacao:
    table: locacoes
    key: [idlocacao]
    purpose: locacao
    legal_basis: execucao_contrato
    parent: {entity: pessoa, on: {idpessoa: idpessoa}}
    fields:
      endereco: {category: endereco, anonymizer: fake.address}
  pagamento:
    table: pagamentos
    key: [idpagamento]
    purpose: locacao
    legal_basis: obrigacao_legal
    parent: {entity: pessoa, on: {idpessoa: idpessoa}}
    retention: {basis: obrigacao_legal, reference: "CTN art. 173", keep_years: 5, from: data_pagamento, on_delete: block}
    fields:
      valor: {category: financeiro, anonymizer: nullify}
  contrato:
    table: contratos
    key: [idcontrato]
    purpose: locacao
    legal_basis: obrigacao_legal
    parent: {entity: pessoa, on: {idpessoa: idpessoa}}
    retention: {basis: obrigacao_legal, reference: "Código Civil art. 205", keep_years: 5, from: assinado_em, on_delete: block}
    fields:
      assinado_em: {category: contexto}
`

// Two titulares. Ana (1) rents 10, 11, 12, 13 and 14: a payment of 2025
// (held) points at 10 (SET NULL), a contract of 2026 (held) at 11
// (CASCADE), a payment of 2019 (released) at 12, an inspection (unmapped)
// at 13, and nothing at 14. Bia (2) rents 20, with a payment and a contract
// of 2019 (released) pointing at it.
const fkRows = `
INSERT INTO pessoas VALUES (1, '52998224725', 'Ana Teste'), (2, '11144477735', 'Bia Teste');
INSERT INTO locacoes VALUES (10, 1, 'Rua A, 10'), (11, 1, 'Rua A, 11'), (12, 1, 'Rua A, 12'), (13, 1, 'Rua A, 13'),
  (14, 1, 'Rua A, 14'), (20, 2, 'Rua B, 20');
INSERT INTO pagamentos VALUES (100, 1, 10, '2025-03-10', 1500.00), (101, 1, 12, '2019-03-10', 900.00),
  (200, 2, 20, '2019-05-10', 700.00);
INSERT INTO contratos VALUES (110, 1, 11, '2026-02-01'), (210, 2, 20, '2019-05-01');
INSERT INTO vistorias VALUES (130, 13, 'Laudo de entrada');
`

func fkFixture(t *testing.T) (*sql.DB, *datamap.Map) {
	t.Helper()
	db, _ := storetest.NewDatabase(t)
	for _, q := range strings.Split(fkSchema+fkRows, ";\n") {
		if q = strings.TrimSpace(q); q != "" {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	m, err := datamap.Parse("fk.yaml", []byte(fkMap))
	if err != nil {
		t.Fatal(err)
	}
	return db, m
}

// dump returns every row of table, each column's bytes as the server sends
// them, by first column.
func dump(t *testing.T, db *sql.DB, table string) map[string][]string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table) //nolint:gosec // G202: test tables
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := map[string][]string{}
	for rows.Next() {
		raw := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, b := range raw {
			row[i] = fmt.Sprintf("%q", b) // nil and "" stay apart
			if b == nil {
				row[i] = "NULL"
			}
		}
		out[string(raw[0])] = row
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func deleteFK(t *testing.T, db *sql.DB, m *datamap.Map, cpf string) *crm.DeleteResult {
	t.Helper()
	plan, err := crm.PlanDelete(m, anonymize.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	key, err := anonymize.NewRequestKey()
	if err != nil {
		t.Fatal(err)
	}
	x := crm.New(func() time.Time { return crmtest.Clock })
	var res *crm.DeleteResult
	if err := inTx(db, func(tx *sql.Tx) error {
		res, err = x.Delete(context.Background(), tx, plan, key, crm.Identifiers{CPF: cpf})
		return err
	}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	return res
}

// TestDeleteKeepsRowsTheCRMForeignKeysWouldChange: a DELETE never changes a
// held row through the CRM's own ON DELETE SET NULL or CASCADE, nor rows of
// a table the map does not reach: the row those keys point at is kept,
// blocked, with a hold naming the constraint. Rows no such key protects are
// deleted as before; a titular without them is deleted completely.
func TestDeleteKeepsRowsTheCRMForeignKeysWouldChange(t *testing.T) {
	db, m := fkFixture(t)
	before := map[string]map[string][]string{}
	for _, table := range []string{"pagamentos", "contratos", "vistorias"} {
		before[table] = dump(t, db, table)
	}
	res := deleteFK(t, db, m, "52998224725")

	// The held rows and the unmapped one are byte for byte what they were.
	for table, want := range map[string][]string{"pagamentos": {"100"}, "contratos": {"110"}, "vistorias": {"130"}} {
		after := dump(t, db, table)
		for _, id := range want {
			if !reflect.DeepEqual(after[id], before[table][id]) {
				t.Errorf("%s %s changed: %v -> %v", table, id, before[table][id], after[id])
			}
		}
	}
	// Rentals 10, 11 and 13 stay (blocked); 12 (its payment released and
	// deleted) and 14 go.
	left := map[string]bool{}
	for id := range dump(t, db, "locacoes") {
		left[id] = true
	}
	for id, want := range map[string]bool{"10": true, "11": true, "12": false, "13": true, "14": false, "20": true} {
		if left[id] != want {
			t.Errorf("rental %s: present %v, want %v", id, left[id], want)
		}
	}
	if _, ok := dump(t, db, "pagamentos")["101"]; ok {
		t.Error("the released payment 101 was not deleted")
	}
	// Ana's own row stays: kept rentals point at it through a CASCADE.
	if _, ok := dump(t, db, "pessoas")["1"]; !ok {
		t.Error("the titular's row went, and would have taken the kept rentals with it")
	}
	if res.Complete {
		t.Error("a DELETE that kept rows reports itself complete")
	}
	holds := map[string]crm.Hold{}
	for _, h := range res.Holds {
		if h.Code == crm.CodeFKActionOnHeldRows {
			holds[h.Entity+"/"+h.Constraint] = h
			// Dated with the titular's last held row: the sweep's guard
			// looks at them again then.
			if h.Until == nil || !strings.Contains(h.Reference, h.Constraint) || strings.Contains(h.Reference, "Rua") {
				t.Errorf("hold %+v: want a date, the constraint named, no values", h)
			}
		}
	}
	for _, k := range []string{"locacao/fk_pagamentos_locacao", "locacao/fk_contratos_locacao", "locacao/fk_vistorias_locacao", "pessoa/fk_locacoes_pessoa"} {
		if h, ok := holds[k]; !ok || h.Rows != 1 {
			t.Errorf("no hold of one row for %s: %+v", k, res.Holds)
		}
	}
	blocked := map[string]string{}
	for _, b := range res.Blocks {
		blocked[b.Entity+b.RowKey] = b.Reference
	}
	for _, k := range []string{"locacao[10]", "locacao[11]", "locacao[13]", "pessoa[1]", "pagamento[100]", "contrato[110]"} {
		if _, ok := blocked[k]; !ok {
			t.Errorf("%s is not blocked: %v", k, blocked)
		}
	}
	if !strings.Contains(blocked["locacao[10]"], "fk_pagamentos_locacao") || !strings.Contains(blocked["locacao[10]"], "SET NULL") {
		t.Errorf("rental 10's block does not name its constraint: %q", blocked["locacao[10]"])
	}

	// Bia: nothing held points at her rows; all of them go.
	res = deleteFK(t, db, m, "11144477735")
	if !res.Complete || len(res.Holds) != 0 {
		t.Errorf("a titular without held references: complete %v, holds %+v", res.Complete, res.Holds)
	}
	for table, id := range map[string]string{"pessoas": "2", "locacoes": "20", "pagamentos": "200", "contratos": "210"} {
		if _, ok := dump(t, db, table)[id]; ok {
			t.Errorf("%s %s was not deleted", table, id)
		}
	}
}

// TestSweepKeepsRowsTheCRMForeignKeysWouldChange: the sweep's deletion
// of a blocked row follows DELETE's guard. While the 2025 payment is held,
// its rental stays (SET NULL would empty the payment's reference); once the
// payment's hold ends and the sweep erases it, the rental goes. The rental
// an unmapped inspection points at never goes.
func TestSweepKeepsRowsTheCRMForeignKeysWouldChange(t *testing.T) {
	db, m := fkFixture(t)
	res := deleteFK(t, db, m, "52998224725")
	keyOf := map[string][]any{}
	for _, b := range res.Blocks {
		k, err := crm.ParseRowKey(b.RowKey) // as the sweep reads lgpd_blocks
		if err != nil {
			t.Fatal(err)
		}
		keyOf[b.Entity+b.RowKey] = k
	}
	release := func(at time.Time, entity, rowKey string) bool {
		t.Helper()
		k, ok := keyOf[entity+rowKey]
		if !ok {
			t.Fatalf("%s%s was not blocked", entity, rowKey)
		}
		// As the sweep does: ask the guard, then delete.
		var gone bool
		if err := inTx(db, func(tx *sql.Tx) error {
			e := m.Entity(entity)
			kept, err := crm.KeptByFKAction(context.Background(), tx, m, e, k, at)
			if err != nil || kept {
				return err
			}
			n, referenced, err := crm.DeleteRow(context.Background(), tx, e, k)
			gone = n > 0 && !referenced
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return gone
	}
	payment := dump(t, db, "pagamentos")["100"]
	if release(crmtest.Clock, "locacao", "[10]") {
		t.Fatal("the sweep deleted a rental a held payment points at (ON DELETE SET NULL)")
	}
	if after := dump(t, db, "pagamentos")["100"]; !reflect.DeepEqual(after, payment) {
		t.Fatalf("the held payment changed: %v -> %v", payment, after)
	}
	later := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	if !release(later, "pagamento", "[100]") || !release(later, "locacao", "[10]") {
		t.Error("after the payment's hold ended, the sweep could not erase the payment and then its rental")
	}
	// Ana's record: nothing held points at it directly any more, but
	// deleting it would cascade into rentals 11 and 13, and from them into
	// the held contract and the unmapped inspection.
	contract := dump(t, db, "contratos")["110"]
	if release(later, "pessoa", "[1]") {
		t.Error("the sweep deleted a record whose cascade reaches a held contract and an unmapped inspection")
	}
	if after := dump(t, db, "contratos")["110"]; !reflect.DeepEqual(after, contract) {
		t.Errorf("the held contract changed: %v -> %v", contract, after)
	}
	if release(later, "locacao", "[13]") {
		t.Error("the sweep deleted a rental an unmapped inspection points at (ON DELETE CASCADE)")
	}
	if _, ok := dump(t, db, "vistorias")["130"]; !ok {
		t.Error("the unmapped inspection is gone")
	}
}

// TestFKActionWarnings: datamap check lists the SET NULL and CASCADE keys
// from held entities and unmapped tables into the map, not those from
// mapped entities without a hold.
func TestFKActionWarnings(t *testing.T) {
	db, m := fkFixture(t)
	got, err := crm.FKActionWarnings(context.Background(), db, m)
	if err != nil {
		t.Fatal(err)
	}
	want := []crm.FKActionWarning{
		{Constraint: "fk_contratos_locacao", Table: "contratos", RefTable: "locacoes", Rule: "CASCADE", Entity: "contrato", Referenced: "locacao", Refused: true},
		{Constraint: "fk_pagamentos_locacao", Table: "pagamentos", RefTable: "locacoes", Rule: "SET NULL", Entity: "pagamento", Referenced: "locacao", Refused: true},
		{Constraint: "fk_vistorias_locacao", Table: "vistorias", RefTable: "locacoes", Rule: "CASCADE"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n got %+v\nwant %+v", got, want)
	}

	// A rental that states it stays while held rows reference it: the keys
	// from the held payments and contracts are warnings again.
	const rental = "    parent: {entity: pessoa, on: {idpessoa: idpessoa}}\n    fields:\n      endereco:"
	if strings.Count(fkMap, rental) != 1 {
		t.Fatal("fkMap changed; update the test")
	}
	kept := mustParseMap(t, strings.Replace(fkMap, rental, `    parent: {entity: pessoa, on: {idpessoa: idpessoa}}
    retention: {basis: obrigacao_legal, reference: "CTN art. 173 (o pagamento retido referencia a locação)", while: referenced, keep: []}
    fields:
      endereco:`, 1))
	if got, err = crm.FKActionWarnings(context.Background(), db, kept); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		want[i].Referenced, want[i].Refused = "", false
	}
	// Rentals are now held themselves (while referenced), and deleting the
	// person would cascade into them: the person must say it stays too.
	want = append(want[:1], append([]crm.FKActionWarning{{Constraint: "fk_locacoes_pessoa", Table: "locacoes", RefTable: "pessoas",
		Rule: "CASCADE", Entity: "locacao", Referenced: "pessoa", Refused: true}}, want[1:]...)...)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with a hold while referenced:\n got %+v\nwant %+v", got, want)
	}
}

// TestDemoMapFKActionsDeclared: on the seeded demo CRM, every SET NULL key
// from a held entity points into an entity that states it stays while held
// rows reference it, so datamap check passes the demo map.
func TestDemoMapFKActionsDeclared(t *testing.T) {
	_, db, m, _ := seeded(t)
	got, err := crm.FKActionWarnings(context.Background(), db, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range got {
		if w.Refused {
			t.Errorf("refused: %+v", w)
		}
	}
}
