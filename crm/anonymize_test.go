package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/datamap"
)

var testAnonKey = bytes.Repeat([]byte{0x5a}, 32)

// anonymizeSubject runs an ANONYMIZE as the worker does: a snapshot on one
// connection, the writes in one transaction on another.
func anonymizeSubject(t *testing.T, s *Store, db *sql.DB, m *datamap.Map, ids Identifiers) *AnonymizeResult {
	t.Helper()
	plan, err := PlanAnonymize(m, anonymize.NewRegistry())
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
	var res *AnonymizeResult
	if err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err = s.AnonymizeSubject(ctx, read, tx, plan, key, ids, "")
		return err
	}); err != nil {
		t.Fatalf("anonymize: %v", err)
	}
	return res
}

// rowsSink records every row a walk delivers: entity -> key -> values.
type rowsSink struct {
	cur  string
	rows map[string]map[string][]any
}

func (r *rowsSink) BeginEntity(e *datamap.Entity) error {
	r.cur = e.Name
	if r.rows == nil {
		r.rows = map[string]map[string][]any{}
	}
	r.rows[e.Name] = map[string][]any{}
	return nil
}
func (r *rowsSink) Row([]any) error                        { return errors.New("keyed rows expected") }
func (r *rowsSink) EndEntity(*datamap.Entity, int64) error { return nil }
func (r *rowsSink) KeyedRow(key, values, _ []any) error {
	r.rows[r.cur][keyJSON(key)] = values
	return nil
}

func subjectRows(t *testing.T, q Querier, m *datamap.Map, ids Identifiers) map[string]map[string][]any {
	t.Helper()
	r := &rowsSink{}
	if _, err := WalkWith(context.Background(), q, m, ids, r, WalkOptions{}); err != nil {
		t.Fatal(err)
	}
	return r.rows
}

// rowByKey reads the mapped fields of one row of an entity.
func rowByKey(t *testing.T, db *sql.DB, e *datamap.Entity, keyJSONValue string) []any {
	t.Helper()
	cols := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		cols[i] = f.Column
	}
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	var key []any
	for _, p := range strings.Split(strings.Trim(keyJSONValue, "[]"), ",") {
		key = append(key, p)
	}
	if err := db.QueryRow("SELECT "+joinQuoted(cols)+" FROM "+quoteIdent(e.Table)+" WHERE "+keyWhere(e), key...).Scan(ptrs...); err != nil {
		t.Fatalf("read %s %s: %v", e.Name, keyJSONValue, err)
	}
	for i, v := range raw {
		if b, ok := v.([]byte); ok {
			raw[i] = string(b)
		}
	}
	return raw
}

// needles are the titular's identifiers in every shape a CRM stores.
func needles(ids Identifiers) []string {
	out := append([]string{}, LookupValues("cpf", ids.CPF)...)
	if ids.Email != "" {
		out = append(out, ids.Email)
	}
	if ids.Phone != "" {
		out = append(out, brdoc.PhoneShapes(ids.Phone)...)
	}
	return out
}

// scanMapped counts, table by table, the rows whose mapped columns hold or
// contain any needle. Free text is searched too (LIKE), so a CPF quoted
// in a note counts.
func scanMapped(t *testing.T, db *sql.DB, m *datamap.Map, needles []string) map[string]int {
	t.Helper()
	found := map[string]int{}
	for _, e := range m.Entities {
		var conds []string
		var args []any
		for _, f := range e.Fields {
			for _, n := range needles {
				conds = append(conds, "CAST("+quoteIdent(f.Column)+" AS CHAR) LIKE ?")
				args = append(args, "%"+n+"%")
			}
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM "+quoteIdent(e.Table)+" WHERE "+strings.Join(conds, " OR "), args...); n > 0 {
			found[e.Name] = n
		}
	}
	return found
}

