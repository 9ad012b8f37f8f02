package export

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/titular/titular/export/exporttest"
)

func writeXLSX(t *testing.T, fx fixture) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := feed(NewXLSX(&buf), fx); err != nil {
		t.Fatalf("feed: %v", err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("reopening workbook: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// cellCheck is one expected cell: formatted text and excelize's type.
type cellCheck struct {
	ref  string
	text string
	typ  excelize.CellType
}

func checkCells(t *testing.T, f *excelize.File, sheet string, cells []cellCheck) {
	t.Helper()
	for _, c := range cells {
		got, err := f.GetCellValue(sheet, c.ref)
		if err != nil {
			t.Fatalf("%s!%s: %v", sheet, c.ref, err)
		}
		typ, err := f.GetCellType(sheet, c.ref)
		if err != nil {
			t.Fatalf("%s!%s: %v", sheet, c.ref, err)
		}
		if got != c.text || typ != c.typ {
			t.Errorf("%s!%s = %q (type %d), want %q (type %d)", sheet, c.ref, got, typ, c.text, c.typ)
		}
	}
}

const (
	number  = excelize.CellTypeUnset // numbers, dates and datetimes carry no t attribute
	text    = excelize.CellTypeInlineString
	boolean = excelize.CellTypeBool
)

func TestXLSXSheets(t *testing.T) {
	f := writeXLSX(t, newFixture())
	// Interações has no rows: nothing (the Resumo says "sem registros").
	// The entities with few rows share "Seus dados"; the one with 1000
	// rows has a sheet of its own.
	want := []string{"Resumo", "Seus dados", "Leads contatos interesse site"}
	if got := f.GetSheetList(); !reflect.DeepEqual(got, want) {
		t.Fatalf("sheets = %q\nwant %q", got, want)
	}
	if f.GetActiveSheetIndex() != 0 {
		t.Errorf("active sheet = %d, want the summary", f.GetActiveSheetIndex())
	}
	var got []string
	for _, e := range exporttest.XLSXEntities(t, f) {
		got = append(got, e.Sheet+"/"+e.Label+"/"+strconv.Itoa(e.Count))
	}
	wantEntities := []string{"Seus dados/Cadastro de pessoa — cônjuge/2", "Seus dados/Leads: contatos/interesse [site]*/1",
		"Leads contatos interesse site/Leads contatos interesse site/1000"}
	if !reflect.DeepEqual(got, wantEntities) {
		t.Errorf("entities = %q\nwant %q", got, wantEntities)
	}
}

func TestXLSXEntitySheet(t *testing.T) {
	f := writeXLSX(t, newFixture())
	const sheet = dataSheet
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows[0], []string{"Cadastro de pessoa — cônjuge (2 registros)"}) {
		t.Fatalf("first block title = %q", rows[0])
	}
	rows = rows[1:] // the block, from its heading
	wantHeader := []string{"Nome", "Código", "Pontuação", "Pessoa exposta politicamente", "Atualizado em", "Data de nascimento",
		"Renda mensal", "Renda (texto)", "Foto", "Observação", "Patrimônio", "Protocolo"}
	// 12 columns and 2 records: too wide for a page, so the records go
	// down the page beside the labels.
	if !reflect.DeepEqual(rows[0], []string{"Campo", "Registro 1", "Registro 2"}) || len(rows[len(wantHeader)+1]) != 0 {
		t.Fatalf("block heading = %q, %d lines", rows[0], len(rows))
	}
	for i, h := range wantHeader {
		if rows[i+1][0] != h {
			t.Errorf("label of field %d = %q, want %q", i, rows[i+1][0], h)
		}
	}
	// The block starts on row 2, below its title.
	checkCells(t, f, sheet, down(transposed([]cellCheck{
		{"A2", "João da Conceição — ç ã <&>", text},
		{"B2", "42", number},
		{"C2", "3.75", number},
		{"D2", "Sim", text},                   // not TRUE/VERDADEIRO
		{"E2", "31/12/2025 23:59:58", number}, // São Paulo wall clock
		{"F2", "09/07/1987", number},
		{"G2", "12345.67", number},
		{"H2", "1.234,56", text}, // not a decimal literal: kept as text
		{"I2", "(binário, 4 bytes)", text},
		{"J2", "", number},                             // nil: no cell
		{"K2", "12345678901234567890.123456789", text}, // more digits than Excel keeps
		{"L2", "1234567890123456789", text},
		{"A3", "Maria Antônia", text},
		{"E3", "02/03/2026 09:30:00", number},
		{"F3", "31/12/1899", text}, // before Excel's first date
		{"G3", "-0.1", number},
		{"J3", "texto com\nquebra", text},
		{"K3", "0", number},
		{"L3", "0", number},
	}), 1))
	// Numbers are stored as numbers, not as formatted text.
	if raw, _ := f.GetCellValue(sheet, "B8", excelize.Options{RawCellValue: true}); raw != "31967" {
		t.Errorf("B8 raw = %q, want Excel serial 31967", raw)
	}
	for _, ref := range []string{"A1", "A2"} { // the title and the heading
		styleID, err := f.GetCellStyle(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		if style, err := f.GetStyle(styleID); err != nil || style.Font == nil || !style.Font.Bold {
			t.Errorf("%s style = %+v, %v; want bold", ref, style, err)
		}
	}
	// A column as wide as its longest value: the name is not cut.
	if w, _ := f.GetColWidth(sheet, "B"); w < float64(utf8.RuneCountInString("João da Conceição — ç ã <&>")) {
		t.Errorf("column B width = %v, want its longest value", w)
	}
	// The second block, after a gap: a narrow entity keeps its header row.
	small := rows[len(wantHeader)+2:]
	if want := [][]string{{"Leads: contatos/interesse [site]* (1 registro)"}, {"Código", "E-mail", "Criado em"}}; !reflect.DeepEqual(small[:2], want) || len(small) != 3 {
		t.Errorf("second block = %q", small)
	}

	leads, err := f.GetRows("Leads contatos interesse site")
	if err != nil {
		t.Fatal(err)
	}
	if len(leads) != manyRows+1 || leads[manyRows][1] != "lead999@example.com" || !reflect.DeepEqual(leads[0], []string{"Código", "E-mail", "Criado em"}) {
		t.Errorf("lead sheet rows = %d, header %q, last = %q", len(leads), leads[0], leads[len(leads)-1])
	}
	// A sheet of its own keeps a header row, frozen, its columns sized
	// from the values: the e-mail is not cut.
	if panes, err := f.GetPanes("Leads contatos interesse site"); err != nil || panes.YSplit != 1 || panes.XSplit != 0 {
		t.Errorf("lead panes = %+v, %v", panes, err)
	}
	if w, _ := f.GetColWidth("Leads contatos interesse site", "B"); w < float64(len("lead999@example.com")) || w > maxColWidth {
		t.Errorf("e-mail column width = %v", w)
	}
	for _, r := range rows {
		if len(r) > 0 && strings.HasPrefix(r[0], "Interações") {
			t.Errorf("the entity with no rows has a block: %q", r)
		}
	}
}

// A wide entity with more records than go down a page beside the labels,
// or any entity with more than ownSheetRows, gets a sheet of its own.
func TestXLSXOwnSheet(t *testing.T) {
	fx := newFixture()
	fx.entities, fx.rows = fx.entities[:1], fx.rows[:1]
	for len(fx.rows[0]) <= maxTransposed {
		fx.rows[0] = append(fx.rows[0], fx.rows[0][0])
	}
	f := writeXLSX(t, fx)
	if got := f.GetSheetList(); !slices.Equal(got, []string{"Resumo", "Cadastro de pessoa — cônjuge"}) {
		t.Fatalf("sheets %q", got)
	}
	es := exporttest.XLSXEntities(t, f)
	if len(es) != 1 || es[0].Transposed || es[0].Count != maxTransposed+1 || es[0].Lines[0][0] != "Nome" {
		t.Errorf("entities %+v", es)
	}
}

// down moves cell references n rows down.
func down(cs []cellCheck, n int) []cellCheck {
	for i, c := range cs {
		col, row, err := excelize.CellNameToCoordinates(c.ref)
		if err != nil {
			panic(err)
		}
		cs[i].ref, _ = excelize.CoordinatesToCellName(col, row+n)
	}
	return cs
}

// transposed moves cell references of a records-as-rows layout to the
// records-as-columns one: field column X of record row n goes to row
// (index of X)+2 of column (n-1)+A.
func transposed(cs []cellCheck) []cellCheck {
	out := make([]cellCheck, len(cs))
	for i, c := range cs {
		col, row, err := excelize.CellNameToCoordinates(c.ref)
		if err != nil {
			panic(err)
		}
		ref, err := excelize.CoordinatesToCellName(row, col+1)
		if err != nil {
			panic(err)
		}
		out[i] = cellCheck{ref: ref, text: c.text, typ: c.typ}
	}
	return out
}

func TestXLSXSummary(t *testing.T) {
	f := writeXLSX(t, newFixture())
	checkCells(t, f, "Resumo", []cellCheck{
		{"A1", summaryTitle, text},
		{"A3", "Controlador", text},
		{"B3", "Incorporadora Exemplo Ltda.", text},
		{"B4", "01JQ7Z3K9V-req", text},
		{"B5", "Acesso e cópia dos dados (art. 18, II e V) — EXTRACT", text},
		{"B7", "02/03/2026 09:30", number},
		{"B8", "17/03/2026 09:30", number},
		{"B9", "05/03/2026 15:45", number},
	})
	rows, err := f.GetRows("Resumo")
	if err != nil {
		t.Fatal(err)
	}
	header := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == "Dados" })
	if header < 0 {
		t.Fatal("no entity table")
	}
	wantHeader := []string{"Dados", "Finalidade", "Base legal", "Origem", "Compartilhado com", "Retenção", "Registros"}
	if !reflect.DeepEqual(rows[header], wantHeader) {
		t.Errorf("entity table header = %q", rows[header])
	}
	wantPessoa := []string{"Cadastro de pessoa — cônjuge",
		"Relacionamento com o cliente e execução do contrato de compra e venda",
		"Execução de contrato (art. 7º, V)", "Informado pelo titular no atendimento",
		"Banco Exemplo S.A. (financiamento); Cartório de Registro de Imóveis",
		"5 anos a contar de Atualizado em (Lei 9.613/1998 art. 10)", "2"}
	if !reflect.DeepEqual(rows[header+1], wantPessoa) {
		t.Errorf("pessoa line = %q\nwant %q", rows[header+1], wantPessoa)
	}
	counts := []string{}
	for _, r := range rows[header+1 : header+6] {
		counts = append(counts, r[0]+"="+r[len(r)-1])
	}
	wantCounts := []string{"Cadastro de pessoa — cônjuge=2", "Interações=sem registros", "Leads: contatos/interesse [site]*=1000",
		"Leads: contatos/interesse [site]*=1", "Total=1003"}
	if !reflect.DeepEqual(counts, wantCounts) {
		t.Errorf("counts = %q\nwant %q", counts, wantCounts)
	}
	if got := rows[header+2][4] + " | " + rows[header+2][5]; got != "Não compartilhado | Sem prazo legal de guarda" {
		t.Errorf("interações sharing/retention = %q", got)
	}

	cats := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == "Categorias" })
	if cats < 0 || len(rows) < cats+2 {
		t.Fatal("no categories")
	}
	got := [][]string{rows[cats], rows[cats+1]}
	want := [][]string{
		{"Categorias", "Biométrico (dado sensível); Contato; Financeiro; Identificação; Outros; Perfil de consumo; Registro de atividade"},
		{"Dados sensíveis (art. 5º, II)", "Biométrico"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("categories = %q\nwant %q", got, want)
	}
}

