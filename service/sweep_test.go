package service

// The sweep's tests: blocked rows released when their holds end, partial
// erasures completed, each release in the ledger. They compose the CRM
// executor and titular's records as the worker and the sweep job do, on
// the seeded demo CRM in a fresh database with a clock the test moves.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
)

// sweepTestClock is a clock the test moves.
type sweepTestClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *sweepTestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

var sweepClocks sync.Map // *store.Store -> *sweepTestClock

// sweepClock is the clock of a store from sweepSeeded.
func sweepClock(s *store.Store) *sweepTestClock {
	c, _ := sweepClocks.Load(s)
	return c.(*sweepTestClock)
}

// sweepSeeded returns a migrated store over the seeded demo CRM, with its
// clock at crmtest.Clock, the demo map and the seed's scenarios.
func sweepSeeded(t *testing.T) (*store.Store, *sql.DB, *datamap.Map, map[string]seed.Scenario) {
	t.Helper()
	db, m, sc := crmtest.Seeded(t, seed.Options{Subjects: 120, Seed: 9})
	if _, err := store.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	c := &sweepTestClock{t: crmtest.Clock}
	s := store.New(db, store.WithClock(c.Now))
	sweepClocks.Store(s, c)
	t.Cleanup(func() { sweepClocks.Delete(s) })
	return s, db, m, sc
}

// sweepRequest records a request in its own transaction.
func sweepRequest(t *testing.T, s *store.Store, n store.NewRequest) *store.Request {
	t.Helper()
	n.CreatedBy, n.Deadline = "backend", 15*24*time.Hour
	var r *store.Request
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		r, _, err = tx.InsertRequest(ctx, n)
		return err
	})
	if err != nil {
		t.Fatalf("insert request: %v", err)
	}
	return r
}

// sweepDelete runs a DELETE's work as the worker does.
func sweepDelete(t *testing.T, s *store.Store, m *datamap.Map, ids crm.Identifiers) (*store.DeleteOutcome, error) {
	t.Helper()
	plan, err := crm.PlanDelete(m, anonymize.NewRegistry())
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	key, err := anonymize.NewKey(bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		t.Fatal(err)
	}
	r := sweepRequest(t, s, store.NewRequest{Kind: store.KindDelete, Subject: ids})
	var res *store.DeleteOutcome
	err = s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		res, err = eraseSubject(ctx, crm.New(s.Now), tx, plan, key, m, r)
		return err
	})
	return res, err
}

// sweepRun runs a sweep with the demo map's registry.
func sweepRun(t *testing.T, s *store.Store, m *datamap.Map, opts SweepOptions) *SweepReport {
	t.Helper()
	rep, err := Sweep(context.Background(), s, m, anonymize.NewRegistry(), opts)
	if err != nil {
		t.Fatalf("sweep %+v: %v", opts, err)
	}
	return rep
}

// sweepTotal sums a report's entities.
func sweepTotal(rep *SweepReport) SweepCount {
	var t SweepCount
	for _, c := range rep.Entities {
		t.Due, t.Erased, t.Anonymized, t.Gone, t.Held = t.Due+c.Due, t.Erased+c.Erased, t.Anonymized+c.Anonymized, t.Gone+c.Gone, t.Held+c.Held
	}
	return t
}

// sweepConsent records a consent in its own transaction.
func sweepConsent(t *testing.T, s *store.Store, rec store.ConsentRecord) {
	t.Helper()
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		return tx.RecordConsent(ctx, &rec)
	})
	if err != nil {
		t.Fatalf("record consent: %v", err)
	}
}

