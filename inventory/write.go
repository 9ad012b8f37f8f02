package inventory

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/titular/titular/internal/brtime"
	"github.com/xuri/excelize/v2"
)

// Title heads the record's sheet.
const Title = "Registro das operações de tratamento de dados pessoais (LGPD art. 37)"

// The workbook's sheets: the record by entity, then by purpose.
const (
	SheetName     = "Registro de tratamento"
	PurposesSheet = "Finalidades"
)

// purposeColumns are the "Finalidades" sheet's table. Never modified.
var purposeColumns = []column{
	{"Finalidade", 24, nil},
	{"Descrição", 46, nil},
	{"Base legal", 34, nil},
	{"Dados (entidades)", 34, nil},
	{"Compartilhado com", 30, nil},
}

// purposeLine is p's line of the "Finalidades" sheet.
func purposeLine(p PurposeEntry) []string {
	shared := "Não compartilhado"
	if len(p.SharedWith) > 0 {
		shared = strings.Join(p.SharedWith, "; ")
	}
	data := "Nenhum dado mapeado"
	if len(p.Data) > 0 {
		data = strings.Join(p.Data, "; ")
	}
	bases := "—"
	if len(p.Bases) > 0 {
		bases = strings.Join(p.Bases, "; ")
	}
	return []string{p.Name, p.Description, bases, data, shared}
}

// column is one column of the record's table: its heading, its width in
// the XLSX and how an entry fills it.
type column struct {
	head  string
	width float64
	cell  func(Entry) string
}

// columns are the record's table, in order. Never modified.
var columns = []column{
	{"Dados (entidade)", 22, func(e Entry) string { return e.Label }},
	{"Tabela no CRM", 14, func(e Entry) string { return e.Table }},
	{"Categorias de dados", 26, Entry.CategoriesText},
	{"Dados sensíveis (art. 5º, II)", 16, Entry.SensitiveText},
	{"Dados pessoais tratados", 34, func(e Entry) string { return strings.Join(e.Fields, "; ") }},
	{"Finalidade", 22, func(e Entry) string { return e.PurposeName }},
	{"Base legal", 28, func(e Entry) string { return e.LegalBasisText }},
	{"Origem dos dados", 26, func(e Entry) string { return e.Origin }},
	{"Compartilhado com", 26, Entry.SharedText},
	{"Retenção", 40, func(e Entry) string { return e.Retention }},
}

// Header is the record table's heading line, as the CSV and the XLSX
// write it.
func Header() []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = c.head
	}
	return out
}

// Line is e's line of the record table.
func (e Entry) Line() []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = c.cell(e)
	}
	return out
}

// utf8BOM opens the CSV so spreadsheet programs read its accents as UTF-8.
const utf8BOM = "\uFEFF"

