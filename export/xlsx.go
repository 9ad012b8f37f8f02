package export

import (
	"archive/zip"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/titular/titular/internal/brtime"
)

// saoPaulo is the zone the DPO and the titular read times in. Brazil has
// had no daylight saving since 2019, so without zone data -03:00 is right
// for recent times.
const saoPaulo = "America/Sao_Paulo"

// excelFirstYear is the first year Excel's 1900 date system can hold;
// earlier dates are written as text in the same pt-BR layout.
const excelFirstYear = 1900

// xlsxWriter streams the sheet of each entity with many rows straight into
// the zip archive (xlsx_ooxml.go), keeps the few rows of the others as
// blocks (xlsx_blocks.go), and writes the "Resumo" sheet, first in the
// workbook, and "Seus dados" at Close once the counts are known.
type xlsxWriter struct {
	seq  sequence
	out  io.Writer
	loc  *time.Location
	zw   *zip.Writer
	meta Meta
	err  error // first write error; every later call returns it

	names *sheetNames
	// sheets are the workbook's sheets in order; the first is Resumo. The
	// "Seus dados" sheet goes second at Close, when it has blocks.
	sheets []sheetEntry
	// parts counts the worksheet parts written so far.
	parts int
	// blocks are the entities printed together on "Seus dados": those
	// with a few rows, kept until Close (at most ownSheetRows rows each).
	blocks []dataBlock

	// open entity: its sheet opens with its first sampleRows rows (or at
	// EndEntity), once their widths are known; an entity with no rows gets
	// no sheet.
	ent     Entity
	header  []any
	widths  []float64
	pending [][]any
	sw      *sheetWriter
	row     []any
	count   int

	done []entitySummary
}

// entitySummary is what the Resumo sheet needs of each finished entity.
type entitySummary struct {
	ent   Entity
	sheet string // "" when the entity had no rows and so no sheet; "Seus dados" for a block there
	rows  int
}

// NewXLSX returns a Writer producing a pt-BR workbook: a "Resumo" sheet,
// then a "Seus dados" sheet holding, one titled block after another, every
// entity with a few rows (at most ownSheetRows), then one sheet for each
// entity with more (the Resumo says "sem registros" for entities with
// none). A spreadsheet prints each sheet from a new page: one sheet for the
// small entities lets them flow down the pages instead of taking a page
// each. Every sheet is set up to print on A4 landscape, fitted to the page
// width; an entity's own sheet repeats its header row on each page. The
// rows of large entities go into w as they come (compressed), so memory
// does not grow with rows and no temporary file is written; Close adds the
// Resumo and "Seus dados" sheets and the workbook's parts. Texts over
// Excel's 32,767-character cell limit are truncated.
func NewXLSX(w io.Writer) Writer {
	return &xlsxWriter{out: w, loc: brtime.Location(), names: newSheetNames()}
}

func (xw *xlsxWriter) Begin(m Meta) error {
	if err := xw.seq.begin(); err != nil {
		return err
	}
	xw.meta = m
	xw.zw = zip.NewWriter(xw.out)
	xw.sheets = []sheetEntry{{name: summarySheet, path: xw.nextPart()}}
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
	header := make([]any, len(e.Fields))
	widths := make([]float64, len(e.Fields))
	for i, f := range e.Fields {
		text := fieldHeader(f)
		header[i] = cell{style: styleHeader, v: text}
		widths[i] = headerWidth(text)
	}
	xw.ent, xw.header, xw.widths, xw.sw, xw.count, xw.pending = e, header, widths, nil, 0, nil
	xw.row = make([]any, len(e.Fields))
	xw.done = append(xw.done, entitySummary{ent: e})
	return nil
}

