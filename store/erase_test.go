package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/seed"
)

// seeded returns a migrated store over the seeded demo CRM, its data map
// and the seed scenarios by name; the store's clock is fixed at 2026-06-01.
func seeded(t *testing.T) (*Store, *sql.DB, *datamap.Map, map[string]seed.Scenario) {
	t.Helper()
	return seededWith(t, seed.Options{Subjects: 120, Seed: 9})
}

// seededWith is seeded with other seed options.
func seededWith(t *testing.T, opts seed.Options) (*Store, *sql.DB, *datamap.Map, map[string]seed.Scenario) {
	t.Helper()
	s, db := newStore(t)
	sum, err := seed.Seed(context.Background(), db, opts)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	m, err := datamap.Load("../examples/realestate/datamap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc := map[string]seed.Scenario{}
	for _, x := range sum.Scenarios {
		sc[x.Name] = x
	}
	clock := useClock(s)
	clock.t = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	return s, db, m, sc
}

func idsOf(x seed.Scenario) Identifiers {
	return Identifiers{CPF: x.CPF, Email: x.Email, Phone: x.Phone}
}

// countingSink counts rows per entity.
type countingSink struct{ n map[string]int64 }

func (c *countingSink) BeginEntity(*datamap.Entity) error { return nil }
func (c *countingSink) Row([]any) error                   { return nil }
func (c *countingSink) EndEntity(e *datamap.Entity, n int64) error {
	if c.n == nil {
		c.n = map[string]int64{}
	}
	c.n[e.Name] = n
	return nil
}

func reach(t *testing.T, db *sql.DB, m *datamap.Map, ids Identifiers) map[string]int64 {
	t.Helper()
	c := &countingSink{}
	if _, err := Walk(context.Background(), db, m, ids, c); err != nil {
		t.Fatal(err)
	}
	for k, v := range c.n {
		if v == 0 {
			delete(c.n, k)
		}
	}
	return c.n
}

func deleteSubject(t *testing.T, s *Store, m *datamap.Map, ids Identifiers) (*DeleteResult, error) {
	t.Helper()
	plan, err := PlanDelete(m, anonymize.NewRegistry())
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	key, err := anonymize.NewKey(testAnonKey)
	if err != nil {
		t.Fatal(err)
	}
	r := createRequest(t, s, NewRequest{Kind: KindDelete, Subject: ids})
	var res *DeleteResult
	err = s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		var err error
		res, err = s.DeleteSubject(ctx, tx, plan, key, ids, r.ID, r.SubjectRef)
		return err
	})
	return res, err
}

func TestDeleteConsentOnlyLeadDisappears(t *testing.T) {
	s, db, m, sc := seeded(t)
	lead := idsOf(sc["lead_somente_consentimento"])
	if len(reach(t, db, m, lead)) == 0 {
		t.Fatal("scenario has no rows to delete")
	}
	res, err := deleteSubject(t, s, m, lead)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || len(res.Holds) != 0 {
		t.Errorf("a consent-only lead has no hold: %+v", res)
	}
	if left := reach(t, db, m, lead); len(left) != 0 {
		t.Errorf("rows left after a complete DELETE: %v", left)
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_requests WHERE subject_json IS NOT NULL AND subject_json LIKE ?", "%"+lead.CPF+"%"); n != 0 {
		t.Errorf("%d request records still hold the titular's identifiers", n)
	}
}

