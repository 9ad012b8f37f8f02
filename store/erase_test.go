package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
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
	db, m, sc := crmtest.Seeded(t, opts)
	if _, err := Migrate(context.Background(), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	s := New(db)
	useClock(s).t = crmtest.Clock
	return s, db, m, sc
}

var (
	idsOf = crmtest.IDs
	reach = crmtest.Reach
)

// deleteSubject runs a DELETE's work as the worker does, in one
// transaction: the executor erases the CRM's rows, and the records say what
// it kept (blocks) and forgot.
func deleteSubject(t *testing.T, s *Store, m *datamap.Map, ids Identifiers) (*DeleteOutcome, error) {
	t.Helper()
	return deleteSubjectWith(t, s, crm.New(s.now), m, ids)
}

// deleteSubjectWith is deleteSubject with the executor x.
func deleteSubjectWith(t *testing.T, s *Store, x *crm.Executor, m *datamap.Map, ids Identifiers) (*DeleteOutcome, error) {
	t.Helper()
	plan, err := crm.PlanDelete(m, anonymize.NewRegistry())
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	key, err := anonymize.NewKey(testAnonKey)
	if err != nil {
		t.Fatal(err)
	}
	r := createRequest(t, s, NewRequest{Kind: KindDelete, Subject: ids})
	var res *DeleteOutcome
	err = s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
		done, err := x.Delete(ctx, tx.CRM(), plan, key, ids)
		if err != nil {
			return err
		}
		res, err = tx.RecordErasure(ctx, r.ID, r.SubjectRef, done, m.ConsentEvidence)
		return err
	})
	return res, err
}

var testAnonKey = bytes.Repeat([]byte{0x5a}, 32)

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
	holds := map[string]crm.Hold{}
	for _, h := range res.Holds {
		if h.Until == nil || h.Basis == "" || h.Reference == "" {
			t.Errorf("every hold must name basis, reference and release date: %+v", h)
			continue
		}
		if cur, ok := holds[h.Entity]; !ok || h.Until.After(*cur.Until) {
			holds[h.Entity] = h // the latest release wins
		}
	}
	sale, ok := holds["reserva"]
	if !ok {
		t.Fatalf("the sale's holds must be listed: %+v", res.Holds)
	}
	var sold time.Time
	shapes := crm.LookupValues("cpf", buyer.CPF)
	if err := db.QueryRow("SELECT MAX(data_venda) FROM reservas WHERE cliente_cpf IN (?, ?, ?)", shapes[0], shapes[1], shapes[2]).Scan(&sold); err != nil {
		t.Fatal(err)
	}
	if want := sold.AddDate(10, 0, 0); !sale.Until.Equal(want) {
		t.Errorf("release %s, want data_venda + 10 years (Código Civil art. 205, the latest hold) = %s", sale.Until, want)
	}
	var until time.Time
	if err := db.QueryRow("SELECT MAX(release_at) FROM lgpd_blocks WHERE entity = 'pessoa'").Scan(&until); err != nil || !until.Equal(*sale.Until) {
		t.Errorf("the buyer's record block releases at %s (%v), want with her last held row, %s", until, err, sale.Until)
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
	shapes := crm.LookupValues("cpf", d.CPF)
	if err := db.QueryRow("SELECT data_venda FROM reservas WHERE cliente_cpf IN (?, ?, ?) AND status = 'distratada'", shapes[0], shapes[1], shapes[2]).Scan(&sold); err != nil {
		t.Fatal(err)
	}
	var undone time.Time
	if err := db.QueryRow("SELECT data_distrato FROM reservas WHERE cliente_cpf IN (?, ?, ?) AND status = 'distratada'", shapes[0], shapes[1], shapes[2]).Scan(&undone); err != nil {
		t.Fatal(err)
	}
	// Each hold counts from its own rule: AML from the cancellation, tax
	// from the 1st of January after the sale, civil claims from the later
	// of the two, consumer claims from the sale.
	want := map[string]time.Time{
		"9.613": undone.AddDate(5, 0, 0), "CTN": time.Date(sold.Year()+1+5, time.January, 1, 0, 0, 0, 0, time.UTC),
		"Código Civil": undone.AddDate(10, 0, 0), "CDC": sold.AddDate(5, 0, 0),
	}
	n := 0
	for _, h := range res.Holds {
		if h.Entity != "reserva" {
			continue
		}
		n++
		for ref, until := range want {
			if strings.Contains(h.Reference, ref) && (h.Until == nil || !h.Until.Equal(until)) {
				t.Errorf("distrato hold %q until %v, want %s", h.Reference, h.Until, until)
			}
		}
	}
	if n != len(want) {
		t.Errorf("%d holds on the distrato, want %d: %+v", n, len(want), res.Holds)
	}
}

