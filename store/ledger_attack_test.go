package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/ledger"
	"github.com/titular/titular/store/storetest"
)

// attackLedger is a 100-entry ledger with a checkpoint at 60 and one at 100
// (published outside the database), a dump taken at 60, and the head row as
// it was at 90.
type attackLedger struct {
	s        *Store
	db       *sql.DB
	verifier note.Verifier
	origin   string
	cp100    []byte
	head90   []any
}

func appendLeaves(t *testing.T, s *Store, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
			return tx.AppendLeaf(ctx, benchLeaf(i))
		}); err != nil {
			t.Fatal(err)
		}
	}
	integrate(t, s)
}

func newAttackLedger(t *testing.T) *attackLedger {
	t.Helper()
	ctx := context.Background()
	s, db := newStore(t)
	skey, vkey, err := ledger.GenerateKey("titular.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ledger.NewSigner(skey)
	verifier, _ := ledger.NewVerifier(vkey)
	a := &attackLedger{s: s, db: db, verifier: verifier, origin: ledger.Origin("titular.test", "demo")}
	appendLeaves(t, s, 0, 60)
	if _, err := s.Checkpoint(ctx, signer, verifier, a.origin); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range []string{"entries", "nodes", "head", "checkpoints"} {
		exec(t, db, "CREATE TABLE dump_"+tbl+" AS SELECT * FROM lgpd_ledger_"+tbl)
	}
	appendLeaves(t, s, 60, 90)
	a.head90 = make([]any, 3)
	if err := db.QueryRow("SELECT size, root, range_hashes FROM lgpd_ledger_head").Scan(&a.head90[0], &a.head90[1], &a.head90[2]); err != nil {
		t.Fatal(err)
	}
	appendLeaves(t, s, 90, 100)
	cp, err := s.Checkpoint(ctx, signer, verifier, a.origin)
	if err != nil {
		t.Fatal(err)
	}
	a.cp100 = []byte(cp.Note)
	// Untouched, it verifies.
	verifyLedger(t, s, a.checks())
	return a
}

func (a *attackLedger) checks() ledger.Checks {
	return ledger.Checks{Checkpoints: [][]byte{a.cp100}, Origin: a.origin, Verifier: a.verifier}
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// dropTriggers drops the ledger's append-only triggers, as a DBA could,
// under the server's trigger lock as every trigger DDL of the test run
// must be (see TriggerDDLLock): other tests migrate meanwhile.
func dropTriggers(t *testing.T, db *sql.DB) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := storetest.UnderTriggerLock(ctx, conn, func() error {
		for _, tbl := range []string{"entries", "nodes", "checkpoints"} {
			for _, op := range []string{"update", "delete"} {
				if _, err := conn.ExecContext(ctx, "DROP TRIGGER lgpd_ledger_"+tbl+"_no_"+op); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestLedgerDBAAttacks: each thing a DBA can do to the ledger behind
// titular's back is detected by verify, which names the first bad entry.
func TestLedgerDBAAttacks(t *testing.T) {
	forged, _ := benchLeaf(5000).Marshal()
	forgedHash := ledger.HashLeaf(forged)
	attacks := []struct {
		name   string
		entry  int64
		attack func(t *testing.T, a *attackLedger)
	}{
		{"UPDATE after dropping the trigger", 40, func(t *testing.T, a *attackLedger) {
			dropTriggers(t, a.db)
			exec(t, a.db, "UPDATE lgpd_ledger_entries SET leaf = ?, leaf_hash = ? WHERE seq = 40", forged, forgedHash)
		}},
		{"DELETE of a middle entry", 50, func(t *testing.T, a *attackLedger) {
			dropTriggers(t, a.db)
			exec(t, a.db, "DELETE FROM lgpd_ledger_entries WHERE seq = 50")
		}},
		{"TRUNCATE", 0, func(t *testing.T, a *attackLedger) {
			exec(t, a.db, "TRUNCATE TABLE lgpd_ledger_entries")
		}},
		{"deleting the tail, head and nodes rewound", 90, func(t *testing.T, a *attackLedger) {
			dropTriggers(t, a.db)
			exec(t, a.db, "DELETE FROM lgpd_ledger_entries WHERE seq >= 90")
			exec(t, a.db, "DELETE FROM lgpd_ledger_nodes WHERE seq >= 90")
			exec(t, a.db, "DELETE FROM lgpd_ledger_checkpoints WHERE size > 90")
			exec(t, a.db, "UPDATE lgpd_ledger_head SET size = ?, root = ?, range_hashes = ?", a.head90...)
		}},
		{"restoring an older dump", 60, func(t *testing.T, a *attackLedger) {
			for _, tbl := range []string{"entries", "nodes", "head", "checkpoints"} {
				exec(t, a.db, "TRUNCATE TABLE lgpd_ledger_"+tbl)
				exec(t, a.db, "INSERT INTO lgpd_ledger_"+tbl+" SELECT * FROM dump_"+tbl)
			}
		}},
		{"reordering two entries", 11, func(t *testing.T, a *attackLedger) {
			dropTriggers(t, a.db)
			exec(t, a.db, "UPDATE lgpd_ledger_entries SET seq = 1000000 WHERE seq = 10")
			exec(t, a.db, "UPDATE lgpd_ledger_entries SET seq = 10 WHERE seq = 11")
			exec(t, a.db, "UPDATE lgpd_ledger_entries SET seq = 11 WHERE seq = 1000000")
		}},
		{"inserting a forged entry, tree and head recomputed", 100, func(t *testing.T, a *attackLedger) {
			var size uint64
			var rangeBytes []byte
			if err := a.db.QueryRow("SELECT size, range_hashes FROM lgpd_ledger_head").Scan(&size, &rangeBytes); err != nil {
				t.Fatal(err)
			}
			rng, err := ledger.DecodeRange(size, rangeBytes)
			if err != nil {
				t.Fatal(err)
			}
			mac := sha256.Sum256([]byte("a DBA's best guess"))
			exec(t, a.db, "INSERT INTO lgpd_ledger_entries (seq, leaf, leaf_hash, mac, created_at) VALUES (?, ?, ?, ?, NOW())",
				size, forged, forgedHash, mac[:])
			_ = rng.Append(forgedHash, nil)
			root, _ := ledger.Root(rng)
			exec(t, a.db, "UPDATE lgpd_ledger_head SET size = ?, root = ?, range_hashes = ?", rng.End(), root, ledger.EncodeRange(rng))
		}},
		{"editing a stored node", 63, func(t *testing.T, a *attackLedger) {
			dropTriggers(t, a.db)
			h := sha256.Sum256([]byte("x"))
			exec(t, a.db, "UPDATE lgpd_ledger_nodes SET hash = ? WHERE seq = 63 AND level = 6", h[:])
		}},
	}
	for _, at := range attacks {
		t.Run(at.name, func(t *testing.T) {
			t.Parallel()
			a := newAttackLedger(t)
			at.attack(t, a)
			_, err := a.s.VerifyLedger(context.Background(), a.checks())
			var p *ledger.Problem
			if !errors.As(err, &p) {
				t.Fatalf("not detected: %v", err)
			}
			if p.Entry != at.entry {
				t.Errorf("first bad entry %d, want %d: %v", p.Entry, at.entry, err)
			}
			t.Logf("verify: %v", err)
		})
	}
}