// openEntitySheet opens the current entity's sheet, sized by the rows
// seen so far, and writes its header and those rows. At the end of an
// entity too wide for a page with only a few records, the records go
// down the page as columns beside the labels instead (transposed).
func (xw *xlsxWriter) openEntitySheet(atEnd bool) error {
	e := xw.ent
	label := e.Label
	if label == "" {
		label = e.Name
	}
	transpose := atEnd && len(xw.pending) <= maxTransposed && sum(xw.widths) > wideSheet
	sheet := xw.names.name(label)
	xw.done[len(xw.done)-1].sheet = sheet
	path := xw.nextPart()
	if transpose {
		xw.sheets = append(xw.sheets, sheetEntry{name: sheet, path: path, title: "$A:$A"})
		return xw.writeTransposed(path)
	}
	xw.sheets = append(xw.sheets, sheetEntry{name: sheet, path: path, title: "$1:$1"})
	sw, err := openSheet(xw.zw, path, sheetOptions{widths: xw.widths, freezeHeader: true})
	if err != nil {
		return xw.fail(fmt.Errorf("export: sheet of entity %q: %w", e.Name, err))
	}
	if err := sw.writeRow(xw.header); err != nil {
		return xw.fail(fmt.Errorf("export: header of entity %q: %w", e.Name, err))
	}
	xw.sw = sw
	for _, r := range xw.pending {
		if err := xw.writeSized(r); err != nil {
			return err
		}
	}
	xw.pending = nil
	return nil
}

// Transposing: a sheet wider than wideSheet character units would print
// too small fitted to a landscape page; with at most maxTransposed records
// it reads better as "label | record 1 | record 2 …".
const (
	wideSheet     = 180
	maxTransposed = 8
)

// writeTransposed writes the pending records as columns beside the
// field labels, with a "Registro N" heading over each.
func (xw *xlsxWriter) writeTransposed(path string) error {
	e := xw.ent
	widths, lines := transpose(xw.header, xw.pending)
	sw, err := openSheet(xw.zw, path, sheetOptions{widths: widths, freezeLabels: true})
	if err != nil {
		return xw.fail(fmt.Errorf("export: sheet of entity %q: %w", e.Name, err))
	}
	for _, line := range lines {
		if err := sw.writeRow(line); err != nil {
			return xw.fail(fmt.Errorf("export: row of entity %q: %w", e.Name, err))
		}
	}
	xw.sw, xw.pending = sw, nil
	return nil
}

// transpose lays records out as columns beside the field labels: a
// "Campo | Registro 1 | Registro 2 …" heading, then a line per field, with
// the columns' widths. Texts wider than their column wrap.
func transpose(header []any, records [][]any) ([]float64, [][]any) {
	widths := make([]float64, len(records)+1)
	for _, h := range header {
		widths[0] = max(widths[0], clampWidth(valueWidth(h)+2))
	}
	for j, r := range records {
		widths[j+1] = 14
		for _, v := range r {
			widths[j+1] = max(widths[j+1], min(valueWidth(v)+2, 60))
		}
	}
	lines := make([][]any, 0, len(header)+1)
	line := make([]any, len(widths))
	line[0] = cell{style: styleHeader, v: "Campo"}
	for j := range records {
		line[j+1] = cell{style: styleHeader, v: "Registro " + strconv.Itoa(j+1)}
	}
	lines = append(lines, line)
	for i, h := range header {
		line := make([]any, len(widths))
		line[0] = h // the header cell: bold, wrapped
		for j, r := range records {
			v := r[i]
			if s, ok := v.(string); ok && textWidth(s) > widths[j+1]-2 {
				v = cell{style: styleWrap, v: s}
			}
			line[j+1] = v
		}
		lines = append(lines, line)
	}
	return widths, lines
}

func sum(ws []float64) float64 {
	t := 0.0
	for _, w := range ws {
		t += w
	}
	return t
}

// writeSized writes a row into the open sheet, wrapping texts longer than
// their column so nothing is cut or spills over the next column on paper.
func (xw *xlsxWriter) writeSized(r []any) error {
	for i, v := range r {
		if s, ok := v.(string); ok && textWidth(s) > xw.widths[i]-2 {
			r[i] = cell{style: styleWrap, v: s}
		}
	}
	if err := xw.sw.writeRow(r); err != nil {
		return xw.fail(fmt.Errorf("export: row of entity %q: %w", xw.ent.Name, err))
	}
	return nil
}