func TestDeleteBuyerIsPartialWithHolds(t *testing.T) {
	s, db, m, sc := seeded(t)
	buyer := idsOf(sc["comprador_2023"])
	before := reach(t, db, m, buyer)
	res, err := deleteSubject(t, s, m, buyer)
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete {
		t.Fatal("a 2023 buyer's DELETE must be partial (sale under a 5-year hold)")
	}
	holds := map[string]Hold{}
	for _, h := range res.Holds {
		holds[h.Entity] = h
	}
	sale, ok := holds["reserva"]
	if !ok || sale.Until == nil || sale.Basis == "" || sale.Reference == "" {
		t.Fatalf("the sale's hold must name basis, reference and release date: %+v", res.Holds)
	}
	var sold time.Time
	shapes := LookupValues("cpf", buyer.CPF)
	if err := db.QueryRow("SELECT MAX(data_venda) FROM reservas WHERE cliente_cpf IN (?, ?, ?)", shapes[0], shapes[1], shapes[2]).Scan(&sold); err != nil {
		t.Fatal(err)
	}
	if want := sold.AddDate(5, 0, 0); !sale.Until.Equal(want) {
		t.Errorf("release %s, want data_venda + 5 years = %s", sale.Until, want)
	}
	after := reach(t, db, m, buyer)
	if after["reserva"] != before["reserva"] || after["pessoa"] != 1 {
		t.Errorf("held sale and the buyer record it references must stay: before %v after %v", before, after)
	}
	if after["lead_interacao"] != 0 || after["consentimento"] != 0 {
		t.Errorf("unheld rows must go: %v", after)
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_blocks WHERE entity = 'reserva' AND release_at IS NOT NULL"); n != int(before["reserva"]) {
		t.Errorf("%d reserva blocks, want %d", n, before["reserva"])
	}
	var attached bool
	for _, a := range res.Attachments {
		attached = attached || (a.Entity == "documento" && a.Key != "")
	}
	if !attached {
		t.Errorf("the buyer's documents must be listed by key for the CRM: %+v", res.Attachments)
	}
	// Running it again is harmless and keeps the same blocks.
	if _, err := deleteSubject(t, s, m, buyer); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_blocks WHERE entity = 'reserva'"); n != int(before["reserva"]) {
		t.Errorf("second DELETE duplicated blocks: %d", n)
	}
}

func TestDeleteDistratoFollowsItsOwnDates(t *testing.T) {
	s, db, m, sc := seeded(t)
	d := idsOf(sc["distrato"])
	res, err := deleteSubject(t, s, m, d)
	if err != nil {
		t.Fatal(err)
	}
	var sold time.Time
	shapes := LookupValues("cpf", d.CPF)
	if err := db.QueryRow("SELECT data_venda FROM reservas WHERE cliente_cpf IN (?, ?, ?) AND status = 'distratada'", shapes[0], shapes[1], shapes[2]).Scan(&sold); err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Holds {
		if h.Entity == "reserva" && (h.Until == nil || !h.Until.Equal(sold.AddDate(5, 0, 0))) {
			t.Errorf("distrato hold until %v, want its own sale date %s + 5y", h.Until, sold)
		}
	}
}

func TestDeleteCrashLeavesNothingHalfDone(t *testing.T) {
	s, db, m, sc := seeded(t)
	lead := idsOf(sc["lead_com_pessoa_sem_venda"])
	before := reach(t, db, m, lead)
	boom := errors.New("injected crash")
	steps := 0
	s.failpoint = func(step string) error {
		if strings.HasPrefix(step, "delete:") {
			steps++
			if steps == 3 {
				return boom
			}
		}
		return nil
	}
	if _, err := deleteSubject(t, s, m, lead); !errors.Is(err, boom) {
		t.Fatalf("want the injected failure, got %v", err)
	}
	after := reach(t, db, m, lead)
	for e, n := range before {
		if after[e] != n {
			t.Errorf("%s: %d rows before, %d after a failed DELETE", e, n, after[e])
		}
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_blocks"); n != 0 {
		t.Errorf("a failed DELETE left %d blocks", n)
	}
}

func TestCorrectReachesEveryCopy(t *testing.T) {
	s, db, m, sc := seeded(t)
	buyer := idsOf(sc["comprador_2023"])
	newEmail := "novo.endereco@example.org"
	var counts []EntityCount
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		var err error
		counts, err = s.CorrectSubject(ctx, tx, m, buyer, map[string]string{"email": newEmail})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	changed := map[string]int64{}
	for _, c := range counts {
		changed[c.Entity] = c.Rows
	}
	for _, e := range []string{"pessoa", "lead", "reserva"} {
		if changed[e] == 0 {
			t.Errorf("CORRECT of the e-mail did not reach %s: %v", e, changed)
		}
	}
	found := reach(t, db, m, Identifiers{Email: newEmail})
	for _, e := range []string{"pessoa", "lead", "reserva"} {
		if found[e] == 0 {
			t.Errorf("the new e-mail is not in %s: %v", e, found)
		}
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM reservas WHERE cliente_email = ?", buyer.Email); n != 0 {
		t.Errorf("the sale snapshot still holds the old e-mail")
	}
}