// Art. 19 II: an answer must also state that no records exist.
func TestXLSXNoRecords(t *testing.T) {
	fx := newFixture()
	fx.entities, fx.rows = fx.entities[1:2], fx.rows[1:2]
	fx.meta.DueAt = time.Time{}
	f := writeXLSX(t, fx)
	rows, err := f.GetRows("Resumo")
	if err != nil {
		t.Fatal(err)
	}
	last := rows[len(rows)-1]
	if len(last) == 0 || !strings.HasPrefix(last[0], "Nenhum registro") {
		t.Errorf("last summary line = %q", last)
	}
	checkCells(t, f, "Resumo", []cellCheck{{"B8", "—", text}})
}

func TestXLSXCloseWriteFailure(t *testing.T) {
	err := feed(NewXLSX(failingWriter{}), newFixture())
	if !errors.Is(err, errDisk) {
		t.Errorf("err = %v, want the writer's error", err)
	}
}

func TestSheetNames(t *testing.T) {
	names := newSheetNames()
	cases := []struct{ label, want string }{
		{"Reservas", "Reservas"},
		{"reservas", "reservas (2)"},
		{"RESUMO", "RESUMO (2)"},
		{"", "Dados"},
		{"[]:*?/\\", "Dados (2)"},
		{"'Citação'", "Citação"},
		{"Documentos anexados pelo corretor ao cadastro", "Documentos anexados pelo"}, // not "… corret"
		{"Documentos anexados pelo corretor ao cadastro", "Documentos anexados pelo (2)"},
		{"Reservas e vendas — distratos, cessões", "Reservas e vendas — distratos"},
		{"Anticonstitucionalissimamentemente longa", "Anticonstitucionalissimamenteme"},
		{"Tab\tand\nnewline", "Tab and newline"},
		{"Emoji 😀 dados pessoais do cliente!", "Emoji 😀 dados pessoais do"},
	}
	for _, c := range cases {
		got := names.name(c.label)
		if got != c.want {
			t.Errorf("name(%q) = %q, want %q", c.label, got, c.want)
		}
		f := excelize.NewFile()
		if _, err := f.NewSheet(got); err != nil {
			t.Errorf("excelize rejects %q: %v", got, err)
		}
		_ = f.Close()
	}
}

