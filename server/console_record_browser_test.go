package server

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/titular/titular/export/printtest"
	"github.com/titular/titular/inventory"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/store/storetest"
)

// recordTamper does what a DBA could behind titular's back: drops the
// append-only trigger and copies entry 0's leaf and hash over entry 1's,
// a leaf that decodes and matches its stored hash, so only the leaf's
// authentication tag and the tree give it away.
func recordTamper(t *testing.T, db *sql.DB) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := storetest.UnderTriggerLock(ctx, conn, func() error {
		_, err := conn.ExecContext(ctx, "DROP TRIGGER lgpd_ledger_entries_no_update")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var leaf []byte
	if err := db.QueryRow("SELECT leaf FROM lgpd_ledger_entries WHERE seq = 0").Scan(&leaf); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE lgpd_ledger_entries SET leaf = ?, leaf_hash = ? WHERE seq = 1", leaf, ledger.HashLeaf(leaf)); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleRecordInChromium drives the Registro page in real Chromium:
// the DPO opens it from the nav, the demo's entities are listed with the
// sensitive one flagged in words; the XLSX downloaded with the session's
// cookie opens (sheets, a known entity's row) and LibreOffice prints it;
// a verification of the ledger runs to OK; after a leaf is altered in the
// database a second run says FALHOU and names the entry.
func TestConsoleRecordInChromium(t *testing.T) {
	env := newTestEnv(t, 20, recordSensitiveMap(t))
	lead := env.scenario(t, "lead_somente_consentimento")
	for _, k := range []string{"registro-a", "registro-b", "registro-c"} {
		env.createREST(t, keyBackend, map[string]any{"kind": "CONFIRM", "subject": map[string]any{"email": lead.Email}, "idempotency_key": k})
	}
	shots := screenshots(t)
	ctx := browser(t)

	step(ctx, t, "sign-in page", chromedp.Navigate(env.baseURL+"/console/entrar"), chromedp.WaitVisible(chromedp.ID("api_key")))
	if code := navigate(ctx, t, "DPO sign-in", chromedp.SendKeys(chromedp.ID("api_key"), keyDPO), chromedp.Click(chromedp.ID("signin-submit"))); code != http.StatusOK {
		t.Fatalf("DPO sign-in: %d", code)
	}
	step(ctx, t, "open Registro", chromedp.Click(chromedp.CSS(`a[href="/console/t/demo/registro"]`)), chromedp.WaitVisible(chromedp.ID("entities-h")),
		chromedp.WaitReady(chromedp.ID("verificacao")))
	if cur := value(ctx, t, "current", chromedp.Text(chromedp.CSS(`a[aria-current="page"]`))); cur != "Registro (Art. 37)" {
		t.Fatalf("current nav entry %q", cur)
	}
	if title := value(ctx, t, "title", chromedp.Title()); !strings.HasPrefix(title, "Registro das operações de tratamento") {
		t.Fatalf("title %q", title)
	}
	entities := value(ctx, t, "entities", chromedp.Evaluate[[]string](`[...document.querySelectorAll('section.entity')].map(s =>
		s.dataset.entity + '|' + s.querySelector('h3').textContent.trim() + '|' + s.querySelector('[data-sensitive]').textContent.trim())`))
	if len(entities) != 14 {
		t.Fatalf("%d entities listed, want the map's 13 and the consent records: %v", len(entities), entities)
	}
	var flagged []string
	for _, e := range entities {
		parts := strings.Split(e, "|")
		if strings.Contains(parts[1], "Contém dados sensíveis") {
			flagged = append(flagged, parts[0])
			if !strings.Contains(parts[2], "Sim: Saúde") {
				t.Errorf("entity %s flagged in its heading, but its sensitive row says %q", parts[0], parts[2])
			}
		} else if parts[2] != "Não" {
			t.Errorf("entity %s not flagged, but its sensitive row says %q", parts[0], parts[2])
		}
	}
	if len(flagged) != 1 || flagged[0] != "documento" || !strings.HasPrefix(entities[0], "pessoa|Cadastro de cliente|") {
		t.Fatalf("flagged %v (want the documents only); first entity %q", flagged, entities[0])
	}
	if got := value(ctx, t, "controller", chromedp.Text(chromedp.ID("record-controller"))); !strings.HasPrefix(got, "Incorporadora Teste Ltda") {
		t.Errorf("controller %q", got)
	}
	if size := value(ctx, t, "ledger size", chromedp.Text(chromedp.ID("ledger-size"))); size == "0" || size == "" {
		t.Errorf("ledger size %q after three requests", size)
	}
	if root := value(ctx, t, "root", chromedp.Text(chromedp.ID("ledger-root"))); len(root) != 64 {
		t.Errorf("checkpoint root %q, want 64 hex digits", root)
	}

	// The XLSX, fetched with the browser's session cookie as a download
	// would be.
	href := value(ctx, t, "xlsx link", chromedp.Evaluate[string](`document.getElementById('download-xlsx').href`))
	h, xlsx := browserGet(ctx, t, href)
	if !strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("XLSX download: disposition %q", h.Get("Content-Disposition"))
	}
	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatalf("the XLSX does not open: %v", err)
	}
	if got := f.GetSheetList(); len(got) != 2 || got[0] != inventory.SheetName || got[1] != inventory.PurposesSheet {
		t.Errorf("sheets %v", got)
	}
	row, err := f.GetRows(inventory.SheetName)
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, r := range row {
		if len(r) > 3 && r[0] == "Documentos do cliente" {
			docs = r
		}
	}
	if docs == nil || docs[1] != "documentos" || docs[3] != "Sim: Saúde" || !strings.Contains(docs[4], "Laudo médico (arquivo)") {
		t.Errorf("the documents' row %q", docs)
	}
	_ = f.Close()
	if text := printtest.Text(t, printtest.XLSXToPDF(t, xlsx)); !strings.Contains(text, "Cadastro de cliente") || !strings.Contains(text, "Incorporadora Teste Ltda") {
		t.Errorf("LibreOffice's PDF of the record lacks the entity or the controller:\n%s", text)
	}

	// A verification run: the page follows it to OK.
	if code := navigate(ctx, t, "start verify", chromedp.Click(chromedp.ID("verify-start"))); code != http.StatusOK {
		t.Fatalf("verify start led to %d", code)
	}
	recordBrowserOutcome(ctx, t, "#verify-outcome", "after the first run")
	if got := value(ctx, t, "outcome", chromedp.Text(chromedp.ID("verify-result"))); got != "OK" {
		t.Fatalf("verification outcome %q, want OK: %s", got, value(ctx, t, "section", chromedp.Text(chromedp.ID("verificacao"))))
	}
	if role := value(ctx, t, "role", chromedp.Evaluate[string](`document.getElementById('verify-outcome').getAttribute('role')`)); role != "status" {
		t.Errorf("OK outcome role %q", role)
	}
	screenshot(ctx, t, shots, "record.png")

	// A leaf altered in the database: the next run fails at it.
	recordTamper(t, env.demoDB(t))
	if code := navigate(ctx, t, "start verify again", chromedp.Click(chromedp.ID("verify-start"))); code != http.StatusOK {
		t.Fatalf("verify start led to %d", code)
	}
	recordBrowserOutcome(ctx, t, "#verify-outcome.failed", "after tampering")
	got := value(ctx, t, "outcome", chromedp.Text(chromedp.ID("verify-outcome")))
	if !strings.Contains(got, "FALHOU") || !strings.Contains(got, "a partir da entrada 1:") || !strings.Contains(got, "leaf authentication failed") {
		t.Fatalf("after tampering the outcome says %q, want FALHOU at entry 1", got)
	}
	if role := value(ctx, t, "role", chromedp.Evaluate[string](`document.getElementById('verify-outcome').getAttribute('role')`)); role != "alert" {
		t.Errorf("FALHOU outcome role %q, want alert", role)
	}
	if html := value(ctx, t, "page", chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, lead.Email) {
		t.Error("the record page shows a titular's e-mail")
	}
	screenshot(ctx, t, shots, "record-falhou.png")
}

// recordBrowserOutcome waits for a verify run's outcome on the record page,
// which refreshes itself while the run goes on; on timeout it says where
// the browser is and what the page shows.
func recordBrowserOutcome(ctx context.Context, t *testing.T, sel, when string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("no outcome %s %s (%v) at %s; the page says: %s", sel, when, err, value(ctx, t, "location", chromedp.Location()),
			value(ctx, t, "section", chromedp.Text(chromedp.ID("verificacao"))))
	}
}