func TestCorrectUniqueConflictChangesNothing(t *testing.T) {
	s, db, m, sc := seeded(t)
	a, b := idsOf(sc["pep"]), idsOf(sc["distrato"])
	before := countRows(t, db, "SELECT COUNT(*) FROM leads WHERE cpf IN (?, ?, ?)", LookupValues("cpf", a.CPF)[0], LookupValues("cpf", a.CPF)[1], LookupValues("cpf", a.CPF)[2])
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.CorrectSubject(ctx, tx, m, a, map[string]string{"cpf": b.CPF})
		return err
	})
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("a CPF another person holds must be refused with ErrDuplicate, got %v", err)
	}
	after := countRows(t, db, "SELECT COUNT(*) FROM leads WHERE cpf IN (?, ?, ?)", LookupValues("cpf", a.CPF)[0], LookupValues("cpf", a.CPF)[1], LookupValues("cpf", a.CPF)[2])
	if before != after {
		t.Errorf("refused correction changed leads: %d -> %d", before, after)
	}
}

func TestConcurrentCorrectAndDeleteSerialize(t *testing.T) {
	s, db, m, sc := seeded(t)
	lead := idsOf(sc["lead_com_pessoa_sem_venda"])
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() {
		_, err := deleteSubject(t, s, m, lead)
		errs <- err
	})
	wg.Go(func() {
		errs <- s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			_, err := s.CorrectSubject(ctx, tx, m, lead, map[string]string{"nome": "Nome Corrigido"})
			return err
		})
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent CORRECT/DELETE: %v", err)
		}
	}
	if left := reach(t, db, m, lead); len(left) != 0 {
		t.Errorf("whatever the order, the DELETE must win in the end: %v", left)
	}
}