// sweepVerify integrates what is pending and verifies the whole ledger.
func sweepVerify(t *testing.T, s *store.Store) ledger.Report {
	t.Helper()
	if _, err := s.Integrate(context.Background()); err != nil {
		t.Fatalf("integrate: %v", err)
	}
	rep, err := s.VerifyLedger(context.Background(), ledger.Checks{})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func TestSweepErasesWhenHoldsEnd(t *testing.T) {
	s, db, m, sc := sweepSeeded(t)
	pep, buyer := crmtest.IDs(sc["pep"]), crmtest.IDs(sc["comprador_2023"])
	for _, ids := range []crm.Identifiers{pep, buyer} {
		if _, err := sweepDelete(t, s, m, ids); err != nil {
			t.Fatal(err)
		}
	}
	dry := sweepRun(t, s, m, SweepOptions{DryRun: true})
	for _, c := range dry.Entities {
		if c.Entity == "reserva" && (c.Due != 0 || c.Erased != 0 || c.Anonymized != 0 || c.Held == 0 || c.NextRelease == nil) {
			t.Errorf("in 2026 the 2023-2024 sales are held, with a release date: %+v", c)
		}
	}
	sales := crmtest.Column[string](t, db, "SELECT row_key FROM lgpd_blocks WHERE entity = 'reserva' AND subject_ref = ?", subjectRefOf(t, db, buyer))
	if len(sales) == 0 {
		t.Fatal("the 2023 buyer's DELETE blocked no sale")
	}
	sweepClock(s).t = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	dry = sweepRun(t, s, m, SweepOptions{DryRun: true})
	if tot := sweepTotal(dry); tot.Due == 0 || tot.Erased == 0 || len(crmtest.Reach(t, db, m, pep)) == 0 {
		t.Fatalf("a dry run in 2040 must find due rows and change nothing: %+v", dry)
	}
	got := sweepRun(t, s, m, SweepOptions{})
	tot := sweepTotal(got)
	if tot.Erased == 0 {
		t.Fatalf("sweep erased nothing: %+v", got)
	}
	if left := crmtest.Reach(t, db, m, pep); len(left) != 0 {
		t.Errorf("after every hold ended the PEP buyer must be gone: %v", left)
	}
	// The 2023 buyer's sale is still referenced by the spouse's own
	// association row (another titular's data): it cannot be deleted, so
	// it is anonymized in place, and the buyer's record it points at too.
	if tot.Anonymized == 0 || len(crmtest.Reach(t, db, m, buyer)) != 0 {
		t.Errorf("a sale another titular's rows reference must be anonymized: %+v, reach %v", got, crmtest.Reach(t, db, m, buyer))
	}
	for _, k := range sales {
		crmtest.RowByKey(t, db, m.Entity("reserva"), k) // still there
	}
	if found := crmtest.ScanMapped(t, db, m, crmtest.Needles(buyer)); len(found) != 0 {
		t.Errorf("the buyer's identifiers remain in %v", found)
	}
	if n := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_blocks WHERE released_at IS NULL"); n != int(tot.Held) {
		t.Errorf("%d blocks open, want the %d held ones", n, tot.Held)
	}
	sweepVerify(t, s)
}

