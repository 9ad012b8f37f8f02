package server

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/export/exporttest"
	"github.com/titular/titular/export/printtest"
	"github.com/titular/titular/seed"
)

// maxPrintedPages bounds the demo buyer's copy on paper: once it took 59
// A4 pages for 13 rows, 4 or 5 columns a page, values cut; then 11, a page
// for each sheet (a spreadsheet starts each sheet on a new page) and 4 for
// the Resumo with its Art. 9 notice. Now the kinds of data flow one after
// another on "Seus dados": 2 pages of Resumo and 2 of data.
const maxPrintedPages = 4

// TestPrintDemoBuyerREST: the demo buyer's EXTRACT, downloaded over REST as
// a titular gets it. LibreOffice prints the XLSX in a few pages, with the
// Resumo's labels beside their values and no value cut; the PDF copy,
// read by poppler, holds the same answer with its accents and page numbers.
// The XLSX printed on 11 pages before the data kinds shared "Seus dados"
// and 5 before the Resumo's notice spread across the page; now 4.
func TestPrintDemoBuyerREST(t *testing.T) {
	env := newTestEnv(t, 50)
	buyer := env.scenario(t, seed.ScenarioBuyer2023)
	created := env.createREST(t, keyBackend, map[string]any{"kind": "EXTRACT", "subject": map[string]any{"cpf": brdoc.FormatCPF(buyer.CPF)}})
	done := env.waitREST(t, created.ID)
	if done.Status != "COMPLETED" || done.Result == nil || done.Result.Extract == nil {
		t.Fatalf("EXTRACT ended %s: %+v", done.Status, done.Result)
	}
	total, _ := strconv.Atoi(done.Result.Extract.TotalRows)
	if total < 10 {
		t.Fatalf("the demo buyer has %d rows; the print test needs the seeded buyer's dozen or so", total)
	}
	formats := map[string]string{}
	for _, x := range done.Exports {
		formats[x.Format] = x.ContentType
	}
	if formats["pdf"] != "application/pdf" || len(formats) != 3 {
		t.Fatalf("exports %v: want json, xlsx and pdf", formats)
	}

	xlsx, _ := env.download(t, done, "xlsx")
	printed := printtest.XLSXToPDF(t, xlsx)
	pages := printtest.Pages(t, printed)
	t.Logf("%d rows print on %d pages", total, pages)
	book, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatal(err)
	}
	sheets := book.GetSheetList()
	entities := exporttest.XLSXEntities(t, book)
	_ = book.Close()
	// The buyer's few rows of each kind are blocks of one sheet, which
	// prints across pages instead of a page per kind.
	if !slices.Equal(sheets, []string{"Resumo", "Seus dados"}) || len(entities) < 5 {
		t.Errorf("sheets %q with %d entities: want Resumo and Seus dados holding each kind of data the buyer has", sheets, len(entities))
	}
	if pages > maxPrintedPages {
		t.Errorf("LibreOffice prints the XLSX of %d rows on %d pages, want at most %d", total, pages, maxPrintedPages)
	}
	keep(t, "copia.xlsx", xlsx)
	keep(t, "copia-xlsx-impressa.pdf", printed)
	paper := printtest.Text(t, printed)
	lines := []string{
		`Protocolo da solicitação\s+` + regexp.QuoteMeta(created.ID),
		`Controlador\s+Incorporadora Teste Ltda`,
		`Página 1 de ` + strconv.Itoa(pages),
		// The Resumo's data table names each purpose, not its code
		// (cadastro_cliente).
		`Cadastro de cliente\s+Cadastro de clientes\s+Execução de contrato`,
	}
	// Each kind of data is titled with its count, in full on paper.
	for _, e := range entities {
		lines = append(lines, regexp.QuoteMeta(e.Label)+` \(`+strconv.Itoa(e.Count)+` registros?\)`)
	}
	for _, line := range lines {
		if !regexp.MustCompile(line).MatchString(paper) {
			t.Errorf("the printed XLSX has no line matching %q", line)
		}
	}
	if !strings.Contains(paper, buyer.Email) {
		t.Error("the printed XLSX cuts the buyer's e-mail")
	}
	if strings.Contains(paper, "TRUE") || strings.Contains(paper, "VERDADEIRO") {
		t.Error("the printed XLSX shows a spreadsheet's boolean instead of Sim/Não")
	}

	pdf, h := env.download(t, done, "pdf")
	if ct := h.Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("PDF served as %q", ct)
	}
	keep(t, "copia.pdf", pdf)
	copyText := printtest.Text(t, pdf)
	flat := strings.Join(strings.Fields(copyText), " ")
	if strings.Contains(flat, "cadastro_cliente") || !strings.Contains(flat, "Finalidade Cadastro de clientes") {
		t.Error("the PDF copy names the buyer's record's purpose by its code")
	}
	n := printtest.Pages(t, pdf)
	for _, want := range []string{
		"Protocolo da solicitação " + created.ID,
		"Controlador Incorporadora Teste Ltda",
		"Tipo de solicitação Acesso e cópia dos dados (art. 18, II e V) — EXTRACT",
		"E-mail informado " + buyer.Email,
		"CPF " + brdoc.FormatCPF(buyer.CPF),
		"Resumo dos dados",
		"Total " + strconv.Itoa(total),
		"Página " + strconv.Itoa(n) + " de " + strconv.Itoa(n),
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the PDF copy lacks %q", want)
		}
	}
	// The buyer's name as the CRM spells it, accents and all.
	if !strings.Contains(flat, strings.Join(strings.Fields(buyer.FullName), " ")) {
		t.Error("the PDF copy lacks the buyer's full name")
	}
}

// keep writes a file the test read into $TITULAR_PRINT_DIR, when set, for
// a person to look at what was printed.
func keep(t *testing.T, name string, b []byte) {
	if dir := os.Getenv("TITULAR_PRINT_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Errorf("keeping %s: %v", name, err)
		}
	}
}
