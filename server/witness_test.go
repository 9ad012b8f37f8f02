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
// cosigning), keeps each cosignature in the database and in a file under
// ledger.witnessed_dir, and `titular ledger verify` passes on the honest
// ledger asking the witness online. The database is then restored from an
// older copy, consistent in itself, older checkpoint and cosignatures
// included: verify fails through the kept file; with state_dir restored too
// it passes offline and without witnesses (the gap), and fails asking the
// witness, which remembers the newer size.
func TestWitnessCatchesRollback(t *testing.T) {
	w, ws, withWitness := newTestWitness(t)
	dir, origin := t.TempDir(), ledger.Origin("titular.local", "demo")
	witnessLine := fmt.Sprintf("  witnesses: [{name: test-witness, url: %q, key: %q}]\n", ws.URL, w.VerifierKey())
	env := newTestEnv(t, 50, withWitness)
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
	// The older copy is of the whole database: the cosignatures too.
	for _, tbl := range ledgerTables {
		mustExec(t, db, "CREATE TABLE dump_"+tbl+" AS SELECT * FROM lgpd_ledger_"+tbl)
	}
	// serve keeps the latest cosigned checkpoint outside the database too,
	// byte for byte the one in the cosignatures table.
	keptFile := env.cfg.WitnessedFile("demo", "test-witness")
	olderKept := keptCosigned(t, db, keptFile, older)
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
	newerKept := keptCosigned(t, db, keptFile, newer)
	cfgPath := filepath.Join(env.cfg.Dir, "titular.yaml")
	var out bytes.Buffer
	asked := w.Requests()
	if err := runCLI(t, &out, "ledger", "verify", "--config", cfgPath, "--tenant", "demo"); err != nil {
		t.Fatalf("the untouched ledger does not verify with its witness online: %v", err)
	}
	for _, want := range []string{
		fmt.Sprintf("witness test-witness: cosigned size %d, which the ledger extends (copy in the database)", newer),
		fmt.Sprintf("witness test-witness: cosigned size %d, which the ledger extends (copy in %s)", newer, keptFile),
		fmt.Sprintf("witness test-witness (asked now): last cosigned size %d, which the ledger's checkpoint of size %d extends", newer, newer),
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("verify does not report %q:\n%s", want, out.String())
		}
	}
	if w.Requests() <= asked {
		t.Error("verify did not ask the witness")
	}

	env.app.Stop() // nothing may write while the database is rolled back
	for _, tbl := range ledgerTables {
		mustExec(t, db, "TRUNCATE TABLE lgpd_ledger_"+tbl)
		mustExec(t, db, "INSERT INTO lgpd_ledger_"+tbl+" SELECT * FROM dump_"+tbl)
	}
	var cosignedSize uint64
	if err := db.QueryRow("SELECT MAX(size) FROM lgpd_ledger_cosignatures").Scan(&cosignedSize); err != nil || cosignedSize != older {
		t.Fatalf("the restored cosignatures table holds size %d (err %v), not the older %d", cosignedSize, err, older)
	}

	// The copy kept outside the database still remembers the newer size:
	// verify fails through it, even offline.
	out.Reset()
	err := runCLI(t, &out, "ledger", "verify", "--config", cfgPath, "--tenant", "demo", "--offline")
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("the ledger has %d entries but checkpoint", older)) ||
		!strings.Contains(err.Error(), fmt.Sprintf("commits to %d", newer)) {
		t.Fatalf("verify --offline on the restored database with the kept checkpoint of size %d: %v\n%s", newer, err, out.String())
	}
	// Restore state_dir from the same old backup: now nothing titular
	// keeps remembers, and offline the rollback goes unnoticed.
	if err := os.WriteFile(keptFile, olderKept, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runCLI(t, &out, "ledger", "verify", "--config", cfgPath, "--tenant", "demo", "--offline"); err != nil {
		t.Fatalf("offline, a restore of the database and of state_dir leaves nothing to compare with, but verify failed: %v", err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("verifies: %d entries", older)) || !strings.Contains(out.String(), "witnesses not asked (--offline)") {
		t.Errorf("verify --offline does not say it saw %d entries without asking the witnesses:\n%s", older, out.String())
	}
	if bytes.Equal(olderKept, newerKept) {
		t.Fatal("the kept checkpoint did not change between the two sizes")
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
	// Asking the witness, it fails: the witness remembers the newer size.
	out.Reset()
	err = runCLI(t, &out, "ledger", "verify", "--config", cfgPath, "--tenant", "demo")
	if err == nil {
		t.Fatalf("verify passed a database restored from %d to %d entries, cosignatures included:\n%s", newer, older, out.String())
	}
	want := fmt.Sprintf("witness test-witness has cosigned this ledger at size %d, but its latest checkpoint here is of size %d: the ledger was rolled back", newer, older)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("verify failed for another reason than the witness's size: %v", err)
	}
	if cp, _ := w.Latest(origin); cp.Size != newer {
		t.Errorf("asking moved the witness to size %d, from %d", cp.Size, newer)
	}
	// A witness that cannot be asked fails verify, saying how to go on.
	ws.Close()
	out.Reset()
	err = runCLI(t, &out, "ledger", "verify", "--config", cfgPath, "--tenant", "demo")
	if err == nil || !strings.Contains(err.Error(), "could not ask witness test-witness") || !strings.Contains(err.Error(), "--offline") {
		t.Errorf("verify with the witness down: %v, want it to name the witness and --offline", err)
	}
}

// ledgerTables are the tables an older copy of the database restores.
var ledgerTables = []string{"entries", "nodes", "head", "checkpoints", "cosignatures"}

// keptCosigned waits for serve's file in witnessed_dir to hold the
// checkpoint of size, and checks it is byte for byte the cosigned note in
// the database.
func keptCosigned(t *testing.T, db *sql.DB, path string, size uint64) []byte {
	t.Helper()
	var stored string
	if err := db.QueryRow("SELECT note FROM lgpd_ledger_cosignatures WHERE witness = 'test-witness' AND size = ?", size).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	var b []byte
	for until := time.Now().Add(deadline); time.Now().Before(until); time.Sleep(50 * time.Millisecond) {
		if b, _ = os.ReadFile(path); bytes.Equal(b, []byte(stored)) { //nolint:gosec // G304: a test path
			return b
		}
	}
	t.Fatalf("%s holds %q, not the cosigned checkpoint of size %d %q", path, b, size, stored)
	return nil
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// newTestWitness starts a tlog witness that knows the demo tenant's log,
// and returns it, its server and the option that configures titular to
// sign checkpoints every second and push them to it.
func newTestWitness(t *testing.T) (*witnesstest.Witness, *httptest.Server, envOption) {
	t.Helper()
	skey, vkey, err := ledger.GenerateKey("titular.local")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "ledger.key")
	if err := os.WriteFile(keyFile, []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logKey, err := ledger.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	w, err := witnesstest.New("witness.test", map[string]note.Verifier{ledger.Origin("titular.local", "demo"): logKey})
	if err != nil {
		t.Fatal(err)
	}
	ws := httptest.NewServer(w)
	t.Cleanup(ws.Close)
	return w, ws, func(y string) string {
		return y + fmt.Sprintf("ledger:\n  signing_key_file: %q\n  checkpoint_interval: 1s\n  witnesses: [{name: test-witness, url: %q, key: %q}]\n",
			keyFile, ws.URL, w.VerifierKey())
	}
}
