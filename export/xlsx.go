package export

import (
	"archive/zip"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// saoPaulo is the zone the DPO and the titular read times in. Brazil has
// had no daylight saving since 2019, so without zone data -03:00 is right
// for recent times.
const saoPaulo = "America/Sao_Paulo"

// excelFirstYear is the first year Excel's 1900 date system can hold;
// earlier dates are written as text in the same pt-BR layout.
const excelFirstYear = 1900

// xlsxWriter streams one sheet per entity straight into the zip archive
// (xlsx_ooxml.go) and writes the "Resumo" sheet, first in the workbook, at
// Close once the counts are known.
type xlsxWriter struct {
	seq  sequence
	out  io.Writer
	loc  *time.Location
	zw   *zip.Writer
	meta Meta
	err  error // first write error; every later call returns it

	names *sheetNames
	// sheets are the sheet names in workbook order; the first is Resumo.
	sheets []string

	// open entity
	ent   Entity
	sw    *sheetWriter
	row   []any
	count int

	done []entitySummary
}

// entitySummary is what the Resumo sheet needs of each finished entity.
type entitySummary struct {
	ent   Entity
	sheet string
	rows  int
}

// NewXLSX returns a Writer producing a pt-BR workbook: a "Resumo" sheet,
// then one sheet per entity. Rows go into w as they come (compressed), so
// memory does not grow with rows and no temporary file is written; Close
// adds the Resumo sheet and the workbook's parts. Texts over Excel's
// 32,767-character cell limit are truncated.
func NewXLSX(w io.Writer) Writer {
	loc, err := time.LoadLocation(saoPaulo)
	if err != nil {
		loc = time.FixedZone("-03", -3*60*60)
	}
	return &xlsxWriter{out: w, loc: loc, names: newSheetNames()}
}

func (xw *xlsxWriter) Begin(m Meta) error {
	if err := xw.seq.begin(); err != nil {
		return err
	}
	xw.meta = m
	xw.zw = zip.NewWriter(xw.out)
	xw.sheets = []string{summarySheet}
	return nil
}

func (xw *xlsxWriter) BeginEntity(e Entity) error {
	if xw.err != nil {
		return xw.err
	}
	if len(e.Fields) > maxColumns {
		return fmt.Errorf("%w: entity %q has %d fields, a sheet holds %d columns", ErrInvalidEntity, e.Name, len(e.Fields), maxColumns)
	}
	if err := xw.seq.beginEntity(e); err != nil {
		return err
	}
	label := e.Label
	if label == "" {
		label = e.Name
	}
	sheet := xw.names.name(label)
	xw.sheets = append(xw.sheets, sheet)
	header := make([]any, len(e.Fields))
	widths := make([]float64, len(e.Fields))
	for i, f := range e.Fields {
		text := f.Label
		if text == "" {
			text = f.Name
		}
		header[i] = cell{style: styleHeader, v: text}
		widths[i] = columnWidth(text)
	}
	sw, err := openSheet(xw.zw, "xl/worksheets/sheet"+strconv.Itoa(len(xw.sheets))+".xml", sheetOptions{widths: widths, freezeHeader: true})
	if err != nil {
		return xw.fail(fmt.Errorf("export: sheet of entity %q: %w", e.Name, err))
	}
	if err := sw.writeRow(header); err != nil {
		return xw.fail(fmt.Errorf("export: header of entity %q: %w", e.Name, err))
	}
	xw.ent, xw.sw, xw.count = e, sw, 0
	xw.row = make([]any, len(e.Fields))
	xw.done = append(xw.done, entitySummary{ent: e, sheet: sheet})
	return nil
}

// columnWidth sizes a column from its header before any value is seen:
// wide enough for the label, within bounds that keep the sheet usable.
func columnWidth(label string) float64 {
	w := float64(utf8.RuneCountInString(label) + 4)
	return min(max(w, 12), 50)
}

func (xw *xlsxWriter) WriteRow(values []any) error {
	if xw.err != nil {
		return xw.err
	}
	if err := xw.seq.row(len(values)); err != nil {
		return err
	}
	if err := checkRow(xw.ent.Fields, values); err != nil {
		return err
	}
	for i, v := range values {
		xw.row[i] = xw.cell(v)
	}
	if err := xw.sw.writeRow(xw.row); err != nil {
		return xw.fail(fmt.Errorf("export: row of entity %q: %w", xw.ent.Name, err))
	}
	xw.count++
	return nil
}

// cell converts one checked value to what an Excel cell holds: dates and
// times as serial numbers in a date style, decimals and integers as numbers
// while Excel keeps every digit, anything else as text.
func (xw *xlsxWriter) cell(v any) any {
	switch v := v.(type) {
	case time.Time:
		// Excel times have no zone: show the wall clock in São Paulo.
		local := v.In(xw.loc)
		if local.Year() < excelFirstYear {
			return local.Format("02/01/2006 15:04:05")
		}
		return cell{style: styleDateTime, v: local}
	case Date:
		if v.Year < excelFirstYear {
			return fmt.Sprintf("%02d/%02d/%04d", v.Day, int(v.Month), v.Year)
		}
		return cell{style: styleDate, v: time.Date(v.Year, v.Month, v.Day, 0, 0, 0, 0, time.UTC)}
	case Decimal:
		if f, ok := decimalFloat(v); ok {
			return f
		}
		return string(v)
	case int64:
		// Beyond 15 digits Excel would silently change the last digits.
		if v > excelMaxInt || v < -excelMaxInt {
			return strconv.FormatInt(v, 10)
		}
		return v
	case []byte:
		return "(binário, " + strconv.Itoa(len(v)) + " bytes)"
	default: // nil, string, float64, bool
		return v
	}
}

func (xw *xlsxWriter) EndEntity() error {
	if xw.err != nil {
		return xw.err
	}
	if err := xw.seq.endEntity(); err != nil {
		return err
	}
	xw.done[len(xw.done)-1].rows = xw.count
	if err := xw.sw.close(); err != nil {
		return xw.fail(fmt.Errorf("export: finishing sheet of entity %q: %w", xw.ent.Name, err))
	}
	xw.ent, xw.sw, xw.row = Entity{}, nil, nil
	return nil
}

func (xw *xlsxWriter) Close() error {
	seqErr := xw.seq.close()
	if xw.zw == nil {
		return seqErr
	}
	err := seqErr
	if err == nil {
		err = xw.err
	}
	if err == nil {
		err = xw.finish()
	}
	xw.zw = nil
	return err
}

// finish writes the summary sheet, the workbook's other parts and the zip
// directory.
func (xw *xlsxWriter) finish() error {
	if err := xw.writeSummary(); err != nil {
		return err
	}
	if err := writePackage(xw.zw, xw.sheets, xw.meta); err != nil {
		return fmt.Errorf("export: writing workbook: %w", err)
	}
	if err := xw.zw.Close(); err != nil {
		return fmt.Errorf("export: writing workbook: %w", err)
	}
	return nil
}

// fail records the first write error; the workbook is unusable after it.
func (xw *xlsxWriter) fail(err error) error {
	if xw.err == nil {
		xw.err = err
	}
	return err
}
