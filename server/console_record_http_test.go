package server

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/titular/titular/inventory"
)

// recordSensitiveMap points the demo tenant at a copy of the example data
// map in which the client's documents hold a medical report (saúde, LGPD
// Art. 5 II, under obrigacao_legal, which Art. 11 allows): the example map
// itself maps no sensitive data, and the record must flag it.
func recordSensitiveMap(t *testing.T) envOption {
	t.Helper()
	orig, err := filepath.Abs("../examples/realestate/datamap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	const field = "nome_arquivo:  {category: documental, anonymizer: redact, label: Nome do arquivo}"
	if !bytes.Contains(b, []byte(field)) {
		t.Fatalf("the example map no longer has %q", field)
	}
	b = bytes.Replace(b, []byte(field), []byte("nome_arquivo:  {category: saude, anonymizer: redact, label: Laudo médico (arquivo)}"), 1)
	path := filepath.Join(t.TempDir(), "datamap.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// The demo tenant's line comes first in the config.
	return func(yaml string) string { return strings.Replace(yaml, orig, path, 1) }
}

// recordDownload fetches a download of the record and checks it is one.
func recordDownload(t *testing.T, c *http.Client, u, wantType string) []byte {
	t.Helper()
	code, h, body := reportGet(t, c, u)
	cd := h.Get("Content-Disposition")
	if code != http.StatusOK || h.Get("Content-Type") != wantType || !strings.HasPrefix(cd, `attachment; filename="registro-tratamento-demo-`) {
		t.Fatalf("GET %s: %d, type %q, disposition %q", u, code, h.Get("Content-Type"), cd)
	}
	return []byte(body)
}

// recordWaitOutcome polls the record page until the verification run is
// over and returns the page.
func recordWaitOutcome(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	until := time.Now().Add(deadline)
	for time.Now().Before(until) {
		code, _, body := consoleGet(t, c, u)
		if code != http.StatusOK {
			t.Fatalf("record page: %d", code)
		}
		if strings.Contains(body, `id="verify-outcome"`) {
			return body
		}
		if !strings.Contains(body, `id="verify-running"`) || !strings.Contains(body, `<meta http-equiv="refresh" content="2; url=/console/t/demo/registro">`) {
			t.Fatal("a run was started but the page shows neither its progress (refreshing itself) nor its outcome")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the verification run did not finish")
	return ""
}

// TestConsoleRecordHTTP checks the record page over plain HTTP: the DPO
// sees the record with the sensitive entity flagged and the ledger's
// state, downloads XLSX and CSV; the verify POST without its CSRF token is
// refused and starts nothing; another tenant's DPO gets 404 for the page,
// both downloads and the verify POST; an auditor sees the record and runs
// the verification to OK.
func TestConsoleRecordHTTP(t *testing.T) {
	env := newTestEnv(t, 20, recordSensitiveMap(t))
	lead := env.scenario(t, "lead_somente_consentimento")
	for i := range 3 {
		env.createREST(t, keyBackend, map[string]any{"kind": "CONFIRM", "subject": map[string]any{"email": lead.Email},
			"idempotency_key": "registro-" + string(rune('a'+i))})
	}
	page := env.baseURL + "/console/t/demo/registro"

	dpo, dpoToken := consoleSignIn(t, env, keyDPO)
	start := time.Now()
	code, _, body := consoleGet(t, dpo, page)
	took := time.Since(start)
	t.Logf("record page answered in %s", took)
	if code != http.StatusOK {
		t.Fatalf("DPO record page: %d", code)
	}
	for _, want := range []string{"Cadastro de cliente", "Gerente de imobiliária parceira", "Consentimentos registrados",
		`data-entity="documento"`, "Sim: Saúde", "⚠ Contém dados sensíveis", `id="ledger-size"`, `id="verify-never"`,
		`aria-current="page"`, "Cumprimento de obrigação legal ou regulatória (LGPD art. 7º, II); dados sensíveis: LGPD art. 11, II, a"} {
		if !strings.Contains(body, want) {
			t.Errorf("record page lacks %q", want)
		}
	}
	if strings.Contains(body, `http-equiv="refresh"`) {
		t.Error("the page refreshes itself with no run going")
	}
	// The sensitive flag is on the documents' entity only.
	if n := strings.Count(body, `class="entity sensitive"`); n != 1 || !strings.Contains(body, `<section class="entity sensitive" id="entidade-8"`) {
		t.Errorf("%d entities flagged sensitive, want the documents (8th) only", n)
	}
	if strings.Contains(body, lead.Email) {
		t.Error("the record page shows a titular's e-mail")
	}

	xlsx := recordDownload(t, dpo, page+".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatalf("the XLSX does not open: %v", err)
	}
	if got := f.GetSheetList(); len(got) != 2 || got[0] != inventory.SheetName || got[1] != inventory.PurposesSheet {
		t.Errorf("sheets %v", got)
	}
	if v, _ := f.GetCellValue(inventory.SheetName, "A7"); v != "Cadastro de cliente" {
		t.Errorf("A7 = %q", v)
	}
	_ = f.Close()
	rows, err := csv.NewReader(bytes.NewReader(recordDownload(t, dpo, page+".csv", "text/csv; charset=utf-8"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, r := range rows {
		if r[0] == "Documentos do cliente" {
			docs = r
		}
	}
	if len(rows) != 15 || docs == nil || docs[3] != "Sim: Saúde" {
		t.Errorf("CSV: %d rows, documents row %q", len(rows), docs)
	}

	// The verify POST without the token, or with a forged one, is refused
	// and starts nothing.
	for _, form := range []url.Values{nil, {"csrf": {"forjado"}}} {
		if code, _, body := consolePost(t, dpo, page+"/verificar", form); code != http.StatusForbidden || !strings.Contains(body, "CSRF") {
			t.Fatalf("verify POST with csrf %q: %d", form.Get("csrf"), code)
		}
	}
	if _, _, body := consoleGet(t, dpo, page); !strings.Contains(body, `id="verify-never"`) {
		t.Fatal("a refused verify POST started a run")
	}

	// Another tenant's DPO: the demo record, its downloads and its verify
	// do not exist.
	other, otherToken := consoleSignIn(t, env, keyOther)
	for _, u := range []string{page, page + ".xlsx", page + ".csv"} {
		if code, _, body := consoleGet(t, other, u); code != http.StatusNotFound || strings.Contains(body, "Cadastro de cliente") {
			t.Errorf("other tenant's DPO GET %s: %d, want 404 without the record", u, code)
		}
	}
	if code, _, _ := consolePost(t, other, page+"/verificar", url.Values{"csrf": {otherToken}}); code != http.StatusNotFound {
		t.Errorf("other tenant's DPO verify POST: %d, want 404", code)
	}
	if _, _, body := consoleGet(t, dpo, page); !strings.Contains(body, `id="verify-never"`) {
		t.Fatal("another tenant's DPO started a run on demo's ledger")
	}
	// Its own record is there.
	if code, _, body := consoleGet(t, other, env.baseURL+"/console/t/other/registro"); code != http.StatusOK || !strings.Contains(body, "Cadastro de cliente") {
		t.Errorf("other tenant's own record: %d", code)
	}

	// The auditor sees the record and may run the verification.
	aud, audToken := consoleSignIn(t, env, keyAuditor)
	if code, _, body := consoleGet(t, aud, page); code != http.StatusOK || !strings.Contains(body, "Sim: Saúde") || !strings.Contains(body, `id="verify-start"`) {
		t.Fatalf("auditor record page: %d", code)
	}
	recordDownload(t, aud, page+".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	code, loc, _ := consolePost(t, aud, page+"/verificar", url.Values{"csrf": {audToken}})
	if code != http.StatusSeeOther || (loc != "/console/t/demo/registro#verificacao" && loc != "/console/t/demo/registro?ja=1#verificacao") {
		t.Fatalf("auditor verify POST: %d %s", code, loc)
	}
	body = recordWaitOutcome(t, aud, page)
	if !strings.Contains(body, `<strong id="verify-result">OK</strong>`) || strings.Contains(body, "FALHOU") {
		t.Fatalf("verification outcome is not OK: %s", body[strings.Index(body, `id="verificacao"`):])
	}
	// The DPO sees the same run's outcome (runs are per tenant).
	if _, _, body := consoleGet(t, dpo, page); !strings.Contains(body, `<strong id="verify-result">OK</strong>`) {
		t.Error("the DPO does not see the auditor's run")
	}
	// The DPO may run it too; the second run reads the same ledger.
	if code, _, _ := consolePost(t, dpo, page+"/verificar", url.Values{"csrf": {dpoToken}}); code != http.StatusSeeOther {
		t.Fatalf("DPO verify POST: %d", code)
	}
	if body := recordWaitOutcome(t, dpo, page); !strings.Contains(body, `<strong id="verify-result">OK</strong>`) {
		t.Fatal("the DPO's run is not OK")
	}
	if logs := env.logs.String(); !strings.Contains(logs, `"msg":"console: ledger verified","tenant":"demo"`) {
		t.Error("the verification's outcome was not logged")
	}
}

// TestConsoleRecordWitness: with a witness configured (the C2SP test
// witness), the record page lists its cosignature and the console's run
// checks the ledger extends it, from the database and from the copy kept
// in ledger.witnessed_dir; a kept copy that no longer checks out is a
// FALHOU, not a pass.
func TestConsoleRecordWitness(t *testing.T) {
	w, _, withWitness := newTestWitness(t)
	env := newTestEnv(t, 20, withWitness)
	lead := env.scenario(t, "lead_somente_consentimento")
	env.createREST(t, keyBackend, map[string]any{"kind": "CONFIRM", "subject": map[string]any{"email": lead.Email}})
	db := env.demoDB(t)
	var cosigned uint64
	for until := time.Now().Add(deadline); time.Now().Before(until) && cosigned == 0; time.Sleep(100 * time.Millisecond) {
		var head, pending uint64
		var size sql.NullInt64
		if err := db.QueryRow(`SELECT (SELECT size FROM lgpd_ledger_head), (SELECT COUNT(*) FROM lgpd_ledger_pending),
 (SELECT MAX(size) FROM lgpd_ledger_cosignatures WHERE witness = 'test-witness')`).Scan(&head, &pending, &size); err != nil {
			t.Fatal(err)
		}
		if pending == 0 && size.Valid && uint64(size.Int64) == head && head > 0 {
			cosigned = head
		}
	}
	if cosigned == 0 {
		t.Fatalf("the witness did not cosign the ledger (it served %d requests)", w.Requests())
	}

	page := env.baseURL + "/console/t/demo/registro"
	c, token := consoleSignIn(t, env, keyDPO)
	if code, _, body := consoleGet(t, c, page); code != http.StatusOK || !strings.Contains(body, `<table id="witnesses">`) ||
		!strings.Contains(body, fmt.Sprintf("<td>test-witness</td><td>%d</td>", cosigned)) {
		t.Fatalf("record page: %d, witness cosignature of size %d not listed", code, cosigned)
	}
	if code, _, _ := consolePost(t, c, page+"/verificar", url.Values{"csrf": {token}}); code != http.StatusSeeOther {
		t.Fatalf("verify POST: %d", code)
	}
	body := recordWaitOutcome(t, c, page)
	if !strings.Contains(body, `<strong id="verify-result">OK</strong>`) ||
		strings.Count(body, fmt.Sprintf("Testemunha test-witness: cossinou o tamanho %d, que o livro estende.", cosigned)) != 1 {
		t.Fatalf("verification with a witness: %s", body[strings.Index(body, `id="verificacao"`):])
	}

	// The copy kept outside the database altered: the run fails.
	if err := os.WriteFile(env.cfg.WitnessedFile("demo", "test-witness"), []byte("not a cosigned checkpoint\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := consolePost(t, c, page+"/verificar", url.Values{"csrf": {token}}); code != http.StatusSeeOther {
		t.Fatalf("verify POST: %d", code)
	}
	body = recordWaitOutcome(t, c, page)
	if !strings.Contains(body, "FALHOU") || !strings.Contains(body, "com uma cossinatura") || !strings.Contains(body, "kept outside the database") {
		t.Fatalf("altered kept cosignature: %s", body[strings.Index(body, `id="verificacao"`):])
	}
}