// TestCompleteErasuresAfterHoldsEnd: once the sweep has released the last
// held row of a partly erased titular, their identifiers, subject index
// entries and consent evidence go too, with a ledger leaf (for the 2023
// buyer too, whose still-referenced sale the sweep anonymized); a titular
// who came back (a CONSENT after the DELETE, or new rows in the CRM) is
// left alone. The dry run reports the same completions as the run.
func TestCompleteErasuresAfterHoldsEnd(t *testing.T) {
	comeBacks := map[string]func(t *testing.T, s *store.Store, db *sql.DB, ids crm.Identifiers){
		"newer consent": func(t *testing.T, s *store.Store, db *sql.DB, ids crm.Identifiers) {
			r := sweepRequest(t, s, store.NewRequest{Kind: store.KindConsent, Subject: ids})
			if _, err := db.Exec("UPDATE lgpd_requests SET status = ? WHERE id = ?", store.StatusCompleted, r.ID); err != nil {
				t.Fatal(err)
			}
		},
		"new CRM row": func(t *testing.T, _ *store.Store, db *sql.DB, ids crm.Identifiers) {
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

func testCompleteErasures(t *testing.T, comeBack func(t *testing.T, s *store.Store, db *sql.DB, ids crm.Identifiers)) {
	s, db, m, sc := sweepSeeded(t)
	clock := sweepClock(s)
	start := clock.Now()
	pep, buyer, returning := crmtest.IDs(sc["pep"]), crmtest.IDs(sc["comprador_2023"]), crmtest.IDs(sc["distrato"])
	consent := sweepRequest(t, s, store.NewRequest{Kind: store.KindConsent, Subject: pep})
	sweepConsent(t, s, store.ConsentRecord{SubjectRef: consent.SubjectRef, PurposeID: "marketing_email", Action: store.ConsentGrant,
		Channel: "portal", RequestID: consent.ID, Evidence: store.ConsentEvidence{IP: "198.51.100.7"}})
	for _, ids := range []crm.Identifiers{pep, buyer, returning} {
		res, err := sweepDelete(t, s, m, ids)
		if err != nil || res.Complete {
			t.Fatalf("DELETE: %+v %v; the scenario needs a partial erasure", res, err)
		}
	}
	// The helpers record requests and run their work only; the worker (or
	// the inline path, for the CONSENT) would complete them.
	if _, err := db.Exec("UPDATE lgpd_requests SET status = ?", store.StatusCompleted); err != nil {
		t.Fatal(err)
	}
	returningRef := subjectRefOf(t, db, returning)
	clock.t = start.Add(time.Hour)
	comeBack(t, s, db, returning)

	if n, err := CompleteErasures(context.Background(), s, m, false); err != nil || n != 0 {
		t.Fatalf("before any hold ends: %d %v, want nothing completed", n, err)
	}
	clock.t = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	// The dry run releases the holds and completes in one transaction it
	// rolls back: it sees the completion the run will make.
	// Both buyers are completed: the PEP's rows are erased, the 2023
	// buyer's sale (referenced by the spouse's part in it) anonymized.
	buyerRef := subjectRefOf(t, db, buyer)
	if rep := sweepRun(t, s, m, SweepOptions{DryRun: true}); rep.Completed != 2 {
		t.Fatalf("dry run: %d completed, want both buyers", rep.Completed)
	}
	if c := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_subject_index WHERE subject_ref = ?", consent.SubjectRef); c == 0 {
		t.Fatal("a dry run forgot the subject")
	}
	if rep := sweepRun(t, s, m, SweepOptions{}); rep.Completed != 2 {
		t.Fatalf("complete: %d, want both buyers", rep.Completed)
	}
	if c := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_subject_index WHERE subject_ref = ?", consent.SubjectRef); c != 0 {
		t.Errorf("%d subject index entries left for the completed titular", c)
	}
	if c := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_requests WHERE subject_ref = ? AND subject_json IS NOT NULL", consent.SubjectRef); c != 0 {
		t.Errorf("%d requests still name the completed titular's identifiers", c)
	}
	if c := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_consents WHERE subject_ref = ? AND evidence_ip IS NOT NULL", consent.SubjectRef); c != 0 {
		t.Error("consent evidence past its retention outlived the completed erasure")
	}
	if c := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_subject_index WHERE subject_ref = ?", buyerRef); c != 0 {
		t.Errorf("%d subject index entries left for the 2023 buyer, whose kept sale was anonymized", c)
	}
	if c := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_ledger_pending WHERE leaf LIKE ?", "%"+store.EventErasureCompleted+"%"); c != 2 {
		t.Errorf("%d erasure.completed leaves, want 2", c)
	}
	for name, ref := range map[string]string{"returning titular": returningRef} {
		if c := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_subject_index WHERE subject_ref = ?", ref); c == 0 {
			t.Errorf("%s: forgotten, but must be left alone", name)
		}
	}
	if n, err := CompleteErasures(context.Background(), s, m, false); err != nil || n != 0 {
		t.Errorf("a second run: %d %v, want nothing left", n, err)
	}
	sweepVerify(t, s)
}