func TestDeleteCrashLeavesNothingHalfDone(t *testing.T) {
	s, db, m, sc := seeded(t)
	lead := idsOf(sc["lead_com_pessoa_sem_venda"])
	before := reach(t, db, m, lead)
	boom := errors.New("injected crash")
	steps := 0
	x := crm.New(s.now).WithFailpoint(func(step string) error {
		if strings.HasPrefix(step, "delete:") {
			steps++
			if steps == 3 {
				return boom
			}
		}
		return nil
	})
	if _, err := deleteSubjectWith(t, s, x, m, lead); !errors.Is(err, boom) {
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
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
		var err error
		counts, err = crm.Correct(ctx, tx.CRM(), m, buyer, map[string]string{"email": newEmail})
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
	before := countRows(t, db, "SELECT COUNT(*) FROM leads WHERE cpf IN (?, ?, ?)", crm.LookupValues("cpf", a.CPF)[0], crm.LookupValues("cpf", a.CPF)[1], crm.LookupValues("cpf", a.CPF)[2])
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
		_, err := crm.Correct(ctx, tx.CRM(), m, a, map[string]string{"cpf": b.CPF})
		return err
	})
	if !errors.Is(err, crm.ErrDuplicate) {
		t.Fatalf("a CPF another person holds must be refused with crm.ErrDuplicate, got %v", err)
	}
	after := countRows(t, db, "SELECT COUNT(*) FROM leads WHERE cpf IN (?, ?, ?)", crm.LookupValues("cpf", a.CPF)[0], crm.LookupValues("cpf", a.CPF)[1], crm.LookupValues("cpf", a.CPF)[2])
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
		errs <- s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
			_, err := crm.Correct(ctx, tx.CRM(), m, lead, map[string]string{"nome": "Nome Corrigido"})
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
	return ids, crmtest.RowByKey(t, db, m.Entity("gerente_imobiliaria"), "[1]")
}

