package service

// The sweep tells the truth: a dry run (also --as-of a future date) reports
// exactly what the run then does and changes nothing; rows an ANONYMIZE had
// to leave as they were are anonymized once their hold ends, under a key
// no one keeps.

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/store"
)

// sweepState is a fingerprint of everything a sweep may change: every
// mapped CRM table and titular's own tables, contents included (CHECKSUM
// TABLE), so an anonymized value shows as well as a deleted row.
func sweepState(t *testing.T, db *sql.DB, m *datamap.Map) map[string]string {
	t.Helper()
	tables := []string{"lgpd_blocks", "lgpd_requests", "lgpd_subject_index", "lgpd_consents", "lgpd_ledger_pending", "lgpd_ledger_entries"}
	for _, e := range m.Entities {
		tables = append(tables, e.Table)
	}
	out := map[string]string{}
	for _, tb := range tables {
		var name string
		var sum sql.NullString
		if err := db.QueryRow("CHECKSUM TABLE `"+tb+"`").Scan(&name, &sum); err != nil {
			t.Fatalf("checksum %s: %v", tb, err)
		}
		out[tb] = sum.String
	}
	return out
}

// ledgerSize integrates what is pending and returns the tree's size.
func ledgerSize(t *testing.T, s *store.Store) uint64 {
	t.Helper()
	return sweepVerify(t, s).Size
}

// TestSweepDryRunAgreesWithRun: right after the 2023 buyer's DELETE their
// record (pessoa) is kept only because their held sale references it, until
// the sale's release. The dry run used to count such rows as "would erase"
// while the run erased none; now both report them held, with the same
// numbers. In 2040 both
// report the same erasures and the same anonymizations (the sale the
// spouse's part still references).
func TestSweepDryRunAgreesWithRun(t *testing.T) {
	s, db, m, sc := sweepSeeded(t)
	buyer := crmtest.IDs(sc["comprador_2023"])
	if res, err := sweepDelete(t, s, m, buyer); err != nil || res.Complete {
		t.Fatalf("the 2023 buyer's DELETE must leave held rows: %+v %v", res, err)
	}
	for _, at := range []time.Time{crmtest.Clock, time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)} {
		sweepClock(s).t = at
		before := sweepState(t, db, m)
		dry := sweepRun(t, s, m, SweepOptions{DryRun: true})
		if after := sweepState(t, db, m); !reflect.DeepEqual(before, after) {
			t.Fatalf("%s: the dry run changed the database", at.Format(time.DateOnly))
		}
		run := sweepRun(t, s, m, SweepOptions{})
		dry.DryRun = false
		if !reflect.DeepEqual(dry, run) {
			t.Errorf("%s: dry run and run disagree:\n dry %+v\n run %+v", at.Format(time.DateOnly), dry, run)
		}
		tot := sweepTotal(run)
		t.Logf("%s: %+v", at.Format(time.DateOnly), run.Entities)
		if at.Equal(crmtest.Clock) {
			// Nothing is due: the record kept for the held sale carries
			// the sale's release date (#15, retention), so it is held,
			// not looked at, until then.
			next := map[string]*time.Time{}
			for _, c := range run.Entities {
				next[c.Entity] = c.NextRelease
			}
			if tot.Due != 0 || tot.Erased != 0 || tot.Anonymized != 0 || tot.Held == 0 ||
				next["pessoa"] == nil || next["reserva"] == nil || !next["pessoa"].Equal(*next["reserva"]) {
				t.Errorf("2026: want everything held, the buyer's record until her sale's release, got %+v", run.Entities)
			}
		} else if tot.Anonymized == 0 {
			t.Errorf("2040: the sale the spouse's part references must be anonymized: %+v", run.Entities)
		}
	}
}

