package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/titular/titular/internal/brtime"
	"github.com/xuri/excelize/v2"
)

// header is the per-kind table's heading, as the CSV and the XLSX's
// "Por mês e tipo" sheet write it. Never modified.
var header = []string{"Mês", "Tipo", "Tipo (código)", "Recebidas", "Concluídas", "Concluídas no prazo",
	"Concluídas em até 15 dias", "% concluídas em até 15 dias", "Vencidas em aberto", "Mediana de dias para concluir"}

// utf8BOM opens the CSV so spreadsheet programs read its accents as UTF-8.
const utf8BOM = "\uFEFF"

// WriteCSV writes r as CSV (RFC 4180, comma-separated, UTF-8 with a
// byte-order mark, decimals with a point): the heading, then a line per
// month and kind, months in order and kinds in Art. 18's. The share and
// the median are empty where nothing was completed.
func WriteCSV(w io.Writer, r Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return fmt.Errorf("report: writing CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	for _, m := range r.Months {
		for _, k := range m.sortedKinds() {
			share, median := "", ""
			if sh, ok := k.Share15(); ok {
				share = strconv.FormatFloat(sh*100, 'f', 1, 64)
				median = strconv.FormatFloat(k.MedianDays, 'f', 1, 64)
			}
			_ = cw.Write([]string{m.Key(), KindName(k.Kind), k.Kind, itoa(k.Received), itoa(k.Completed), itoa(k.CompletedOnTime),
				itoa(k.CompletedWithin15Days), share, itoa(k.Overdue), median})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: writing CSV: %w", err)
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Sheet names of the XLSX.
const (
	SheetMonths = "Por mês"
	SheetKinds  = "Por mês e tipo"
)

// tableRow is the sheet row of each sheet's heading: the title and the
// date come first.
const tableRow = 4

// WriteXLSX writes r as a workbook: "Por mês" with each month's totals
// (all kinds) and "Por mês e tipo" with the CSV's lines; numbers are
// numbers (shares formatted as percentages), each sheet prints landscape,
// fitted to the width, with its heading on every page.
func WriteXLSX(w io.Writer, r Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	if err := fillWorkbook(f, r); err != nil {
		return fmt.Errorf("report: building XLSX: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("report: writing XLSX: %w", err)
	}
	return nil
}

type styles struct{ title, head, pct, dec int }

func newStyles(f *excelize.File) (styles, error) {
	var s styles
	var err error
	if s.title, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}); err != nil {
		return s, err
	}
	if s.head, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE4EE"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}); err != nil {
		return s, err
	}
	pct := "0.0%"
	if s.pct, err = f.NewStyle(&excelize.Style{CustomNumFmt: &pct}); err != nil {
		return s, err
	}
	dec := "0.0"
	s.dec, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dec})
	return s, err
}

func fillWorkbook(f *excelize.File, r Report) error {
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	if err := f.SetSheetName("Sheet1", SheetMonths); err != nil {
		return err
	}
	if _, err := f.NewSheet(SheetKinds); err != nil {
		return err
	}
	title := "Relatório de solicitações dos titulares"
	if r.Tenant != "" {
		title += " — " + r.Tenant
	}
	monthsHead := []string{"Mês", "Recebidas", "Concluídas", "Concluídas no prazo", "Concluídas em até 15 dias",
		"% concluídas em até 15 dias", "Vencidas em aberto"}
	var monthRows, kindRows [][]any
	for _, m := range r.Months {
		t := m.Total()
		monthRows = append(monthRows, []any{m.Label(), t.Received, t.Completed, t.CompletedOnTime, t.CompletedWithin15Days, share(t), t.Overdue})
		for _, k := range m.sortedKinds() {
			var median any
			if k.Completed > 0 {
				median = k.MedianDays
			}
			kindRows = append(kindRows, []any{m.Label(), KindName(k.Kind), k.Kind, k.Received, k.Completed, k.CompletedOnTime,
				k.CompletedWithin15Days, share(k), k.Overdue, median})
		}
	}
	stamp := "Gerado em " + r.Generated.In(brtime.Location()).Format("02/01/2006 15:04") + " (horário de Brasília)"
	if err := sheet(f, st, SheetMonths, title, stamp, monthsHead, monthRows, map[int]int{5: st.pct}); err != nil {
		return err
	}
	return sheet(f, st, SheetKinds, title, stamp, header, kindRows, map[int]int{7: st.pct, 9: st.dec})
}

// share is k's share within 15 days as a cell: a number, or nothing when
// none was completed.
func share(k KindCount) any {
	if sh, ok := k.Share15(); ok {
		return sh
	}
	return nil
}

// sheet writes one table under its title; numFmt styles columns (0-based)
// holding shares and days.
func sheet(f *excelize.File, st styles, name, title, stamp string, head []string, rows [][]any, numFmt map[int]int) error {
	if err := f.SetCellValue(name, "A1", title); err != nil {
		return err
	}
	if err := f.SetCellStyle(name, "A1", "A1", st.title); err != nil {
		return err
	}
	if err := f.SetCellValue(name, "A2", stamp); err != nil {
		return err
	}
	for i, h := range head {
		col, _ := excelize.ColumnNumberToName(i + 1)
		cell := fmt.Sprintf("%s%d", col, tableRow)
		if err := f.SetCellValue(name, cell, h); err != nil {
			return err
		}
		if err := f.SetCellStyle(name, cell, cell, st.head); err != nil {
			return err
		}
		if err := f.SetColWidth(name, col, col, 16); err != nil {
			return err
		}
	}
	if err := f.SetRowHeight(name, tableRow, 45); err != nil {
		return err
	}
	for n, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, tableRow+1+n)
		if err := f.SetSheetRow(name, cell, &row); err != nil {
			return err
		}
		for col, style := range numFmt {
			c, _ := excelize.CoordinatesToCellName(col+1, tableRow+1+n)
			if err := f.SetCellStyle(name, c, c, style); err != nil {
				return err
			}
		}
	}
	landscape, a4, one, zero, yes := "landscape", 9, 1, 0, true
	if err := f.SetPageLayout(name, &excelize.PageLayoutOptions{Orientation: &landscape, Size: &a4, FitToWidth: &one, FitToHeight: &zero}); err != nil {
		return err
	}
	if err := f.SetSheetProps(name, &excelize.SheetPropsOptions{FitToPage: &yes}); err != nil {
		return err
	}
	return f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", Scope: name,
		RefersTo: fmt.Sprintf("'%s'!$%d:$%d", name, tableRow, tableRow)})
}
