package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/seed"
)

// seeded returns a migrated store over the seeded demo CRM, its data map
// and the seed scenarios by name; the store's clock is fixed at 2026-06-01.
func seeded(t *testing.T) (*Store, *sql.DB, *datamap.Map, map[string]seed.Scenario) {
	t.Helper()
	s, db := newStore(t)
	sum, err := seed.Seed(context.Background(), db, seed.Options{Subjects: 120, Seed: 9})
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

func idsOf(x seed.Scenario) Identifiers { return Identifiers{CPF: x.CPF, Email: x.Email, Phone: x.Phone} }

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
	r := createRequest(t, s, NewRequest{Kind: KindDelete, Subject: ids})
	var res *DeleteResult
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		var err error
		res, err = s.DeleteSubject(ctx, tx, m, ids, r.ID, r.SubjectRef)
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
