package crm_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/datamap"
)

// deleteSubject runs the executor's DELETE in one committed transaction.
func deleteSubject(t *testing.T, x *crm.Executor, db *sql.DB, m *datamap.Map, ids crm.Identifiers) *crm.DeleteResult {
	t.Helper()
	plan, err := crm.PlanDelete(m, anonymize.NewRegistry())
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	key, err := anonymize.NewKey(testAnonKey)
	if err != nil {
		t.Fatal(err)
	}
	var res *crm.DeleteResult
	if err := inTx(db, func(tx *sql.Tx) error {
		res, err = x.Delete(context.Background(), tx, plan, key, ids)
		return err
	}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	return res
}

// holdsOf returns an entity's holds in the result, in map order.
func holdsOf(res *crm.DeleteResult, entity string) []crm.Hold {
	var out []crm.Hold
	for _, h := range res.Holds {
		if h.Entity == entity {
			out = append(out, h)
		}
	}
	return out
}

// blockOf returns the single block recorded for an entity's row.
func blockOf(t *testing.T, res *crm.DeleteResult, entity string) crm.Block {
	t.Helper()
	var out []crm.Block
	for _, b := range res.Blocks {
		if b.Entity == entity {
			out = append(out, b)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%d %s blocks, want 1: %+v", len(out), entity, res.Blocks)
	}
	return out[0]
}

// assertReleases checks an entity's holds, by reference fragment, and their
// release dates.
func assertReleases(t *testing.T, holds []crm.Hold, want map[string]time.Time) {
	t.Helper()
	if len(holds) != len(want) {
		t.Errorf("%d holds, want %d: %+v", len(holds), len(want), holds)
	}
	for ref, until := range want {
		found := false
		for _, h := range holds {
			if strings.Contains(h.Reference, ref) {
				found = true
				if h.Until == nil || !h.Until.Equal(until) || h.Basis == "" || h.Rows != 1 {
					t.Errorf("hold %q: %+v, want until %s", ref, h, until.Format(time.DateOnly))
				}
			}
		}
		if !found {
			t.Errorf("no hold citing %q in %+v", ref, holds)
		}
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// A 2023 buyer's sale is under four holds; it goes when the last ends (10
// years, Código Civil art. 205), the tax hold counts from the 1st of
// January after the sale, and the buyer's own record, kept because the sale
// references it, is released with it.
func TestDeleteSeveralHoldsLatestReleaseWins(t *testing.T) {
	x, db, m, sc := seeded(t)
	ids := crmtest.IDs(sc["comprador_2023"])
	sold := day(2023, time.May, 3) // seed/scenarios.go
	res := deleteSubject(t, x, db, m, ids)
	assertReleases(t, holdsOf(res, "reserva"), map[string]time.Time{
		"9.613":                 sold.AddDate(5, 0, 0),
		"CTN art. 173":          day(2029, time.January, 1), // 2024-01-01 + 5 years
		"Código Civil art. 205": sold.AddDate(10, 0, 0),
		"CDC art. 27":           sold.AddDate(5, 0, 0),
	})
	b := blockOf(t, res, "reserva")
	if b.Until == nil || !b.Until.Equal(sold.AddDate(10, 0, 0)) || b.Basis != "exercicio_direitos" || !strings.Contains(b.Reference, "205") {
		t.Errorf("the sale's block must carry the latest release and its basis: %+v", b)
	}
	// The buyer's record has a release date too: the last of her holds,
	// under the map's hold while referenced (identification, AML).
	p := blockOf(t, res, "pessoa")
	if p.Until == nil || !p.Until.Equal(sold.AddDate(10, 0, 0)) {
		t.Errorf("the buyer's record block: %+v, want released %s", p, sold.AddDate(10, 0, 0))
	}
	ph := holdsOf(res, "pessoa")
	if len(ph) != 1 || ph[0].Until == nil || !ph[0].Until.Equal(*p.Until) || ph[0].Basis != "obrigacao_legal" || !strings.Contains(ph[0].Reference, "art. 10, I") {
		t.Errorf("the buyer's record hold in the result: %+v", ph)
	}
	// Financing: AML from the signature, tax from the next 1st of January.
	var signed time.Time
	if err := db.QueryRow("SELECT data_assinatura FROM repasses WHERE idreserva = ?", mustKey(t, b.RowKey)).Scan(&signed); err != nil {
		t.Fatal(err)
	}
	assertReleases(t, holdsOf(res, "repasse"), map[string]time.Time{
		"9.613":        signed.AddDate(5, 0, 0),
		"CTN art. 173": day(signed.Year()+1+5, time.January, 1),
	})
}

// A cancelled sale (distrato) counts its AML hold from the cancellation,
// its civil hold from the later of sale and cancellation, its tax hold from
// the year after the sale.
func TestDeleteDistratoCountsFromCancellation(t *testing.T) {
	x, db, m, sc := seeded(t)
	sold, undone := day(2022, time.August, 10), day(2023, time.March, 20) // seed/scenarios.go
	var gotSold, gotUndone time.Time
	shapes := crm.LookupValues("cpf", sc["distrato"].CPF)
	if err := db.QueryRow("SELECT data_venda, data_distrato FROM reservas WHERE cliente_cpf IN (?, ?, ?) AND status = 'distratada'",
		shapes[0], shapes[1], shapes[2]).Scan(&gotSold, &gotUndone); err != nil {
		t.Fatal(err)
	}
	if !gotSold.Equal(sold) || !gotUndone.Equal(undone) {
		t.Fatalf("scenario dates changed: %s %s", gotSold, gotUndone)
	}
	res := deleteSubject(t, x, db, m, crmtest.IDs(sc["distrato"]))
	assertReleases(t, holdsOf(res, "reserva"), map[string]time.Time{
		"9.613":                 undone.AddDate(5, 0, 0),    // when_set: data_distrato
		"CTN art. 173":          day(2028, time.January, 1), // 2023-01-01 + 5 years
		"Código Civil art. 205": undone.AddDate(10, 0, 0),   // latest_of: [data_venda, data_distrato]
		"CDC art. 27":           sold.AddDate(5, 0, 0),
	})
	if b := blockOf(t, res, "reserva"); b.Until == nil || !b.Until.Equal(undone.AddDate(10, 0, 0)) {
		t.Errorf("distrato block until %v, want %s", b.Until, undone.AddDate(10, 0, 0))
	}
}

// A held sale keeps only what its holds need: the buyer's name and CPF and
// the amounts. Her contacts, income, marital status and age go at once,
// with their irreversible anonymizers; the row stays, blocked.
func TestDeleteMinimizesHeldRows(t *testing.T) {
	x, db, m, sc := seeded(t)
	ids := crmtest.IDs(sc["comprador_2023"])
	e := m.Entity("reserva")
	before := crmtest.SubjectRows(t, db, m, ids)["reserva"]
	if len(before) != 1 {
		t.Fatalf("scenario has %d sales, want 1", len(before))
	}
	buyerBefore := map[string]any{}
	for _, row := range crmtest.SubjectRows(t, db, m, ids)["pessoa"] {
		for i, f := range m.Entity("pessoa").Fields {
			buyerBefore[f.Column] = row[i]
		}
	}
	if buyerBefore["nome_mae"] == nil || buyerBefore["email"] == nil || buyerBefore["renda_mensal"] == nil {
		t.Fatalf("scenario's buyer lacks the fields this test needs: %v", buyerBefore)
	}
	res := deleteSubject(t, x, db, m, ids)
	c := deleteCountOf(res, "reserva")
	if c.Blocked != 1 || c.Anonymized != 1 || c.Deleted != 0 {
		t.Errorf("reserva: %+v, want the sale blocked and minimized", c)
	}
	kept := map[string]bool{"cliente_nome": true, "cliente_cpf": true, "valor_contrato": true, "valor_entrada": true,
		"valor_fgts": true, "valor_financiado": true, "motivo_distrato": true}
	for key, old := range before {
		now := crmtest.RowByKey(t, db, e, key)
		for i, f := range e.Fields {
			same := crmtest.SameRow(old[i:i+1], now[i:i+1])
			switch {
			case f.Category == datamap.CategoryContext || kept[f.Column]:
				if !same {
					t.Errorf("%s is kept by a hold and changed", f.Column)
				}
			case old[i] == nil:
			case f.Anonymizer.Name == "nullify":
				if now[i] != nil {
					t.Errorf("%s must be nullified, is %v", f.Column, now[i])
				}
			case same || now[i] == nil:
				t.Errorf("%s must be replaced by its anonymizer (%s)", f.Column, f.Anonymizer.Name)
			}
		}
		for _, c := range []string{"cliente_email", "cliente_telefone", "cliente_renda", "cliente_estado_civil", "cliente_idade"} {
			if i := fieldIndex(e, c); crmtest.SameRow(old[i:i+1], now[i:i+1]) && old[i] != nil {
				t.Errorf("%s survived in the held sale", c)
			}
		}
	}
	// Her own record stays (the sale references it) with what identifies
	// the client; her mother's name, contacts and income go.
	pe := m.Entity("pessoa")
	var pKey string
	for _, b := range res.Blocks {
		if b.Entity == "pessoa" {
			pKey = b.RowKey
		}
	}
	if pKey == "" {
		t.Fatal("the buyer's record is not blocked")
	}
	now := crmtest.RowByKey(t, db, pe, pKey)
	for _, c := range []string{"nome_mae", "email", "celular", "renda_mensal"} {
		if v := now[fieldIndex(pe, c)]; v != nil && crmtest.SameRow([]any{v}, []any{buyerBefore[c]}) {
			t.Errorf("pessoa.%s survived in the kept buyer record", c)
		}
	}
	for _, c := range []string{"nome", "cpf", "data_nascimento", "logradouro"} {
		if v := now[fieldIndex(pe, c)]; !crmtest.SameRow([]any{v}, []any{buyerBefore[c]}) {
			t.Errorf("pessoa.%s is kept for identification and changed", c)
		}
	}
	if c := deleteCountOf(res, "pessoa"); c.Blocked != 1 || c.Anonymized != 1 || c.Deleted != 0 {
		t.Errorf("pessoa: %+v, want the record kept and minimized", c)
	}
	// Neither the held sale nor her record leads to her e-mail any more.
	if found := crmtest.ScanMapped(t, db, m, []string{ids.Email}); len(found) != 0 {
		t.Errorf("the buyer's e-mail is still in the held sale: %v", found)
	}
}

func deleteCountOf(res *crm.DeleteResult, entity string) crm.DeleteCount {
	for _, c := range res.Entities {
		if c.Entity == entity {
			return c
		}
	}
	return crm.DeleteCount{Entity: entity}
}

func fieldIndex(e *datamap.Entity, column string) int {
	for i, f := range e.Fields {
		if f.Column == column {
			return i
		}
	}
	return -1
}

// mustKey reads a single-column row key.
func mustKey(t *testing.T, rowKey string) any {
	t.Helper()
	k, err := crm.ParseRowKey(rowKey)
	if err != nil || len(k) != 1 {
		t.Fatalf("row key %q: %v", rowKey, err)
	}
	return k[0]
}

// The demo map's holds fit the seeded schema as `titular datamap check`
// sees it; a keep that leaves out a NOT NULL field with no irreversible
// anonymizer (reserva_associados.tipo, anonymizer keep) is refused with a fix.
func TestDemoMapHoldsFitTheSchema(t *testing.T) {
	_, db, _, _ := seeded(t)
	schema, err := crm.LoadSchema(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(crmtest.Root(), "examples", "realestate", "datamap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := mustParseMap(t, string(src)).CheckSchema(schema); err != nil {
		t.Fatalf("the demo map does not fit the seeded schema: %v", err)
	}
	const from = "keep: [tipo, compoe_renda, percentual_participacao]}"
	if strings.Count(string(src), from) != 2 {
		t.Fatalf("example map changed; update the test: %q", from)
	}
	bad := strings.Replace(string(src), from, "keep: [compoe_renda, percentual_participacao]}", 1)
	err = mustParseMap(t, bad).CheckSchema(schema)
	var probs datamap.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("CheckSchema = %v, want Problems", err)
	}
	found := false
	for _, p := range probs {
		found = found || (p.Path == "entities.associacao_reserva.retention[0].keep" && strings.Contains(p.Message, "field tipo") &&
			strings.Contains(p.Message, "NOT NULL") && strings.Contains(p.Fix, "add tipo to keep"))
	}
	if !found {
		t.Errorf("no problem naming tipo's keep: %v", probs)
	}
}