func TestSweepErasesWhenHoldsEnd(t *testing.T) {
	s, db, m, sc := seeded(t)
	pep, buyer := idsOf(sc["pep"]), idsOf(sc["comprador_2023"])
	for _, ids := range []Identifiers{pep, buyer} {
		if _, err := deleteSubject(t, s, m, ids); err != nil {
			t.Fatal(err)
		}
	}
	dry, err := s.Sweep(context.Background(), m, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range dry {
		if c.Entity == "reserva" && c.Due != 0 {
			t.Errorf("in 2026 the 2023-2024 sales are not due: %+v", dry)
		}
	}
	useClock(s).t = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	dry, err = s.Sweep(context.Background(), m, true)
	if err != nil {
		t.Fatal(err)
	}
	due := int64(0)
	for _, c := range dry {
		due += c.Due
	}
	if due == 0 || len(reach(t, db, m, pep)) == 0 {
		t.Fatalf("a dry run in 2040 must find due rows and change nothing: %+v", dry)
	}
	got, err := s.Sweep(context.Background(), m, false)
	if err != nil {
		t.Fatal(err)
	}
	var erased, kept int64
	for _, c := range got {
		erased, kept = erased+c.Erased, kept+c.Kept
	}
	if erased == 0 {
		t.Fatalf("sweep erased nothing: %+v", got)
	}
	if left := reach(t, db, m, pep); len(left) != 0 {
		t.Errorf("after every hold ended the PEP buyer must be gone: %v", left)
	}
	// The 2023 buyer's sale is still referenced by the spouse's own
	// association row (another titular's data): it stays blocked, kept.
	if kept == 0 || reach(t, db, m, buyer)["reserva"] == 0 {
		t.Errorf("a sale another titular's rows reference must be kept: %+v", got)
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_blocks WHERE released_at IS NULL"); n != int(kept) {
		t.Errorf("%d blocks open, want the %d kept ones", n, kept)
	}
}

// agencyManager returns the identifiers of the first partner agency's
// manager (gerente_imobiliaria: a 10-year hold with on_delete: anonymize)
// and that row's mapped values as stored.
func agencyManager(t *testing.T, db *sql.DB, m *datamap.Map) (Identifiers, []any) {
	t.Helper()
	var cpf, email, phone string
	if err := db.QueryRow("SELECT gerente_cpf, gerente_email, gerente_telefone FROM imobiliarias WHERE idimobiliaria = 1").Scan(&cpf, &email, &phone); err != nil {
		t.Fatal(err)
	}
	var ids Identifiers
	var err1, err2, err3 error
	ids.CPF, err1 = brdoc.NormalizeCPF(cpf)
	ids.Email, err2 = brdoc.NormalizeEmail(email)
	ids.Phone, err3 = brdoc.NormalizePhone(phone)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	return ids, rowByKey(t, db, m.Entity("gerente_imobiliaria"), "[1]")
}

func deleteCountOf(res *DeleteResult, entity string) DeleteCount {
	for _, c := range res.Entities {
		if c.Entity == entity {
			return c
		}
	}
	return DeleteCount{Entity: entity}
}

func TestDeleteAnonymizesHeldRows(t *testing.T) {
	s, db, m, sc := seededWith(t, seed.Options{Subjects: 120, Seed: 9, HeavyInteractions: 40})
	ids, before := agencyManager(t, db, m)
	if got := reach(t, db, m, ids); got["gerente_imobiliaria"] != 1 {
		t.Fatalf("the manager must reach their agency row: %v", got)
	}
	res, err := deleteSubject(t, s, m, ids)
	if err != nil {
		t.Fatal(err)
	}
	if c := deleteCountOf(res, "gerente_imobiliaria"); c != (DeleteCount{Entity: "gerente_imobiliaria", Blocked: 1, Anonymized: 1}) || res.Complete {
		t.Errorf("the held agency row must be kept, blocked and anonymized: %+v complete=%v", c, res.Complete)
	}
	// The row stays for the contract; the person in it does not.
	e := m.Entity("gerente_imobiliaria")
	after := rowByKey(t, db, e, "[1]")
	for i, f := range e.Fields {
		same := sameRow(before[i:i+1], after[i:i+1])
		if f.Category == datamap.CategoryContext && !same {
			t.Errorf("%s is not personal and must stay", f.Column)
		} else if f.Category != datamap.CategoryContext && (same || after[i] == nil) {
			t.Errorf("%s still holds the manager's value (or lost the column's fake)", f.Column)
		}
	}
	if found := scanMapped(t, db, m, needles(ids)); len(found) != 0 {
		t.Errorf("the manager's identifiers are still stored: %v", found)
	}
	if left := reach(t, db, m, ids); len(left) != 0 {
		t.Errorf("the old identifiers still reach rows: %v", left)
	}
	var hold *Hold
	for i := range res.Holds {
		if res.Holds[i].Entity == "gerente_imobiliaria" {
			hold = &res.Holds[i]
		}
	}
	if hold == nil || hold.Until == nil || hold.Basis != "execucao_contrato" {
		t.Errorf("the hold must be named with basis and release date: %+v", res.Holds)
	}
	blocked := "SELECT COUNT(*) FROM lgpd_blocks WHERE entity = ? AND on_delete = 'anonymize' AND release_at IS NOT NULL AND released_at IS NULL"
	if n := countRows(t, db, blocked, "gerente_imobiliaria"); n != 1 {
		t.Errorf("%d blocks for the anonymized row, want 1 for the sweep", n)
	}
	// A second DELETE is harmless: nothing is found, nothing changes.
	again, err := deleteSubject(t, s, m, ids)
	if err != nil {
		t.Fatal(err)
	}
	if c := deleteCountOf(again, "gerente_imobiliaria"); c.Blocked+c.Deleted+c.Anonymized != 0 {
		t.Errorf("second DELETE touched the agency: %+v", c)
	}
	if !sameRow(after, rowByKey(t, db, e, "[1]")) || countRows(t, db, blocked, "gerente_imobiliaria") != 1 {
		t.Error("second DELETE changed the anonymized row or its block")
	}

	// A broker's notes on other titulares' leads: those under the 5-year
	// hold stay, unlinked from the broker, and the broker's record goes.
	broker := idsOf(sc["corretor_pesado"])
	shapes := LookupValues("cpf", broker.CPF)
	var id int64
	if err := db.QueryRow("SELECT idcorretor FROM corretores WHERE cpf IN (?, ?, ?)", shapes[0], shapes[1], shapes[2]).Scan(&id); err != nil {
		t.Fatal(err)
	}
	cutoff := time.Date(2021, 6, 1, 12, 0, 0, 0, time.UTC) // the clock minus keep_years
	total := countRows(t, db, "SELECT COUNT(*) FROM lead_interacoes WHERE idcorretor = ?", id)
	var held []any
	rows, err := db.Query("SELECT idlead_interacao FROM lead_interacoes WHERE idcorretor = ? AND data_interacao > ?", id, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		held = append(held, k)
	}
	if rows.Close(); len(held) == 0 {
		t.Fatal("the heavy broker has no notes under the hold")
	}
	res, err = deleteSubject(t, s, m, broker)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(held))
	if c := deleteCountOf(res, "atendimento_corretor"); c.Blocked != n || c.Anonymized != n || c.Deleted != int64(total)-n {
		t.Errorf("atendimento_corretor: %+v, want %d held and anonymized of %d", c, n, total)
	}
	if got := countRows(t, db, "SELECT COUNT(*) FROM lead_interacoes WHERE idcorretor IS NULL AND idlead_interacao IN ("+placeholders(len(held))+")", held...); got != len(held) {
		t.Errorf("%d of %d held notes kept and unlinked from the broker", got, len(held))
	}
	if countRows(t, db, "SELECT COUNT(*) FROM corretores WHERE idcorretor = ?", id) != 0 {
		t.Error("the broker's record must go once no held row names them")
	}
	if got := countRows(t, db, blocked, "atendimento_corretor"); got != len(held) {
		t.Errorf("%d blocks for the held notes, want %d", got, len(held))
	}
}

