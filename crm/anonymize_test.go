package crm_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/datamap"
)

var testAnonKey = bytes.Repeat([]byte{0x5a}, 32)

// anonymizeSubject runs an ANONYMIZE as the worker does: a snapshot on one
// connection, the writes in one transaction on another.
func anonymizeSubject(t *testing.T, x *crm.Executor, db *sql.DB, m *datamap.Map, ids crm.Identifiers) *crm.AnonymizeResult {
	t.Helper()
	plan, err := crm.PlanAnonymize(m, anonymize.NewRegistry())
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	key, err := anonymize.NewKey(testAnonKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	read, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	defer read.Rollback() //nolint:errcheck // read-only
	var res *crm.AnonymizeResult
	if err := inTx(db, func(tx *sql.Tx) error {
		res, err = x.Anonymize(ctx, read, tx, plan, key, ids)
		return err
	}); err != nil {
		t.Fatalf("anonymize: %v", err)
	}
	return res
}

func TestAnonymizeSameCPFAcrossTables(t *testing.T) {
	s, db, m, sc := seeded(t)
	ids := crmtest.IDs(sc["mesmo_cpf_varias_tabelas"])
	before := crmtest.SubjectRows(t, db, m, ids)
	if len(before["pessoa"]) != 1 || len(before["lead"]) == 0 || len(before["reserva"]) == 0 {
		t.Fatalf("scenario should reach pessoa, lead and reserva: %v", crmtest.Reach(t, db, m, ids))
	}
	if found := crmtest.ScanMapped(t, db, m, crmtest.Needles(ids)); len(found) == 0 {
		t.Fatal("the scan finds nothing before anonymizing: it would prove nothing after")
	}
	res := anonymizeSubject(t, s, db, m, ids)
	if res.TotalRows == 0 {
		t.Fatalf("nothing changed: %+v", res)
	}
	for _, h := range res.Holds {
		if h.Entity != "documento" { // identification documents are kept 5 years from upload
			t.Errorf("unexpected hold %+v", h)
		}
	}
	if left := crmtest.Reach(t, db, m, ids); len(left) != 0 {
		t.Errorf("EXTRACT by the old identifiers still finds %v", left)
	}
	if found := crmtest.ScanMapped(t, db, m, crmtest.Needles(ids)); len(found) != 0 {
		t.Errorf("the titular's identifiers survive in mapped columns: %v", found)
	}
	// Every copy of the CPF became one fake CPF, in its own shape: joins hold.
	cpfs := map[string]bool{}
	for entity, col := range map[string]string{"pessoa": "cpf", "lead": "cpf", "reserva": "cliente_cpf"} {
		e := m.Entity(entity)
		fi := crmtest.FieldIndex(e, col)
		for key, old := range before[entity] {
			now := crmtest.RowByKey(t, db, e, key)[fi]
			if old[fi] == nil {
				continue
			}
			digits, err := brdoc.NormalizeCPF(fmt.Sprint(now))
			if err != nil || digits == ids.CPF {
				t.Fatalf("%s.%s = %v: want a valid fake CPF", entity, col, now)
			}
			if len(fmt.Sprint(now)) != len(fmt.Sprint(old[fi])) {
				t.Errorf("%s.%s changed shape: %v -> %v", entity, col, old[fi], now)
			}
			cpfs[digits] = true
		}
	}
	if len(cpfs) != 1 {
		t.Errorf("the copies of one CPF became %d different fakes: joins broke", len(cpfs))
	}
	// Each changed field of each anonymized row differs from its original.
	for _, e := range m.Entities {
		for key, old := range before[e.Name] {
			if len(e.Holds) > 0 {
				continue // held rows keep what their holds need
			}
			now := crmtest.RowByKey(t, db, e, key)
			for i, f := range e.Fields {
				if f.Anonymizer == nil || !strings.HasPrefix(f.Anonymizer.Name, "fake.") || old[i] == nil {
					continue
				}
				if fmt.Sprint(now[i]) == fmt.Sprint(old[i]) {
					t.Errorf("%s.%s kept its original value", e.Name, f.Column)
				}
			}
		}
	}
	// A second run finds nothing left to change.
	again := anonymizeSubject(t, s, db, m, ids)
	if again.TotalRows != 0 {
		t.Errorf("second run changed %d rows", again.TotalRows)
	}
}

func TestAnonymizeBuyerLeavesHeldRows(t *testing.T) {
	s, db, m, sc := seeded(t)
	ids := crmtest.IDs(sc["comprador_2023"])
	before := crmtest.SubjectRows(t, db, m, ids)
	res := anonymizeSubject(t, s, db, m, ids)
	holds := map[string]crm.Hold{}
	for _, h := range res.Holds {
		if cur, ok := holds[h.Entity]; !ok || h.Until.After(*cur.Until) {
			holds[h.Entity] = h // the latest release wins
		}
	}
	sale, ok := holds["reserva"]
	if !ok || sale.Basis != "exercicio_direitos" || !strings.Contains(sale.Reference, "205") || sale.Until == nil {
		t.Fatalf("the sale's latest hold (civil claims) must be listed with basis, reference and release date: %+v", res.Holds)
	}
	var sold time.Time
	shapes := crm.LookupValues("cpf", ids.CPF)
	if err := db.QueryRow("SELECT MAX(data_venda) FROM reservas WHERE cliente_cpf IN (?, ?, ?)", shapes[0], shapes[1], shapes[2]).Scan(&sold); err != nil {
		t.Fatal(err)
	}
	if want := sold.AddDate(10, 0, 0); !sale.Until.Equal(want) {
		t.Errorf("release %s, want data_venda + 10 years (Código Civil art. 205) = %s", sale.Until, want)
	}
	// Blocked rows (repasse: on_delete: block, no keep) are exactly as they
	// were. The sale is held too, but keeps only what its holds need: the
	// buyer's name and CPF and the amounts; contacts, income, marital status
	// and age go at once.
	e := m.Entity("reserva")
	keep := map[string]bool{"cliente_nome": true, "cliente_cpf": true, "valor_contrato": true, "valor_entrada": true,
		"valor_fgts": true, "valor_financiado": true, "motivo_distrato": true}
	for _, entity := range []string{"reserva", "repasse"} {
		if len(before[entity]) == 0 {
			t.Fatalf("scenario has no %s rows", entity)
		}
		for key, old := range before[entity] {
			now := crmtest.RowByKey(t, db, m.Entity(entity), key)
			if entity == "repasse" {
				if !crmtest.SameRow(old, now) {
					t.Errorf("blocked %s %s changed: %v -> %v", entity, key, old, now)
				}
				continue
			}
			for i, f := range e.Fields {
				same := crmtest.SameRow(old[i:i+1], now[i:i+1])
				switch {
				case f.Category == datamap.CategoryContext || keep[f.Column]:
					if !same {
						t.Errorf("reserva.%s is kept by a hold and must not change", f.Column)
					}
				case old[i] != nil && same:
					t.Errorf("reserva.%s is kept by no hold and must be minimized", f.Column)
				}
			}
		}
		wantChanged := int64(0)
		if entity == "reserva" {
			wantChanged = int64(len(before[entity]))
		}
		if c := countOf(res, entity); c.Held != int64(len(before[entity])) || c.Rows != wantChanged {
			t.Errorf("%s: %+v, want all %d rows held, %d minimized", entity, c, len(before[entity]), wantChanged)
		}
	}
	if c := countOf(res, "pessoa"); c.Rows != 1 || c.Fields == 0 {
		t.Errorf("pessoa: %+v, want the buyer's record anonymized", c)
	}
	for entity, n := range crmtest.Reach(t, db, m, ids) {
		if holds[entity].Rows == 0 {
			t.Errorf("EXTRACT by the old identifiers finds %d %s rows, which no hold kept", n, entity)
		}
	}
	// Running it again is harmless: the held rows are listed again, blocked
	// rows and what the holds keep do not change. (The sale's minimized
	// contacts are fakes drawn from a key that lives one request, so a
	// second request draws other fakes of them: still no one's data.)
	snapshot := crmtest.SubjectRows(t, db, m, ids)
	again := anonymizeSubject(t, s, db, m, ids)
	if len(again.Holds) == 0 {
		t.Errorf("second run: %+v", again)
	}
	for entity, rows := range crmtest.SubjectRows(t, db, m, ids) {
		ent := m.Entity(entity)
		for key, now := range rows {
			for i, f := range ent.Fields {
				minimized := entity == "reserva" && f.Category != datamap.CategoryContext && !keep[f.Column]
				if !minimized && !crmtest.SameRow(snapshot[entity][key][i:i+1], now[i:i+1]) {
					t.Errorf("second run changed %s %s %s", entity, key, f.Column)
				}
			}
		}
	}
}

func countOf(res *crm.AnonymizeResult, entity string) crm.AnonymizeCount {
	for _, c := range res.Entities {
		if c.Entity == entity {
			return c
		}
	}
	return crm.AnonymizeCount{}
}

func TestAnonymizeRedactsFreeText(t *testing.T) {
	s, db, m, sc := seeded(t)
	ids := crmtest.IDs(sc["cpf_em_texto_livre"])
	digits := []string{ids.CPF, brdoc.FormatCPF(ids.CPF)}
	if n := crmtest.ScanMapped(t, db, m, digits)["lead_interacao"]; n != 2 {
		t.Fatalf("scenario should quote the CPF in 2 notes, found %d", n)
	}
	anonymizeSubject(t, s, db, m, ids)
	if found := crmtest.ScanMapped(t, db, m, digits); len(found) != 0 {
		t.Errorf("the CPF survives in %v", found)
	}
}

func TestAnonymizeResolvesUniqueCollisions(t *testing.T) {
	s, db, m, sc := seeded(t)
	ids := crmtest.IDs(sc["mesmo_cpf_varias_tabelas"])
	before := crmtest.SubjectRows(t, db, m, ids)
	pe := m.Entity("pessoa")
	var stored string
	for _, v := range before["pessoa"] {
		stored = v[crmtest.FieldIndex(pe, "cpf")].(string)
	}
	// Another person already holds the fake CPF this titular would get.
	key, _ := anonymize.NewKey(testAnonKey)
	a, _ := anonymize.NewRegistry().New("fake.cpf", nil)
	fake, err := a.Apply(key, anonymize.Column{DataType: "varchar", MaxLength: 14}, stored, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO pessoas (cpf, nome, criado_em, atualizado_em) VALUES (?, 'Pessoa Sintética', NOW(), NOW())`, fake); err != nil {
		t.Fatal(err)
	}
	anonymizeSubject(t, s, db, m, ids)
	var got string
	for k := range before["pessoa"] {
		got = crmtest.RowByKey(t, db, pe, k)[crmtest.FieldIndex(pe, "cpf")].(string)
	}
	if got == fake || got == stored {
		t.Fatalf("pessoas.cpf = %s: the collision was not resolved", got)
	}
	// Later copies follow the redrawn value, so the join still holds.
	le := m.Entity("lead")
	for k, old := range before["lead"] {
		if old[crmtest.FieldIndex(le, "cpf")] == nil {
			continue
		}
		lead, _ := brdoc.NormalizeCPF(crmtest.RowByKey(t, db, le, k)[crmtest.FieldIndex(le, "cpf")].(string))
		if want, _ := brdoc.NormalizeCPF(got); lead != want {
			t.Errorf("leads.cpf = %s, pessoas.cpf = %s: the copies diverged", lead, want)
		}
	}
}
