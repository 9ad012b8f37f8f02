package server

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/ledger/witnesstest"
	"github.com/titular/titular/seed"
)

// TestWitnessCatchesRollback: serve pushes each new checkpoint to a
// witness (C2SP tlog-witness, the test witness checking consistency and
// cosigning); the ledger tables are then rolled back to an older copy that
// is consistent in itself, older checkpoint included. `titular ledger
// verify` passes on it without witnesses, and fails with them, through the
// cosigned checkpoint the rollback went below.
func TestWitnessCatchesRollback(t *testing.T) {
	dir := t.TempDir()
	skey, vkey, err := ledger.GenerateKey("titular.local")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "ledger.key")
	if err := os.WriteFile(keyFile, []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logKey, err := ledger.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	origin := ledger.Origin("titular.local", "demo")
	w, err := witnesstest.New("witness.test", map[string]note.Verifier{origin: logKey})
	if err != nil {
		t.Fatal(err)
	}
	ws := httptest.NewServer(w)
	defer ws.Close()
	witnessLine := fmt.Sprintf("  witnesses: [{name: test-witness, url: %q, key: %q}]\n", ws.URL, w.VerifierKey())
	env := newTestEnv(t, 50, func(y string) string {
		return y + fmt.Sprintf("ledger:\n  signing_key_file: %q\n  checkpoint_interval: 1s\n", keyFile) + witnessLine
	})
	db := env.demoDB(t)
	buyer := env.scenario(t, seed.ScenarioBuyer2023)

	// waitCosigned makes the ledger grow by one request and waits for the
	// witness's cosignature of a checkpoint covering it, stored by serve.
	waitCosigned := func() uint64 {
		t.Helper()
		created := env.createREST(t, keyBackend, map[string]any{"kind": "EXTRACT", "subject": map[string]any{"cpf": brdoc.FormatCPF(buyer.CPF)}})
		if done := env.waitREST(t, created.ID); done.Status != "COMPLETED" {
			t.Fatalf("EXTRACT ended %s", done.Status)
		}
		// Leaves may follow the request's completion (its events) and wait
		// for the sequencer: wait until none is pending and the witness
		// has cosigned the whole ledger as it stands.
		for until := time.Now().Add(deadline); time.Now().Before(until); time.Sleep(100 * time.Millisecond) {
			var head, pending uint64
			var size sql.NullInt64
			if err := db.QueryRow("SELECT (SELECT size FROM lgpd_ledger_head), (SELECT COUNT(*) FROM lgpd_ledger_pending)").Scan(&head, &pending); err != nil {
				t.Fatal(err)
			}
			if pending > 0 {
				continue
			}
			if err := db.QueryRow("SELECT MAX(size) FROM lgpd_ledger_cosignatures WHERE witness = 'test-witness'").Scan(&size); err != nil {
				t.Fatal(err)
			}
			cp, ok := w.Latest(origin)
			if size.Valid && uint64(size.Int64) == head && ok && cp.Size == head {
				return head
			}
		}
		t.Fatalf("the witness did not cosign the whole ledger (it served %d requests)", w.Requests())
		return 0
	}
	older := waitCosigned()
	// The older copy: the ledger tables as they were at the first
	// cosigned size, consistent with themselves and their checkpoint.
	for _, tbl := range []string{"entries", "nodes", "head", "checkpoints"} {
		mustExec(t, db, "CREATE TABLE dump_"+tbl+" AS SELECT * FROM lgpd_ledger_"+tbl)
	}
	var dumped, pending uint64
	if err := db.QueryRow("SELECT (SELECT size FROM dump_head), (SELECT COUNT(*) FROM lgpd_ledger_pending)").Scan(&dumped, &pending); err != nil ||
		dumped != older || pending != 0 {
		t.Fatalf("the copy holds %d entries with %d pending (err %v), not the %d cosigned: the ledger grew meanwhile", dumped, pending, err, older)
	}
	newer := waitCosigned()
	if newer <= older {
		t.Fatalf("the second cosigned size %d does not exceed the first, %d", newer, older)
	}
	// The witness was asked with a consistency proof from its last size,
	// not from scratch: it cosigned two sizes in order.
	cfgPath := filepath.Join(env.cfg.Dir, "titular.yaml")
	var out bytes.Buffer
	if err := runCLI(t, &out, "ledger", "verify", "--config", cfgPath, "--tenant", "demo"); err != nil {
		t.Fatalf("the untouched ledger does not verify with its witness: %v", err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("witness test-witness: cosigned size %d", newer)) {
		t.Errorf("verify does not report the witness:\n%s", out.String())
	}

	env.app.Stop() // nothing may write while the tables are rolled back
	for _, tbl := range []string{"entries", "nodes", "head", "checkpoints"} {
		mustExec(t, db, "TRUNCATE TABLE lgpd_ledger_"+tbl)
		mustExec(t, db, "INSERT INTO lgpd_ledger_"+tbl+" SELECT * FROM dump_"+tbl)
	}

	// Without witnesses the rolled-back copy passes: nothing outside the
	// database remembers the newer size.
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(dir, "no-witness.yaml")
	if err := os.WriteFile(bare, bytes.Replace(cfg, []byte(witnessLine), nil, 1), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runCLI(t, &out, "ledger", "verify", "--config", bare, "--tenant", "demo"); err != nil {
		t.Fatalf("without witnesses the rollback should go unnoticed (that is the gap witnesses close), but verify failed: %v", err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("verifies: %d entries", older)) {
		t.Errorf("verify without witnesses did not see the rolled-back size %d:\n%s", older, out.String())
	}
	// With the witness, it fails through the cosigned checkpoint.
	out.Reset()
	err = runCLI(t, &out, "ledger", "verify", "--config", cfgPath, "--tenant", "demo")
	if err == nil {
		t.Fatalf("verify passed a ledger rolled back from %d to %d entries:\n%s", newer, older, out.String())
	}
	if want := fmt.Sprintf("the ledger has %d entries but checkpoint", older); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("commits to %d", newer)) {
		t.Errorf("verify failed for another reason than the rollback: %v", err)
	}
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