func TestDeleteCrashAfterAnonymizingRollsBack(t *testing.T) {
	s, db, m, _ := seeded(t)
	ids, before := agencyManager(t, db, m)
	cpf := fieldIndex(m.Entity("gerente_imobiliaria"), "gerente_cpf")
	boom := errors.New("injected crash")
	var dirty string
	s.failpoint = func(step string) error {
		if step != "anonymized:gerente_imobiliaria" {
			return nil
		}
		// Read the uncommitted row to prove the crash follows the anonymization.
		ctx := context.Background()
		tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadUncommitted, ReadOnly: true})
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // read-only
		if err := tx.QueryRowContext(ctx, "SELECT gerente_cpf FROM imobiliarias WHERE idimobiliaria = 1").Scan(&dirty); err != nil {
			return err
		}
		return boom
	}
	if _, err := deleteSubject(t, s, m, ids); !errors.Is(err, boom) {
		t.Fatalf("want the injected failure, got %v", err)
	}
	if dirty == "" || dirty == before[cpf] {
		t.Fatal("the crash must come after the held row was anonymized")
	}
	if after := rowByKey(t, db, m.Entity("gerente_imobiliaria"), "[1]"); !sameRow(before, after) {
		t.Errorf("a failed DELETE left the row anonymized: %v", after)
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_blocks"); n != 0 {
		t.Errorf("a failed DELETE left %d blocks", n)
	}
}

