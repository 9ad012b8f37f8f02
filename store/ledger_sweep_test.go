package store

import (
	"context"
	"testing"
	"time"

	"github.com/titular/titular/ledger"
)

// TestLedgerRecordsDeferredErasure: when the sweep erases a row whose
// retention hold ended, the erasure is a leaf under the DELETE that blocked
// it, committed with the erasure, and the ledger still verifies.
func TestLedgerRecordsDeferredErasure(t *testing.T) {
	s, _, m, sc := seeded(t)
	res, err := deleteSubject(t, s, m, idsOf(sc["pep"]))
	if err != nil || res.Complete {
		t.Fatalf("the PEP buyer's DELETE must leave held rows: %+v %v", res, err)
	}
	var blockReq, blockRef string
	if err := s.DB().QueryRow("SELECT request_id, subject_ref FROM lgpd_blocks LIMIT 1").Scan(&blockReq, &blockRef); err != nil {
		t.Fatal(err)
	}
	useClock(s).t = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	got, err := s.Sweep(context.Background(), m, false)
	if err != nil {
		t.Fatal(err)
	}
	var erased int64
	for _, c := range got {
		erased += c.Erased
	}
	integrate(t, s)
	rep := verifyLedger(t, s, ledger.Checks{})
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
		if l.Event == EventErasureReleased {
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
