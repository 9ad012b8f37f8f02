package export

import (
	"archive/zip"
	"bytes"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/titular/titular/export/printtest"
)

// xlsxParts writes fx as XLSX and returns the workbook's parts by name.
func xlsxParts(t *testing.T, fx fixture) (map[string]string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := feed(NewXLSX(&buf), fx); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]string{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		parts[f.Name] = string(b)
	}
	return parts, buf.Bytes()
}

// printFixture is the shape of the demo buyer's copy: a wide record
// (12 columns), a narrow entity with 13 rows and one with none.
func printFixture() fixture {
	fx := newFixture()
	fx.rows[0] = fx.rows[0][:1]
	fx.rows[2] = fx.rows[2][:13]
	fx.entities, fx.rows = fx.entities[:3], fx.rows[:3]
	return fx
}

// Every sheet prints on A4 landscape fitted to the page width with page
// numbers; "Seus dados" holds both entities with rows, a sheet of their
// own repeats its header row on every page; a row whose texts wrap is as
// tall as its lines.
func TestXLSXPrintSetup(t *testing.T) {
	parts, _ := xlsxParts(t, printFixture())
	for _, sheet := range []string{"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"} {
		x, ok := parts[sheet]
		if !ok {
			t.Fatalf("no %s", sheet)
		}
		for _, want := range []string{`<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>`,
			`<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>`,
			`&amp;RPágina &amp;P de &amp;N`} {
			if !strings.Contains(x, want) {
				t.Errorf("%s lacks %s", sheet, want)
			}
		}
	}
	if _, ok := parts["xl/worksheets/sheet3.xml"]; ok {
		t.Error("a third sheet: the two entities with rows share \"Seus dados\"")
	}
	wb := parts["xl/workbook.xml"]
	if want := `<sheet name="Seus dados" sheetId="2" r:id="rId2"/>`; !strings.Contains(wb, want) || strings.Contains(wb, "Print_Titles") {
		t.Errorf("workbook.xml: want %s and no repeated titles:\n%s", want, wb)
	}
	// The Resumo's legal basis (40 wide) and retention texts wrap: their
	// rows are sized, the others keep the default height.
	if !regexp.MustCompile(`<row r="\d+" ht="(30|45|60)" customHeight="1">`).MatchString(parts["xl/worksheets/sheet1.xml"]) {
		t.Error("no sized row in the Resumo")
	}
	// With 1000 rows the leads have their own sheet, after "Seus dados",
	// its header row on every page.
	parts, _ = xlsxParts(t, newFixture())
	want := `<definedName name="_xlnm.Print_Titles" localSheetId="2">'Leads contatos interesse site'!$1:$1</definedName>`
	if wb := parts["xl/workbook.xml"]; !strings.Contains(wb, want) {
		t.Errorf("workbook.xml lacks %s:\n%s", want, wb)
	}
}

func TestWrappedLines(t *testing.T) {
	for _, c := range []struct {
		s    string
		per  int
		want int
	}{
		{"", 10, 1},
		{"curto", 10, 1},
		{"duas palavras", 10, 2},
		{"exatamente", 10, 1},
		{"a b c d e f", 3, 3},
		{"linha um\nlinha dois", 40, 2},
		{"pedro.freitas1@example.com", 10, 3}, // one word, broken
		{"x pedro.freitas1@example.com", 10, 4},
	} {
		if got := wrappedLines(c.s, c.per); got != c.want {
			t.Errorf("wrappedLines(%q, %d) = %d, want %d", c.s, c.per, got, c.want)
		}
	}
}

func TestFieldHeader(t *testing.T) {
	for _, c := range []struct{ name, label, want string }{
		{"idcorretor", "Corretor responsável", "Corretor responsável (código interno)"},
		{"corretor_id", "Corretor", "Corretor (código interno)"},
		{"idpessoa", "Código", "Código"},
		{"idconjuge", "Cônjuge (referência ao cadastro do cônjuge)", "Cônjuge (referência ao cadastro do cônjuge)"},
		{"idade", "Idade", "Idade"},
		{"identidade", "RG", "RG"},
		{"nome", "", "nome"},
	} {
		if got := fieldHeader(Field{Name: c.name, Label: c.label}); got != c.want {
			t.Errorf("fieldHeader(%s, %q) = %q, want %q", c.name, c.label, got, c.want)
		}
	}
}

// The complaint, checked by printing: LibreOffice printed 13 rows
// as 59 pages, 4 or 5 columns a page, values cut, the Resumo's labels and
// values on different pages. Now the Resumo is one page and the data one
// more, the wide record reading down the page, and nothing is cut.
func TestXLSXPrintsOnFewPages(t *testing.T) {
	_, xlsx := xlsxParts(t, printFixture())
	pdf := printtest.XLSXToPDF(t, xlsx)
	if pages := printtest.Pages(t, pdf); pages != 2 {
		t.Errorf("the workbook prints on %d pages, want 2", pages)
	}
	text := printtest.Text(t, pdf)
	for _, line := range []string{
		`Protocolo da solicitação\s+01JQ7Z3K9V-req`,
		`Interações\s+.*sem registros`,
		`Pessoa exposta politicamente\s+Sim`,
		`Nome\s+João da Conceição — ç ã <&>`,
		`13\s+lead12@example\.com\s+02/03/2026 09:42:00`,
		`Código\s+E-mail\s+Criado em`,
		`Cadastro de pessoa — cônjuge \(1 registro\)`,
		`Leads: contatos/interesse \[site\]\* \(13 registros\)`,
		`Página 2 de 2`,
	} {
		if !regexp.MustCompile(line).MatchString(text) {
			t.Errorf("the printed workbook has no line matching %q", line)
		}
	}
}

// Blocks whose columns add up to more than a page narrow together, their
// texts wrapping, but no column below a date, a number or a word it holds
// (up to maxWordWidth): an e-mail stays whole, a digest breaks.
func TestBlockWidths(t *testing.T) {
	email := "comprador.exemplo@example.com"
	digest := strings.Repeat("ab", 32)
	blocks := []dataBlock{
		{widths: []float64{45, 45, 45, 45}, lines: [][]any{{email, "uma frase longa que pode quebrar em linhas", digest, int64(1234567890123)}}},
		{widths: []float64{20, 60, 60, 60, 21}, lines: [][]any{{"Campo", "x", "y", "z", cell{style: styleDateTime}}}},
	}
	got := blockWidths(blocks)
	if len(got) != 5 {
		t.Fatalf("widths %v", got)
	}
	if s := sum(got); s > wideSheet+10 {
		t.Errorf("widths %v add up to %v, want about %v", got, s, float64(wideSheet))
	}
	if got[0] < float64(len(email)+2) || got[2] >= 60 || got[3] < 15 || got[4] < 21 {
		t.Errorf("widths %v: want the e-mail whole, the digest broken, the number and the date whole", got)
	}
	narrow := []dataBlock{{widths: []float64{12, 30}, lines: [][]any{{"a", "b"}}}}
	if got := blockWidths(narrow); !slices.Equal(got, []float64{12, 30}) {
		t.Errorf("a sheet that fits keeps its widths: %v", got)
	}
}