// TestDeleteRefusesCascadeIntoHeldRows: a CRM schema whose foreign keys
// cascade from the buyer's record into the held sale would let the database
// erase what the law keeps; DELETE notices and rolls everything back.
func TestDeleteRefusesCascadeIntoHeldRows(t *testing.T) {
	s, db, m, sc := seeded(t)
	for _, fk := range []struct{ table, name, col, ref string }{
		{"reservas", "fk_reservas_pessoa", "idpessoa", "pessoas (idpessoa)"},
		{"reserva_associados", "fk_reserva_associados_reserva", "idreserva", "reservas (idreserva)"},
		{"repasses", "fk_repasses_reserva", "idreserva", "reservas (idreserva)"},
		{"documentos", "fk_documentos_reserva", "idreserva", "reservas (idreserva)"},
		{"documentos", "fk_documentos_pessoa", "idpessoa", "pessoas (idpessoa)"},
	} {
		if _, err := db.Exec("ALTER TABLE " + fk.table + " DROP FOREIGN KEY " + fk.name); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("ALTER TABLE " + fk.table + " ADD CONSTRAINT " + fk.name + " FOREIGN KEY (" + fk.col + ") REFERENCES " + fk.ref + " ON DELETE CASCADE"); err != nil {
			t.Fatal(err)
		}
	}
	buyer := idsOf(sc["comprador_2023"])
	before := reach(t, db, m, buyer)
	if _, err := deleteSubject(t, s, m, buyer); !errors.Is(err, ErrCascadedHold) {
		t.Fatalf("want ErrCascadedHold, got %v", err)
	}
	after := reach(t, db, m, buyer)
	for e, n := range before {
		if after[e] != n {
			t.Errorf("%s: %d rows before, %d after the refused DELETE", e, n, after[e])
		}
	}
}

// TestCompleteErasuresAfterHoldsEnd: once the sweep has released the last
// held row of a partly erased titular, their identifiers, subject index
// entries and consent evidence go too, with a ledger leaf; a titular whose
// held rows remain, or who came back (a CONSENT after the DELETE, or new
// rows in the CRM), is left alone.
func TestCompleteErasuresAfterHoldsEnd(t *testing.T) {
	comeBacks := map[string]func(t *testing.T, s *Store, db *sql.DB, ids Identifiers){
		"newer consent": func(t *testing.T, s *Store, db *sql.DB, ids Identifiers) {
			r := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: ids})
			if _, err := db.Exec("UPDATE lgpd_requests SET status = ? WHERE id = ?", StatusCompleted, r.ID); err != nil {
				t.Fatal(err)
			}
		},
		"new CRM row": func(t *testing.T, _ *Store, db *sql.DB, ids Identifiers) {
			if _, err := db.Exec(`INSERT INTO leads (nome, email, origem, status, criado_em, atualizado_em)
 VALUES ('Lead Novo', ?, 'site', 'novo', NOW(), NOW())`, ids.Email); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, comeBack := range comeBacks {
		t.Run(name, func(t *testing.T) { testCompleteErasures(t, comeBack) })
	}
}

