package server

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSweepCLIDryRunAsOf: `titular sweep --dry-run --as-of DATE` on a
// served tenant prints, per entity, what that date would erase, anonymize
// and still hold, and changes nothing; --as-of without --dry-run and a date
// in another format are refused with what to write instead.
func TestSweepCLIDryRunAsOf(t *testing.T) {
	env := newTestEnv(t, 40)
	buyer := env.scenario(t, "comprador_2023")
	del := env.createREST(t, keyDPO, map[string]any{"kind": "DELETE", "subject": map[string]any{"cpf": buyer.CPF}})
	if done := env.waitREST(t, del.ID); done.Status != "COMPLETED" {
		t.Fatalf("DELETE of the 2023 buyer: %+v", done)
	}
	db := env.demoDB(t)
	state := func() string {
		t.Helper()
		var b strings.Builder
		for _, tb := range []string{"lgpd_blocks", "lgpd_ledger_pending", "lgpd_ledger_entries", "lgpd_requests", "reservas", "pessoas", "repasses", "documentos"} {
			var name string
			var sum sql.NullString
			if err := db.QueryRow("CHECKSUM TABLE `"+tb+"`").Scan(&name, &sum); err != nil {
				t.Fatal(err)
			}
			b.WriteString(tb + "=" + sum.String + " ")
		}
		return b.String()
	}
	cfg := filepath.Join(env.cfg.Dir, "titular.yaml")
	sweep := func(args ...string) (string, error) {
		var out strings.Builder
		err := runCLI(t, &out, append([]string{"sweep", "--config", cfg, "--tenant", "demo", "--log-format", "text"}, args...)...)
		return out.String(), err
	}
	// The server's sequencer integrates the DELETE's leaves in the
	// background: wait for it, so only the sweep could change the ledger.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var pending int
		if err := db.QueryRow("SELECT COUNT(*) FROM lgpd_ledger_pending").Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d ledger leaves still pending", pending)
		}
	}
	before := state()
	out, err := sweep("--dry-run")
	t.Logf("sweep --dry-run:\n%s", out)
	if err != nil || !strings.Contains(out, "dry run as of") || !strings.Contains(out, "still held") ||
		!strings.Contains(out, "next release 20") || strings.Contains(out, "would erase      1") {
		t.Errorf("dry run now: %v\n%s\nwant the sale still held, with its next release date, and nothing erased", err, out)
	}
	out, err = sweep("--dry-run", "--as-of", "2040-01-01")
	t.Logf("sweep --dry-run --as-of 2040-01-01:\n%s", out)
	if err != nil || !strings.Contains(out, "dry run as of 2040-01-01") || !strings.Contains(out, "would anonymize      1") {
		t.Errorf("dry run as of 2040: %v\n%s\nwant the releases of that date", err, out)
	}
	if after := state(); after != before {
		t.Errorf("a dry run changed the database:\n%s\n%s", before, after)
	}
	if _, err := sweep("--as-of", "2040-01-01"); err == nil || !strings.Contains(err.Error(), "--as-of needs --dry-run") {
		t.Errorf("--as-of without --dry-run: %v", err)
	}
	if _, err := sweep("--dry-run", "--as-of", "01/01/2040"); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Errorf("--as-of 01/01/2040: %v", err)
	}
	if after := state(); after != before {
		t.Error("a refused sweep changed the database")
	}
}