// WriteCSV writes the record's table as CSV (RFC 4180, comma-separated,
// UTF-8 with a byte-order mark): the heading line, then a line per entry.
// The controller and the DPO are in the XLSX only: a CSV is one table.
func WriteCSV(w io.Writer, r *Record) error {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return fmt.Errorf("inventory: writing CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(Header()); err != nil {
		return fmt.Errorf("inventory: writing CSV: %w", err)
	}
	for _, e := range r.Entries {
		if err := cw.Write(e.Line()); err != nil {
			return fmt.Errorf("inventory: writing CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("inventory: writing CSV: %w", err)
	}
	return nil
}

// headerRow is the sheet row of the table's heading: the title, the
// controller, the DPO and the date come first.
const headerRow = 6

// WriteXLSX writes the record as a workbook of one sheet, ready to print:
// A4 landscape, fitted to the page width, the table's heading repeated on
// every page, texts wrapped, page numbers in the footer. An entity is a
// few dozen rows at most, so the whole sheet is built in memory.
func WriteXLSX(w io.Writer, r *Record) error {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	if err := fillSheet(f, r); err != nil {
		return fmt.Errorf("inventory: building XLSX: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("inventory: writing XLSX: %w", err)
	}
	return nil
}

func fillSheet(f *excelize.File, r *Record) error {
	if err := f.SetSheetName("Sheet1", SheetName); err != nil {
		return err
	}
	s := SheetName
	title, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	if err != nil {
		return err
	}
	label, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	border := []excelize.Border{{Type: "left", Color: "999999", Style: 1}, {Type: "right", Color: "999999", Style: 1},
		{Type: "top", Color: "999999", Style: 1}, {Type: "bottom", Color: "999999", Style: 1}}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE4EE"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	wrap, err := f.NewStyle(&excelize.Style{Border: border, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	set := func(cell string, v any, style int) error {
		if err := f.SetCellValue(s, cell, v); err != nil {
			return err
		}
		return f.SetCellStyle(s, cell, cell, style)
	}
	lines := []struct{ k, v string }{
		{"Controlador", r.Controller.Name + " — " + r.Controller.Contact},
		{"Encarregado (art. 41)", r.DPO.Name + " — " + r.DPO.Contact},
		{"Gerado em", r.Generated.In(brtime.Location()).Format("02/01/2006 15:04") + " (horário de Brasília)"},
	}
	if err := set("A1", Title, title); err != nil {
		return err
	}
	for i, l := range lines {
		if err := set(fmt.Sprintf("A%d", i+2), l.k, label); err != nil {
			return err
		}
		if err := f.SetCellValue(s, fmt.Sprintf("B%d", i+2), l.v); err != nil {
			return err
		}
	}
	rows := make([][]string, len(r.Entries))
	for i, e := range r.Entries {
		rows[i] = e.Line()
	}
	if err := table(f, s, columns, rows, head, wrap); err != nil {
		return err
	}
	if err := printSetup(f, s); err != nil {
		return err
	}
	p := PurposesSheet
	if _, err := f.NewSheet(p); err != nil {
		return err
	}
	if err := f.SetCellValue(p, "A1", "Finalidades do tratamento (LGPD art. 37 e art. 9º, I)"); err != nil {
		return err
	}
	if err := f.SetCellStyle(p, "A1", "A1", title); err != nil {
		return err
	}
	if err := f.SetCellValue(p, "A2", "Cada finalidade com a sua base legal, os dados que usa e com quem são compartilhados; o detalhe de cada dado está na folha "+SheetName+"."); err != nil {
		return err
	}
	rows = make([][]string, len(r.Purposes))
	for i, pe := range r.Purposes {
		rows[i] = purposeLine(pe)
	}
	if err := table(f, p, purposeColumns, rows, head, wrap); err != nil {
		return err
	}
	return printSetup(f, p)
}

// table writes cols' heading at headerRow and lines under it, each row as
// tall as its most wrapped cell: neither LibreOffice nor Excel sizes a
// wrapped row written without a height, and it would print one line of
// each text.
func table(f *excelize.File, s string, cols []column, lines [][]string, head, wrap int) error {
	heads := make([]string, len(cols))
	for i, c := range cols {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(s, col, col, c.width); err != nil {
			return err
		}
		ref := fmt.Sprintf("%s%d", col, headerRow)
		if err := f.SetCellValue(s, ref, c.head); err != nil {
			return err
		}
		if err := f.SetCellStyle(s, ref, ref, head); err != nil {
			return err
		}
		heads[i] = c.head
	}
	if err := f.SetRowHeight(s, headerRow, rowHeight(cols, heads)); err != nil {
		return err
	}
	for n, line := range lines {
		row := headerRow + 1 + n
		for i, v := range line {
			col, _ := excelize.ColumnNumberToName(i + 1)
			ref := fmt.Sprintf("%s%d", col, row)
			if err := f.SetCellValue(s, ref, v); err != nil {
				return err
			}
			if err := f.SetCellStyle(s, ref, ref, wrap); err != nil {
				return err
			}
		}
		if err := f.SetRowHeight(s, row, rowHeight(cols, line)); err != nil {
			return err
		}
	}
	return nil
}

// lineHeight is the height in points of one line of 11-point text.
const lineHeight = 15

// rowHeight is the height of a row holding line, wrapped in the columns'
// widths: its tallest cell's lines. A column of width w holds about w
// characters a line (the width unit is a digit, wider than most letters);
// words are not split, so the estimate counts them whole.
func rowHeight(cols []column, line []string) float64 {
	most := 1
	for i, v := range line {
		if n := wrappedLines(v, int(cols[i].width)); n > most {
			most = n
		}
	}
	return float64(most * lineHeight)
}

// wrappedLines counts the lines text takes wrapped at width characters.
func wrappedLines(text string, width int) int {
	lines := 0
	for _, para := range strings.Split(text, "\n") {
		lines++
		used := 0
		for _, w := range strings.Fields(para) {
			n := utf8.RuneCountInString(w)
			switch {
			case used == 0:
				used = n
			case used+1+n <= width:
				used += 1 + n
			default:
				lines++
				used = n
			}
			for used > width { // a word longer than the line breaks anywhere
				lines++
				used -= width
			}
		}
	}
	return lines
}

// printSetup makes the sheet print as a person reads it: landscape A4, all
// columns on the page's width, the heading row on every page.
func printSetup(f *excelize.File, s string) error {
	landscape, a4, one, zero, yes := "landscape", 9, 1, 0, true
	if err := f.SetPageLayout(s, &excelize.PageLayoutOptions{Orientation: &landscape, Size: &a4,
		FitToWidth: &one, FitToHeight: &zero}); err != nil {
		return err
	}
	if err := f.SetSheetProps(s, &excelize.SheetPropsOptions{FitToPage: &yes}); err != nil {
		return err
	}
	if err := f.SetHeaderFooter(s, &excelize.HeaderFooterOptions{OddFooter: "&L" + Title + "&RPágina &P de &N"}); err != nil {
		return err
	}
	if err := f.SetPanes(s, &excelize.Panes{Freeze: true, YSplit: headerRow, TopLeftCell: fmt.Sprintf("A%d", headerRow+1), ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", Scope: s,
		RefersTo: fmt.Sprintf("'%s'!$%d:$%d", s, headerRow, headerRow)})
}