func testCompleteErasures(t *testing.T, comeBack func(t *testing.T, s *Store, db *sql.DB, ids Identifiers)) {
	s, db, m, sc := seeded(t)
	clock := useClock(s)
	start := clock.Now()
	pep, buyer, returning := idsOf(sc["pep"]), idsOf(sc["comprador_2023"]), idsOf(sc["distrato"])
	consent := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: pep})
	consentIn(t, s, ConsentRecord{SubjectRef: consent.SubjectRef, PurposeID: "marketing_email", Action: ConsentGrant,
		Channel: "portal", RequestID: consent.ID, Evidence: ConsentEvidence{IP: "198.51.100.7"}})
	for _, ids := range []Identifiers{pep, buyer, returning} {
		res, err := deleteSubject(t, s, m, ids)
		if err != nil || res.Complete {
			t.Fatalf("DELETE: %+v %v; the scenario needs a partial erasure", res, err)
		}
	}
	// The helpers record requests and run their work only; the worker (or
	// the inline path, for the CONSENT) would complete them.
	if _, err := db.Exec("UPDATE lgpd_requests SET status = ?", StatusCompleted); err != nil {
		t.Fatal(err)
	}
	returningRef := subjectRefOf(t, db, returning)
	clock.t = start.Add(time.Hour)
	comeBack(t, s, db, returning)

	if n, err := s.CompleteErasures(context.Background(), m, false); err != nil || n != 0 {
		t.Fatalf("before any hold ends: %d %v, want nothing completed", n, err)
	}
	clock.t = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.Sweep(context.Background(), m, false); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CompleteErasures(context.Background(), m, true); err != nil || n != 1 {
		t.Fatalf("dry run: %d %v, want the PEP buyer only", n, err)
	}
	if c := countRows(t, db, "SELECT COUNT(*) FROM lgpd_subject_index WHERE subject_ref = ?", consent.SubjectRef); c == 0 {
		t.Fatal("a dry run forgot the subject")
	}
	if n, err := s.CompleteErasures(context.Background(), m, false); err != nil || n != 1 {
		t.Fatalf("complete: %d %v, want the PEP buyer only", n, err)
	}
	if c := countRows(t, db, "SELECT COUNT(*) FROM lgpd_subject_index WHERE subject_ref = ?", consent.SubjectRef); c != 0 {
		t.Errorf("%d subject index entries left for the completed titular", c)
	}
	if c := countRows(t, db, "SELECT COUNT(*) FROM lgpd_requests WHERE subject_ref = ? AND subject_json IS NOT NULL", consent.SubjectRef); c != 0 {
		t.Errorf("%d requests still name the completed titular's identifiers", c)
	}
	if c := countRows(t, db, "SELECT COUNT(*) FROM lgpd_consents WHERE subject_ref = ? AND evidence_ip IS NOT NULL", consent.SubjectRef); c != 0 {
		t.Error("consent evidence past its retention outlived the completed erasure")
	}
	if c := countRows(t, db, "SELECT COUNT(*) FROM lgpd_ledger_pending WHERE leaf LIKE ?", "%"+EventErasureCompleted+"%"); c != 1 {
		t.Errorf("%d erasure.completed leaves, want 1", c)
	}
	for name, ref := range map[string]string{"buyer with a kept sale": subjectRefOf(t, db, buyer), "returning titular": returningRef} {
		if c := countRows(t, db, "SELECT COUNT(*) FROM lgpd_subject_index WHERE subject_ref = ?", ref); c == 0 {
			t.Errorf("%s: forgotten, but must be left alone", name)
		}
	}
	if n, err := s.CompleteErasures(context.Background(), m, false); err != nil || n != 0 {
		t.Errorf("a second run: %d %v, want nothing left", n, err)
	}
	verifyLedger(t, s, ledger.Checks{})
}

func subjectRefOf(t *testing.T, db *sql.DB, ids Identifiers) string {
	t.Helper()
	var ref string
	b, _ := json.Marshal(ids)
	if err := db.QueryRow("SELECT subject_ref FROM lgpd_requests WHERE subject_json = ? LIMIT 1", string(b)).Scan(&ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestCompleteErasuresWindow: completion is checked for completionWindow
// after the last release, so a titular who came back is not re-walked on
// every sweep forever; a CONFIRM after the DELETE does not stop it.
func TestCompleteErasuresWindow(t *testing.T) {
	s, db, m, sc := seeded(t)
	clock := useClock(s)
	pep := idsOf(sc["pep"])
	if _, err := deleteSubject(t, s, m, pep); err != nil {
		t.Fatal(err)
	}
	// Asking afterwards what is held finds nothing to keep: it does not stop
	// the completion.
	clock.t = clock.t.Add(time.Hour)
	createRequest(t, s, NewRequest{Kind: KindConfirm, Subject: pep})
	if _, err := db.Exec("UPDATE lgpd_requests SET status = ?", StatusCompleted); err != nil {
		t.Fatal(err)
	}
	released := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	clock.t = released
	if _, err := s.Sweep(context.Background(), m, false); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		want int
	}{{released.Add(completionWindow + time.Hour), 0}, {released.Add(completionWindow - time.Hour), 1}} {
		clock.t = c.at
		if n, err := s.CompleteErasures(context.Background(), m, true); err != nil || n != c.want {
			t.Errorf("%s after the release: %d %v, want %d", c.at.Sub(released), n, err, c.want)
		}
	}
}
