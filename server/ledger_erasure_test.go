package server

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/seed"
)

// TestLedgerErasure: after a titular's complete DELETE, no lgpd_ table holds
// any of their seeded identifiers (in any stored shape), the subject index
// no longer links their reference to them, and the ledger still verifies,
// byte for byte, against a checkpoint published before the erasure; the
// receipt issued before still verifies offline.
func TestLedgerErasure(t *testing.T) {
	env := newTestEnv(t, 50)
	lead := env.scenario(t, seed.ScenarioConsentOnlyLead)
	confirm := env.createREST(t, keyBackend, map[string]any{"kind": "CONFIRM",
		"subject": map[string]any{"cpf": brdoc.FormatCPF(lead.CPF), "email": strings.ToUpper(lead.Email)}})
	extract := env.createREST(t, keyBackend, map[string]any{"kind": "EXTRACT", "subject": map[string]any{"email": lead.Email}})
	if done := env.waitREST(t, extract.ID); done.Status != "COMPLETED" {
		t.Fatalf("EXTRACT ended %s", done.Status)
	}
	if confirm.SubjectRef != extract.SubjectRef {
		t.Fatal("the same titular got two subject references")
	}
	receipt := get[restReceipt](t, env, "/v1/tenants/demo/requests/"+extract.ID+"/receipt", keyDPO)
	before := get[restCheckpoint](t, env, "/v1/tenants/demo/ledger/checkpoint", keyDPO)
	entriesBefore := get[restEntries](t, env, "/v1/tenants/demo/ledger/entries?start=0&end="+strconv.FormatUint(before.Size, 10), keyDPO)
	db := env.demoDB(t)
	// cpf and email from the requests; the phone her lead row holds beside
	// them is linked to the same person (#15), when the seed gave her one.
	want := 2
	if lead.Phone != "" {
		want = 3
	}
	if n := scalar(t, db, "SELECT COUNT(*) FROM lgpd_subject_index WHERE subject_ref = ?", extract.SubjectRef); n != want {
		t.Fatalf("%d subject index rows before the DELETE, want %d (cpf, email and the linked phone)", n, want)
	}

	needles := append(brdoc.CPFShapes(lead.CPF), strings.ToLower(lead.Email))
	if lead.Phone != "" {
		needles = append(needles, brdoc.PhoneShapes(lead.Phone)...)
	}
	// Not vacuous: before the DELETE the scan finds the identifiers.
	if _, hits := scanLGPDTables(t, db, needles); len(hits) == 0 {
		t.Fatal("the scan finds no identifier even before the DELETE")
	}

	del := env.createREST(t, keyBackend, map[string]any{"kind": "DELETE", "subject": map[string]any{"email": lead.Email}})
	if done := env.waitREST(t, del.ID); done.Status != "COMPLETED" {
		t.Fatalf("DELETE ended %s", done.Status)
	}

	scanned, hits := scanLGPDTables(t, db, needles)
	if scanned < 5 {
		t.Fatalf("scanned only %d lgpd_ tables", scanned)
	}
	for _, h := range hits {
		t.Errorf("%s still holds an identifier of the erased titular", h)
	}
	if n := scalar(t, db, "SELECT COUNT(*) FROM lgpd_subject_index WHERE subject_ref = ?", extract.SubjectRef); n != 0 {
		t.Errorf("the subject index still links the reference to %d identifiers", n)
	}

	// The ledger is untouched by the erasure and still verifies.
	after := get[restEntries](t, env, "/v1/tenants/demo/ledger/entries?start=0&end="+strconv.FormatUint(before.Size, 10), keyDPO)
	for i := range entriesBefore.Entries {
		if !bytes.Equal(after.Entries[i].Leaf, entriesBefore.Entries[i].Leaf) {
			t.Fatalf("entry %d changed with the erasure", i)
		}
	}
	cpFile := filepath.Join(t.TempDir(), "before.txt")
	if err := os.WriteFile(cpFile, []byte(before.Note), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runCLI(t, &out, "ledger", "verify", "--config", filepath.Join(env.cfg.Dir, "titular.yaml"),
		"--tenant", "demo", "--checkpoint", cpFile); err != nil {
		t.Fatalf("verify after the erasure: %v", err)
	}
	checkReceipt(t, env, receipt)
	// The DELETE itself is in the ledger, under the same reference.
	rc := get[restReceipt](t, env, "/v1/tenants/demo/requests/"+del.ID+"/receipt", keyDPO)
	if l := checkReceipt(t, env, rc); l.Kind != "DELETE" || l.To != "COMPLETED" || l.SubjectRef != extract.SubjectRef {
		t.Errorf("DELETE receipt leaf %+v", l)
	}
}

func scalar(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// scanLGPDTables reads every row of every lgpd_ table and returns how many
// tables it read and the columns holding a needle (case-insensitive).
func scanLGPDTables(t *testing.T, db *sql.DB, needles []string) (int, []string) {
	t.Helper()
	tables := lgpdTables(t, db)
	var hits []string
	for _, tbl := range tables {
		hits = append(hits, scanTable(t, db, tbl, needles)...)
	}
	return len(tables), hits
}

// lgpdTables lists the lgpd_ tables of the connection's database. A read
// error fails the test: a short list would let a scan pass unread tables.
func lgpdTables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables
 WHERE table_schema = DATABASE() AND table_name LIKE 'lgpd\_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return tables
}

// scanTable reads every row of tbl and returns the columns holding a needle
// (case-insensitive), once per row and needle found.
func scanTable(t *testing.T, db *sql.DB, tbl string, needles []string) []string {
	t.Helper()
	rs, err := db.Query("SELECT * FROM `" + tbl + "`")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var hits []string
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			low := bytes.ToLower(v)
			for _, n := range needles {
				if n != "" && bytes.Contains(low, []byte(strings.ToLower(n))) {
					hits = append(hits, tbl+"."+cols[i])
				}
			}
		}
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return hits
}