// TestSweepAsOf: a dry run as of a future date shows what that date
// releases and changes nothing (CRM, records, ledger); the run on that date
// does exactly that. A real run as of a date is refused.
func TestSweepAsOf(t *testing.T) {
	s, db, m, sc := sweepSeeded(t)
	for _, name := range []string{"pep", "comprador_2023"} {
		if _, err := sweepDelete(t, s, m, crmtest.IDs(sc[name])); err != nil {
			t.Fatal(err)
		}
	}
	now := sweepRun(t, s, m, SweepOptions{DryRun: true})
	var next *time.Time
	for _, c := range now.Entities {
		if c.Erased+c.Anonymized != 0 {
			t.Errorf("in 2026 nothing is released yet: %+v", c)
		}
		if c.NextRelease != nil && (next == nil || c.NextRelease.Before(*next)) {
			next = c.NextRelease
		}
	}
	if next == nil || !next.After(crmtest.Clock) {
		t.Fatalf("the dry run must give the next release date: %+v", now.Entities)
	}
	size := ledgerSize(t, s)
	before := sweepState(t, db, m)
	asOf := next.AddDate(20, 0, 0)
	future := sweepRun(t, s, m, SweepOptions{DryRun: true, AsOf: asOf})
	if !future.AsOf.Equal(asOf) || sweepTotal(future).Erased == 0 {
		t.Fatalf("as of %s the holds have ended: %+v", asOf.Format(time.DateOnly), future)
	}
	if after := sweepState(t, db, m); !reflect.DeepEqual(before, after) {
		t.Error("the dry run as of a future date changed the database")
	}
	if got := ledgerSize(t, s); got != size {
		t.Errorf("ledger grew from %d to %d leaves in a dry run", size, got)
	}
	if _, err := Sweep(context.Background(), s, m, anonymize.NewRegistry(), SweepOptions{AsOf: asOf}); !errors.Is(err, ErrAsOfNeedsDryRun) {
		t.Fatalf("a real sweep as of a date: %v, want ErrAsOfNeedsDryRun", err)
	}
	if after := sweepState(t, db, m); !reflect.DeepEqual(before, after) {
		t.Error("the refused sweep changed the database")
	}
	sweepClock(s).t = asOf
	run := sweepRun(t, s, m, SweepOptions{})
	future.DryRun = false
	if !reflect.DeepEqual(future, run) {
		t.Errorf("the dry run as of %s and the run on that date disagree:\n dry %+v\n run %+v", asOf.Format(time.DateOnly), future, run)
	}
	if got := ledgerSize(t, s); got <= size {
		t.Errorf("the run recorded nothing in the ledger (%d leaves)", got)
	}
}

// sweepAnonymize runs an ANONYMIZE's work as the worker does, under key.
func sweepAnonymize(t *testing.T, s *store.Store, m *datamap.Map, ids crm.Identifiers, key *anonymize.Key) *crm.AnonymizeResult {
	t.Helper()
	plan, err := crm.PlanAnonymize(m, anonymize.NewRegistry())
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	r := sweepRequest(t, s, store.NewRequest{Kind: store.KindAnonymize, Subject: ids})
	var res *crm.AnonymizeResult
	err = s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		read, err := s.Snapshot(ctx)
		if err != nil {
			return err
		}
		defer read.Close()
		if res, err = crm.New(s.Now).Anonymize(ctx, read.CRM(), tx.CRM(), plan, key, ids); err != nil {
			return err
		}
		return tx.RecordAnonymization(ctx, r.ID, r.SubjectRef, res)
	})
	if err != nil {
		t.Fatalf("anonymize: %v", err)
	}
	if _, err := s.DB().Exec("UPDATE lgpd_requests SET status = ? WHERE id = ?", store.StatusCompleted, r.ID); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestSweepAnonymizesHeldRowsOfAnonymize: an ANONYMIZE of the 2023 buyer