func TestAnonymizeSameCPFAcrossTables(t *testing.T) {
	s, db, m, sc := seeded(t)
	ids := idsOf(sc["mesmo_cpf_varias_tabelas"])
	before := subjectRows(t, db, m, ids)
	if len(before["pessoa"]) != 1 || len(before["lead"]) == 0 || len(before["reserva"]) == 0 {
		t.Fatalf("scenario should reach pessoa, lead and reserva: %v", reach(t, db, m, ids))
	}
	if found := scanMapped(t, db, m, needles(ids)); len(found) == 0 {
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
	if left := reach(t, db, m, ids); len(left) != 0 {
		t.Errorf("EXTRACT by the old identifiers still finds %v", left)
	}
	if found := scanMapped(t, db, m, needles(ids)); len(found) != 0 {
		t.Errorf("the titular's identifiers survive in mapped columns: %v", found)
	}
	// Every copy of the CPF became one fake CPF, in its own shape: joins hold.
	cpfs := map[string]bool{}
	for entity, col := range map[string]string{"pessoa": "cpf", "lead": "cpf", "reserva": "cliente_cpf"} {
		e := m.Entity(entity)
		fi := fieldIndex(e, col)
		for key, old := range before[entity] {
			now := rowByKey(t, db, e, key)[fi]
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
			if e.Retention != nil && e.Retention.OnDelete == "block" {
				continue
			}
			now := rowByKey(t, db, e, key)
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

func fieldIndex(e *datamap.Entity, column string) int {
	for i, f := range e.Fields {
		if f.Column == column {
			return i
		}
	}
	panic("no field " + column)
}

func TestAnonymizeBuyerLeavesHeldRows(t *testing.T) {
	s, db, m, sc := seeded(t)
	ids := idsOf(sc["comprador_2023"])
	before := subjectRows(t, db, m, ids)
	res := anonymizeSubject(t, s, db, m, ids)
	holds := map[string]Hold{}
	for _, h := range res.Holds {
		holds[h.Entity] = h
	}
	sale, ok := holds["reserva"]
	if !ok || sale.Basis != "obrigacao_legal" || !strings.Contains(sale.Reference, "9.613") || sale.Until == nil {
		t.Fatalf("the sale's hold must be listed with basis, reference and release date: %+v", res.Holds)
	}
	var sold time.Time
	shapes := LookupValues("cpf", ids.CPF)
	if err := db.QueryRow("SELECT MAX(data_venda) FROM reservas WHERE cliente_cpf IN (?, ?, ?)", shapes[0], shapes[1], shapes[2]).Scan(&sold); err != nil {
		t.Fatal(err)
	}
	if want := sold.AddDate(5, 0, 0); !sale.Until.Equal(want) {
		t.Errorf("release %s, want data_venda + 5 years = %s", sale.Until, want)
	}
	// Held rows are exactly as they were; the buyer's record is not.
	for _, entity := range []string{"reserva", "repasse"} {
		if len(before[entity]) == 0 {
			t.Fatalf("scenario has no %s rows", entity)
		}
		for key, old := range before[entity] {
			if now := rowByKey(t, db, m.Entity(entity), key); !sameRow(old, now) {
				t.Errorf("held %s %s changed: %v -> %v", entity, key, old, now)
			}
		}
		if c := countOf(res, entity); c.Held != int64(len(before[entity])) || c.Rows != 0 {
			t.Errorf("%s: %+v, want all %d rows held", entity, c, len(before[entity]))
		}
	}
	if c := countOf(res, "pessoa"); c.Rows != 1 || c.Fields == 0 {
		t.Errorf("pessoa: %+v, want the buyer's record anonymized", c)
	}
	for entity, n := range reach(t, db, m, ids) {
		if holds[entity].Rows == 0 {
			t.Errorf("EXTRACT by the old identifiers finds %d %s rows, which no hold kept", n, entity)
		}
	}
	// Running it again is harmless: the held rows are listed again, nothing changes.
	snapshot := subjectRows(t, db, m, ids)
	again := anonymizeSubject(t, s, db, m, ids)
	if again.TotalRows != 0 || len(again.Holds) == 0 {
		t.Errorf("second run: %+v", again)
	}
	for entity, rows := range subjectRows(t, db, m, ids) {
		for key, now := range rows {
			if !sameRow(snapshot[entity][key], now) {
				t.Errorf("second run changed %s %s", entity, key)
			}
		}
	}
}

func countOf(res *AnonymizeResult, entity string) AnonymizeCount {
	for _, c := range res.Entities {
		if c.Entity == entity {
			return c
		}
	}
	return AnonymizeCount{}
}

func sameRow(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if valueText(normalizeScanned(a[i])) != valueText(normalizeScanned(b[i])) {
			return false
		}
	}
	return true
}

// normalizeScanned makes walked and raw-scanned values comparable.
func normalizeScanned(v any) any {
	switch x := v.(type) {
	case Date:
		return x.String()
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 {
			return x.Format("2006-01-02")
		}
		return x.UTC().Format("2006-01-02 15:04:05")
	case int64:
		return fmt.Sprint(x)
	}
	return v
}

func TestAnonymizeRedactsFreeText(t *testing.T) {
	s, db, m, sc := seeded(t)
	ids := idsOf(sc["cpf_em_texto_livre"])
	digits := []string{ids.CPF, brdoc.FormatCPF(ids.CPF)}
	if n := scanMapped(t, db, m, digits)["lead_interacao"]; n != 2 {
		t.Fatalf("scenario should quote the CPF in 2 notes, found %d", n)
	}
	anonymizeSubject(t, s, db, m, ids)
	if found := scanMapped(t, db, m, digits); len(found) != 0 {
		t.Errorf("the CPF survives in %v", found)
	}
}

func TestAnonymizeResolvesUniqueCollisions(t *testing.T) {
	s, db, m, sc := seeded(t)
	ids := idsOf(sc["mesmo_cpf_varias_tabelas"])
	before := subjectRows(t, db, m, ids)
	pe := m.Entity("pessoa")
	var stored string
	for _, v := range before["pessoa"] {
		stored = v[fieldIndex(pe, "cpf")].(string)
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
		got = rowByKey(t, db, pe, k)[fieldIndex(pe, "cpf")].(string)
	}
	if got == fake || got == stored {
		t.Fatalf("pessoas.cpf = %s: the collision was not resolved", got)
	}
	// Later copies follow the redrawn value, so the join still holds.
	le := m.Entity("lead")
	for k, old := range before["lead"] {
		if old[fieldIndex(le, "cpf")] == nil {
			continue
		}
		lead, _ := brdoc.NormalizeCPF(rowByKey(t, db, le, k)[fieldIndex(le, "cpf")].(string))
		if want, _ := brdoc.NormalizeCPF(got); lead != want {
			t.Errorf("leads.cpf = %s, pessoas.cpf = %s: the copies diverged", lead, want)
		}
	}
}