// Rows reach the output as they are written, not at Close, and nothing
// is buffered in temporary files; the workbook is whole at the end.
func TestXLSXStreamsRows(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	e, row := benchEntity()
	const rows = 20_000
	var buf bytes.Buffer
	w := NewXLSX(&buf)
	if err := w.Begin(newFixture().meta); err != nil {
		t.Fatal(err)
	}
	if err := w.BeginEntity(e); err != nil {
		t.Fatal(err)
	}
	for range rows {
		if err := w.WriteRow(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.EndEntity(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() < 100_000 {
		t.Errorf("%d bytes out before Close; the rows are being held back", buf.Len())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files written: %d", len(left))
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	it, err := f.Rows("Dados de teste")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.Next() {
		n++
	}
	if err := it.Close(); err != nil || n != rows+1 {
		t.Errorf("rows = %d, %v", n, err)
	}
}

func TestAppendColumn(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA", maxColumns - 1: "XFD"} {
		if got := string(appendColumn(nil, i)); got != want {
			t.Errorf("column %d = %s, want %s", i, got, want)
		}
	}
}

func TestExcelSerial(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want float64
	}{
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 1},
		{time.Date(1900, 2, 28, 0, 0, 0, 0, time.UTC), 59},
		{time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC), 61},
		{time.Date(1987, 7, 9, 0, 0, 0, 0, time.UTC), 31967},
		{time.Date(2025, 12, 31, 12, 0, 0, 0, time.UTC), 46022.5},
		// The wall clock counts, whatever the zone.
		{time.Date(2025, 12, 31, 18, 0, 0, 0, time.FixedZone("-03", -3*3600)), 46022.75},
	} {
		if got := excelSerial(c.t); got != c.want {
			t.Errorf("excelSerial(%s) = %v, want %v", c.t, got, c.want)
		}
	}
}