func subjectRefOf(t *testing.T, db *sql.DB, ids crm.Identifiers) string {
	t.Helper()
	var ref string
	b, _ := json.Marshal(ids)
	if err := db.QueryRow("SELECT subject_ref FROM lgpd_requests WHERE subject_json = ? LIMIT 1", string(b)).Scan(&ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestCompleteErasuresWindow: completion is checked for store.CompletionWindow
// after the last release, so a titular who came back is not re-walked on
// every sweep forever; a CONFIRM after the DELETE does not stop it.
func TestCompleteErasuresWindow(t *testing.T) {
	s, db, m, sc := sweepSeeded(t)
	clock := sweepClock(s)
	pep := crmtest.IDs(sc["pep"])
	if _, err := sweepDelete(t, s, m, pep); err != nil {
		t.Fatal(err)
	}
	// Asking afterwards what is held finds nothing to keep: it does not stop
	// the completion.
	clock.t = clock.t.Add(time.Hour)
	sweepRequest(t, s, store.NewRequest{Kind: store.KindConfirm, Subject: pep})
	if _, err := db.Exec("UPDATE lgpd_requests SET status = ?", store.StatusCompleted); err != nil {
		t.Fatal(err)
	}
	released := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	clock.t = released
	// A request still to run keeps the sweep from completing the erasure
	// at once, so the window can be looked at.
	if _, err := db.Exec("UPDATE lgpd_requests SET status = ? WHERE kind = ?", store.StatusReceived, store.KindConfirm); err != nil {
		t.Fatal(err)
	}
	if rep := sweepRun(t, s, m, SweepOptions{}); rep.Completed != 0 || sweepTotal(rep).Erased == 0 {
		t.Fatalf("the sweep must erase the held rows and complete nothing yet: %+v", rep)
	}
	if _, err := db.Exec("UPDATE lgpd_requests SET status = ?", store.StatusCompleted); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		want int
	}{{released.Add(store.CompletionWindow + time.Hour), 0}, {released.Add(store.CompletionWindow - time.Hour), 1}} {
		clock.t = c.at
		if n, err := CompleteErasures(context.Background(), s, m, true); err != nil || n != c.want {
			t.Errorf("%s after the release: %d %v, want %d", c.at.Sub(released), n, err, c.want)
		}
	}
}

// TestLedgerRecordsDeferredErasure: when the sweep erases a row whose
// retention hold ended, the erasure is a leaf under the DELETE that blocked
// it, committed with the erasure, and the ledger still verifies.
func TestLedgerRecordsDeferredErasure(t *testing.T) {
	s, _, m, sc := sweepSeeded(t)
	res, err := sweepDelete(t, s, m, crmtest.IDs(sc["pep"]))
	if err != nil || res.Complete {
		t.Fatalf("the PEP buyer's DELETE must leave held rows: %+v %v", res, err)
	}
	var blockReq, blockRef string
	if err := s.DB().QueryRow("SELECT request_id, subject_ref FROM lgpd_blocks LIMIT 1").Scan(&blockReq, &blockRef); err != nil {
		t.Fatal(err)
	}
	sweepClock(s).t = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	erased := sweepTotal(sweepRun(t, s, m, SweepOptions{})).Erased
	if _, err := s.Integrate(context.Background()); err != nil {
		t.Fatalf("integrate: %v", err)
	}
	rep := sweepVerify(t, s)
	entries, err := s.LedgerEntries(context.Background(), 0, rep.Size)
	if err != nil {
		t.Fatal(err)
	}
	var leaves int64
	for _, e := range entries {
		l, err := ledger.Unmarshal(e.Leaf)
		if err != nil {
			t.Fatal(err)
		}
		if l.Event == store.EventErasureReleased {
			leaves++
			if l.RequestID != blockReq || l.SubjectRef != blockRef || l.To != "ERASED" {
				t.Errorf("erasure leaf %+v is not under the DELETE that blocked the row", l)
			}
		}
	}
	if erased == 0 || leaves != erased {
		t.Fatalf("the sweep erased %d rows and the ledger records %d", erased, leaves)
	}
}

// TestSweepCountsOnceWhenRetried: a sweep batch whose transaction is rerun
// after a deadlock reports each row once. The counts used to be kept
// across attempts, so a rerun reported the batch twice.
func TestSweepCountsOnceWhenRetried(t *testing.T) {
	s, db, m, sc := sweepSeeded(t)
	if res, err := sweepDelete(t, s, m, crmtest.IDs(sc["pep"])); err != nil || res.Complete {
		t.Fatalf("the PEP buyer's DELETE must leave held rows: %+v %v", res, err)
	}
	later := func() time.Time { return time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC) }
	deadlocks := 0
	retried := store.New(db, store.WithClock(later), store.WithFailpoint(func(step string) error {
		if step == "commit" && deadlocks == 0 {
			deadlocks++
			return &mysql.MySQLError{Number: 1213, Message: "Deadlock found when trying to get lock; try restarting transaction"}
		}
		return nil
	}))
	got := sweepRun(t, retried, m, SweepOptions{})
	if deadlocks != 1 {
		t.Fatalf("the failpoint ran %d times; the test needs one rerun", deadlocks)
	}
	released := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_blocks WHERE released_at IS NOT NULL")
	kept := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_blocks WHERE released_at IS NULL")
	tot := sweepTotal(got)
	if released == 0 || tot.Erased != int64(released) || tot.Held != int64(kept) || tot.Due != tot.Erased+tot.Held {
		t.Errorf("reported %+v; the database has %d released and %d kept", tot, released, kept)
	}
}