// leaves their held sale, financing and documents as they are and promises
// to anonymize them later. After the release date the sweep keeps that
// promise: the values change, no identifier of the buyer is left in any
// mapped column, and the new values are not what the tenant's kept key
// gives (which could recompute them from a guessed CPF: pseudonymization).
// Each release is a ledger leaf under the ANONYMIZE; the requests then
// forget the identifiers.
func TestSweepAnonymizesHeldRowsOfAnonymize(t *testing.T) {
	s, db, m, sc := sweepSeeded(t)
	buyer := crmtest.IDs(sc["comprador_2023"])
	tenantKey, err := anonymize.NewKey(bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		t.Fatal(err)
	}
	res := sweepAnonymize(t, s, m, buyer, tenantKey)
	if len(res.Holds) == 0 || len(res.Blocks) == 0 {
		t.Fatalf("the buyer's sale must be held: %+v", res)
	}
	ref := crmtest.Column[string](t, db, "SELECT subject_ref FROM lgpd_requests WHERE kind = ?", store.KindAnonymize)[0]
	sales := crmtest.Column[string](t, db, "SELECT row_key FROM lgpd_blocks WHERE entity = 'reserva' AND release_action = ? AND subject_ref = ?", store.ActionAnonymize, ref)
	if len(sales) == 0 || crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_blocks WHERE release_action = ?", store.ActionAnonymize) != len(res.Blocks) {
		t.Fatalf("the ANONYMIZE's held rows must be recorded for the sweep: %d blocks", len(res.Blocks))
	}
	if found := crmtest.ScanMapped(t, db, m, crmtest.Needles(buyer)); len(found) == 0 {
		t.Fatal("the held rows must still name the buyer before the sweep")
	}
	reserva := m.Entity("reserva")
	cpf, name := crmtest.FieldIndex(reserva, "cliente_cpf"), crmtest.FieldIndex(reserva, "cliente_nome")
	before := map[string][]any{}
	for _, k := range sales {
		before[k] = crmtest.RowByKey(t, db, reserva, k)
	}

	// Before the release date the sweep leaves them as they are.
	if tot := sweepTotal(sweepRun(t, s, m, SweepOptions{})); tot.Anonymized != 0 || tot.Held != int64(len(res.Blocks)) {
		t.Fatalf("in 2026 the held rows stay as they are: %+v", tot)
	}
	sweepClock(s).t = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	rep := sweepRun(t, s, m, SweepOptions{})
	tot := sweepTotal(rep)
	t.Logf("2040: %+v", rep.Entities)
	if tot.Anonymized == 0 || tot.Erased != 0 || tot.Held != 0 {
		t.Fatalf("after the holds end the rows are anonymized, none erased: %+v", rep.Entities)
	}
	if found := crmtest.ScanMapped(t, db, m, crmtest.Needles(buyer)); len(found) != 0 {
		t.Errorf("the buyer's identifiers remain in %v", found)
	}
	reg := anonymize.NewRegistry()
	for _, c := range []struct {
		idx    int
		anon   string
		maxLen int64
	}{{cpf, "fake.cpf", 14}, {name, "fake.name", 150}} {
		a, err := reg.New(c.anon, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, old := range before {
			now := crmtest.RowByKey(t, db, reserva, k)
			withTenantKey, err := a.Apply(tenantKey, anonymize.Column{DataType: "varchar", MaxLength: c.maxLen}, old[c.idx], 0)
			if err != nil {
				t.Fatal(err)
			}
			if now[c.idx] == old[c.idx] || now[c.idx] == withTenantKey {
				t.Errorf("reserva %s %s: %v -> %v; want a new value the tenant key does not give", k, c.anon, old[c.idx], now[c.idx])
			}
		}
	}
	if n := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_blocks WHERE released_at IS NULL OR released_as <> ?", store.ReleasedAnonymized); n != 0 {
		t.Errorf("%d blocks not released as anonymized", n)
	}
	if n := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_requests WHERE subject_ref = ? AND subject_json IS NOT NULL", ref); n != 0 {
		t.Errorf("%d requests still name the anonymized titular", n)
	}
	rl := sweepVerify(t, s)
	entries, err := s.LedgerEntries(context.Background(), 0, rl.Size)
	if err != nil {
		t.Fatal(err)
	}
	leaves := 0
	for _, e := range entries {
		l, err := ledger.Unmarshal(e.Leaf)
		if err != nil {
			t.Fatal(err)
		}
		if l.Event == store.EventAnonymizationReleased {
			leaves++
			if l.SubjectRef != ref || l.Kind != string(store.KindAnonymize) || l.To != store.ReleasedAnonymized {
				t.Errorf("release leaf %+v is not under the ANONYMIZE", l)
			}
		}
	}
	if leaves != len(res.Blocks) {
		t.Errorf("%d release leaves for %d held rows", leaves, len(res.Blocks))
	}
	if again := sweepTotal(sweepRun(t, s, m, SweepOptions{})); again.Due != 0 || again.Anonymized != 0 {
		t.Errorf("a second sweep found work: %+v", again)
	}
}

// TestSweepKeepsWhatTheMapCannotAnonymize: when the map cannot anonymize an
// entity (a personal field of pessoa without an anonymizer), its
// still-referenced rows stay blocked, the report naming the field, while
// the other entities' rows are released.
func TestSweepKeepsWhatTheMapCannotAnonymize(t *testing.T) {
	s, db, m, sc := sweepSeeded(t)
	buyer := crmtest.IDs(sc["comprador_2023"])
	if _, err := sweepDelete(t, s, m, buyer); err != nil {
		t.Fatal(err)
	}
	p := m.Entity("pessoa")
	p.Fields[crmtest.FieldIndex(p, "nome")].Anonymizer = nil
	sweepClock(s).t = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	rep := sweepRun(t, s, m, SweepOptions{})
	for _, c := range rep.Entities {
		switch c.Entity {
		case "pessoa":
			if c.Held != 1 || c.Anonymized != 0 || !strings.Contains(c.Refused, "pessoa.nome") {
				t.Errorf("pessoa: %+v; want the buyer's record kept, naming the field", c)
			}
		case "reserva":
			if c.Anonymized != 1 {
				t.Errorf("reserva: %+v; want the sale anonymized", c)
			}
		}
	}
	if n := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM lgpd_blocks WHERE released_at IS NULL AND entity = 'pessoa'"); n != 1 {
		t.Errorf("%d pessoa blocks open, want 1", n)
	}
	if rep.Completed != 0 {
		t.Errorf("an erasure with a row still blocked was completed")
	}
}