// Texts Excel or XML could not hold as they are: control characters and
// invalid UTF-8 become U+FFFD, markup is escaped, and a text over Excel's
// cell limit is cut to it; the workbook still opens.
func TestXLSXAwkwardText(t *testing.T) {
	e := Entity{Name: "x", Label: "Sócios & <cia>", Fields: []Field{{Name: "a", Label: "A"}, {Name: "b", Label: "B"}, {Name: "c", Label: "C"}}}
	long := strings.Repeat("ç", maxCellChars+10)
	f := writeXLSX(t, fixture{meta: newFixture().meta, entities: []Entity{e},
		rows: [][][]any{{{"nul\x00 bell\x07 bad\xff ok", " <b>&amp; \"q\"\r\n", long}}}})
	if got := f.GetSheetList(); !slices.Equal(got, []string{"Resumo", dataSheet}) {
		t.Fatalf("sheets %q", got)
	}
	checkCells(t, f, dataSheet, []cellCheck{
		{"A1", "Sócios & <cia> (1 registro)", text},
		{"A3", "nul\uFFFD bell\uFFFD bad\uFFFD ok", text},
		{"B3", " <b>&amp; \"q\"\r\n", text},
	})
	if got, _ := f.GetCellValue(dataSheet, "C3"); got != long[:len(strings.Repeat("ç", maxCellChars))] {
		t.Errorf("long text kept %d characters, want %d", utf8.RuneCountInString(got), maxCellChars)
	}
}