// sampleRows is how many rows of an entity size its columns before its
// sheet is written: enough to see typical values, few enough that memory
// stays flat however many rows follow.
const sampleRows = 200

// Column widths, in Excel's character units. maxColWidth keeps a sheet's
// columns from pushing each other off the page: longer texts wrap.
const (
	minColWidth = 8
	maxColWidth = 45
)

// headerWidth is a column's width before any value is seen: the label may
// wrap onto two lines (the header style wraps), but no word is cut.
func headerWidth(label string) float64 {
	n := utf8.RuneCountInString(label)
	w := (n + 1) / 2
	for _, word := range strings.Fields(label) {
		w = max(w, utf8.RuneCountInString(word))
	}
	return clampWidth(float64(w + 2))
}

func clampWidth(w float64) float64 { return min(max(w, minColWidth), maxColWidth) }

// textWidth is the widest line of s, in characters.
func textWidth(s string) float64 {
	w := 0
	for line := range strings.SplitSeq(s, "\n") {
		w = max(w, utf8.RuneCountInString(line))
	}
	return float64(w)
}

// valueWidth is how wide a converted cell value shows.
func valueWidth(v any) float64 {
	switch v := v.(type) {
	case nil:
		return 0
	case cell:
		switch v.style {
		case styleDate:
			return 10
		case styleDateTime:
			return 19
		}
		return valueWidth(v.v)
	case string:
		return textWidth(v)
	case int64:
		return float64(len(strconv.FormatInt(v, 10)))
	case float64:
		return float64(len(strconv.FormatFloat(v, 'f', -1, 64)))
	}
	return 10
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
	xw.count++
	if xw.sw != nil {
		return xw.writeSized(xw.row)
	}
	for i, v := range xw.row {
		xw.widths[i] = max(xw.widths[i], clampWidth(valueWidth(v)+2))
	}
	xw.pending = append(xw.pending, slices.Clone(xw.row))
	if len(xw.pending) == sampleRows {
		return xw.openEntitySheet(false)
	}
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
	case bool:
		// TRUE/FALSE (VERDADEIRO/FALSO in a pt-BR office) is a spreadsheet's
		// word, not the titular's.
		return yesNo(v)
	default: // nil, string, float64
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
	if xw.sw == nil && len(xw.pending) > 0 {
		if b, ok := xw.block(); ok {
			xw.blocks = append(xw.blocks, b)
			xw.done[len(xw.done)-1].sheet = dataSheet
		} else if err := xw.openEntitySheet(true); err != nil {
			return err
		}
	}
	if xw.sw != nil {
		if err := xw.sw.close(); err != nil {
			return xw.fail(fmt.Errorf("export: finishing sheet of entity %q: %w", xw.ent.Name, err))
		}
	}
	xw.ent, xw.sw, xw.row, xw.pending, xw.header, xw.widths = Entity{}, nil, nil, nil, nil, nil
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
	if len(xw.blocks) > 0 {
		path := xw.nextPart()
		if err := xw.writeBlocks(path); err != nil {
			return err
		}
		xw.sheets = slices.Insert(xw.sheets, 1, sheetEntry{name: dataSheet, path: path})
	}
	if err := writePackage(xw.zw, xw.sheets, xw.meta); err != nil {
		return fmt.Errorf("export: writing workbook: %w", err)
	}
	if err := xw.zw.Close(); err != nil {
		return fmt.Errorf("export: writing workbook: %w", err)
	}
	return nil
}

// nextPart names the next worksheet part of the archive.
func (xw *xlsxWriter) nextPart() string {
	xw.parts++
	return "xl/worksheets/sheet" + strconv.Itoa(xw.parts) + ".xml"
}

// fail records the first write error; the workbook is unusable after it.
func (xw *xlsxWriter) fail(err error) error {
	if xw.err == nil {
		xw.err = err
	}
	return err
}