func deleteCountOf(res *DeleteOutcome, entity string) crm.DeleteCount {
	for _, c := range res.Entities {
		if c.Entity == entity {
			return c
		}
	}
	return crm.DeleteCount{Entity: entity}
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
	if c := deleteCountOf(res, "gerente_imobiliaria"); c != (crm.DeleteCount{Entity: "gerente_imobiliaria", Blocked: 1, Anonymized: 1}) || res.Complete {
		t.Errorf("the held agency row must be kept, blocked and anonymized: %+v complete=%v", c, res.Complete)
	}
	// The row stays for the contract; the person in it does not.
	e := m.Entity("gerente_imobiliaria")
	after := crmtest.RowByKey(t, db, e, "[1]")
	for i, f := range e.Fields {
		same := crmtest.SameRow(before[i:i+1], after[i:i+1])
		if f.Category == datamap.CategoryContext && !same {
			t.Errorf("%s is not personal and must stay", f.Column)
		} else if f.Category != datamap.CategoryContext && (same || after[i] == nil) {
			t.Errorf("%s still holds the manager's value (or lost the column's fake)", f.Column)
		}
	}
	if found := crmtest.ScanMapped(t, db, m, crmtest.Needles(ids)); len(found) != 0 {
		t.Errorf("the manager's identifiers are still stored: %v", found)
	}
	if left := reach(t, db, m, ids); len(left) != 0 {
		t.Errorf("the old identifiers still reach rows: %v", left)
	}
	var hold *crm.Hold
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
	if !crmtest.SameRow(after, crmtest.RowByKey(t, db, e, "[1]")) || countRows(t, db, blocked, "gerente_imobiliaria") != 1 {
		t.Error("second DELETE changed the anonymized row or its block")
	}

	// A broker's notes on other titulares' leads: those under the 5-year
	// hold stay, unlinked from the broker, and the broker's record goes.
	broker := idsOf(sc["corretor_pesado"])
	shapes := crm.LookupValues("cpf", broker.CPF)
	var id int64
	if err := db.QueryRow("SELECT idcorretor FROM corretores WHERE cpf IN (?, ?, ?)", shapes[0], shapes[1], shapes[2]).Scan(&id); err != nil {
		t.Fatal(err)
	}
	cutoff := time.Date(2021, 6, 1, 12, 0, 0, 0, time.UTC) // the clock minus keep_years
	total := countRows(t, db, "SELECT COUNT(*) FROM lead_interacoes WHERE idcorretor = ?", id)
	var held []any
	for _, k := range crmtest.Column[int64](t, db, "SELECT idlead_interacao FROM lead_interacoes WHERE idcorretor = ? AND data_interacao > ?", id, cutoff) {
		held = append(held, k)
	}
	if len(held) == 0 {
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
	if got := countRows(t, db, "SELECT COUNT(*) FROM lead_interacoes WHERE idcorretor IS NULL AND idlead_interacao IN ("+sqlq.Placeholders(len(held))+")", held...); got != len(held) {
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
	cpf := crmtest.FieldIndex(m.Entity("gerente_imobiliaria"), "gerente_cpf")
	boom := errors.New("injected crash")
	var dirty string
	x := crm.New(s.now).WithFailpoint(func(step string) error {
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
	})
	if _, err := deleteSubjectWith(t, s, x, m, ids); !errors.Is(err, boom) {
		t.Fatalf("want the injected failure, got %v", err)
	}
	if dirty == "" || dirty == before[cpf] {
		t.Fatal("the crash must come after the held row was anonymized")
	}
	if after := crmtest.RowByKey(t, db, m.Entity("gerente_imobiliaria"), "[1]"); !crmtest.SameRow(before, after) {
		t.Errorf("a failed DELETE left the row anonymized: %v", after)
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_blocks"); n != 0 {
		t.Errorf("a failed DELETE left %d blocks", n)
	}
}

// TestDeleteKeepsRowsACascadeWouldTake: a CRM schema whose foreign keys
// cascade from the buyer's record into the held sale would let the database
// erase what the law keeps; DELETE keeps the buyer's record instead, blocked
// with a hold naming the constraint, and every held row stays.
func TestDeleteKeepsRowsACascadeWouldTake(t *testing.T) {
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
	res, err := deleteSubject(t, s, m, buyer)
	if err != nil {
		t.Fatal(err)
	}
	after := reach(t, db, m, buyer)
	var fkHold bool
	for _, h := range res.Holds {
		// Retention holds: their rows are still reached by the titular's
		// identifiers. Rows kept for a foreign key are anchors whose
		// personal fields went; that they are present is checked below.
		if h.Until != nil && h.Code == "" && after[h.Entity] != before[h.Entity] {
			t.Errorf("held %s: %d rows before, %d after", h.Entity, before[h.Entity], after[h.Entity])
		}
		// Either cascade from a held row into the buyer's record names it.
		fkHold = fkHold || (h.Entity == "pessoa" && h.Code == crm.CodeFKActionOnHeldRows &&
			(h.Constraint == "fk_reservas_pessoa" || h.Constraint == "fk_documentos_pessoa"))
	}
	if !fkHold || after["pessoa"] != before["pessoa"] || res.Complete {
		t.Errorf("the buyer's record must stay, blocked by a cascading key: %d -> %d rows, holds %+v", before["pessoa"], after["pessoa"], res.Holds)
	}
}
