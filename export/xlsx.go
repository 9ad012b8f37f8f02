package export

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// saoPaulo is the zone the DPO and the titular read times in. Brazil has
// had no daylight saving since 2019, so without zone data -03:00 is right
// for recent times.
const saoPaulo = "America/Sao_Paulo"

// excelFirstYear is the first year Excel's 1900 date system can hold;
// earlier dates are written as text in the same pt-BR layout.
const excelFirstYear = 1900

// xlsxWriter streams one sheet per entity with excelize's StreamWriter and
// writes the "Resumo" sheet, created first so it stays first, at Close
// once the counts are known.
type xlsxWriter struct {
	seq    sequence
	out    io.Writer
	loc    *time.Location
	f      *excelize.File
	styles xlsxStyles
	names  *sheetNames
	meta   Meta
	err    error // first excelize error; every later call returns it

	// open entity
	ent   Entity
	sw    *excelize.StreamWriter
	cells []excelize.Cell // reused for every row, handed to SetRow by pointer
	row   []any
	rowNo int // sheet row of the next record
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
// then one sheet per entity. Close writes the workbook to w. Memory does
// not grow with rows: excelize buffers about 16 MiB of each sheet (kept
// until Close) and spills the rest to temporary files, which Close removes.
// Texts over Excel's 32,767-character cell limit are truncated.
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
	xw.f = excelize.NewFile()
	if err := xw.f.SetSheetName(xw.f.GetSheetName(0), summarySheet); err != nil {
		return xw.fail(fmt.Errorf("export: naming summary sheet: %w", err))
	}
	styles, err := newXLSXStyles(xw.f)
	if err != nil {
		return xw.fail(err)
	}
	xw.styles = styles
	err = xw.f.SetDocProps(&excelize.DocProperties{
		Creator:  "titular",
		Title:    "Relatório de dados pessoais",
		Language: "pt-BR",
		Created:  m.GeneratedAt.UTC().Format(time.RFC3339),
		Modified: m.GeneratedAt.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return xw.fail(fmt.Errorf("export: setting document properties: %w", err))
	}
	return nil
}

func (xw *xlsxWriter) BeginEntity(e Entity) error {
	if xw.err != nil {
		return xw.err
	}
	if len(e.Fields) > excelize.MaxColumns {
		return fmt.Errorf("%w: entity %q has %d fields, a sheet holds %d columns", ErrInvalidEntity, e.Name, len(e.Fields), excelize.MaxColumns)
	}
	if err := xw.seq.beginEntity(e); err != nil {
		return err
	}
	label := e.Label
	if label == "" {
		label = e.Name
	}
	sheet := xw.names.name(label)
	if _, err := xw.f.NewSheet(sheet); err != nil {
		return xw.fail(fmt.Errorf("export: creating sheet for entity %q: %w", e.Name, err))
	}
	sw, err := xw.f.NewStreamWriter(sheet)
	if err != nil {
		return xw.fail(fmt.Errorf("export: streaming sheet for entity %q: %w", e.Name, err))
	}
	// Widths and panes must precede the first row in a stream.
	header := make([]any, len(e.Fields))
	for i, f := range e.Fields {
		text := f.Label
		if text == "" {
			text = f.Name
		}
		header[i] = excelize.Cell{StyleID: xw.styles.header, Value: text}
		if err := sw.SetColWidth(i+1, i+1, columnWidth(text)); err != nil {
			return xw.fail(fmt.Errorf("export: column width: %w", err))
		}
	}
	err = sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	if err != nil {
		return xw.fail(fmt.Errorf("export: freezing header: %w", err))
	}
	if err := sw.SetRow("A1", header); err != nil {
		return xw.fail(fmt.Errorf("export: header of entity %q: %w", e.Name, err))
	}
	xw.ent, xw.sw, xw.rowNo, xw.count = e, sw, 2, 0
	xw.cells = make([]excelize.Cell, len(e.Fields))
	xw.row = make([]any, len(e.Fields))
	for i := range xw.cells {
		xw.row[i] = &xw.cells[i]
	}
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
		xw.cells[i] = xw.cell(v)
	}
	if err := xw.sw.SetRow("A"+strconv.Itoa(xw.rowNo), xw.row); err != nil {
		return xw.fail(fmt.Errorf("export: row of entity %q: %w", xw.ent.Name, err))
	}
	xw.rowNo++
	xw.count++
	return nil
}

// cell converts one checked value to a typed Excel cell.
func (xw *xlsxWriter) cell(v any) excelize.Cell {
	switch v := v.(type) {
	case time.Time:
		// Excel times have no zone: show the wall clock in São Paulo.
		local := v.In(xw.loc)
		if local.Year() < excelFirstYear {
			return excelize.Cell{Value: local.Format("02/01/2006 15:04:05")}
		}
		return excelize.Cell{StyleID: xw.styles.datetime, Value: local}
	case Date:
		if v.Year < excelFirstYear {
			return excelize.Cell{Value: fmt.Sprintf("%02d/%02d/%04d", v.Day, int(v.Month), v.Year)}
		}
		return excelize.Cell{StyleID: xw.styles.date, Value: time.Date(v.Year, v.Month, v.Day, 0, 0, 0, 0, time.UTC)}
	case Decimal:
		if f, ok := decimalFloat(v); ok {
			return excelize.Cell{Value: f}
		}
		return excelize.Cell{Value: string(v)}
	case int64:
		// Beyond 15 digits Excel would silently change the last digits.
		if v > excelMaxInt || v < -excelMaxInt {
			return excelize.Cell{Value: strconv.FormatInt(v, 10)}
		}
		return excelize.Cell{Value: v}
	case []byte:
		return excelize.Cell{Value: "(binário, " + strconv.Itoa(len(v)) + " bytes)"}
	default: // nil, string, float64, bool
		return excelize.Cell{Value: v}
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
	if err := xw.sw.Flush(); err != nil {
		return xw.fail(fmt.Errorf("export: finishing sheet of entity %q: %w", xw.ent.Name, err))
	}
	xw.ent, xw.sw, xw.cells, xw.row = Entity{}, nil, nil, nil
	return nil
}

func (xw *xlsxWriter) Close() error {
	seqErr := xw.seq.close()
	if xw.f == nil {
		return seqErr
	}
	err := seqErr
	if err == nil {
		err = xw.err
	}
	if err == nil {
		err = xw.finish()
	}
	if cerr := xw.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("export: removing temporary files: %w", cerr)
	}
	xw.f = nil
	return err
}

// finish writes the summary sheet and the workbook.
func (xw *xlsxWriter) finish() error {
	if err := xw.writeSummary(); err != nil {
		return err
	}
	// No SetActiveSheet here: Resumo is sheet 0 and already active, and
	// excelize's SetActiveSheet reads every streamed sheet back into memory
	// (half the CPU of a large export, and memory growing with the rows).
	//
	// excelize's Write assembles the whole zip in a bytes.Buffer first; its
	// zip writer hook lets the archive go straight to out instead, so the
	// compressed workbook is never held in memory. (What is lost is only
	// excelize's LFH patch for parts over 4 GiB, which Excel wants in
	// ZIP64 form; archive/zip still writes valid ZIP64 records.)
	var zw *zip.Writer
	xw.f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw = zip.NewWriter(xw.out)
		return zw
	})
	if err := xw.f.Write(xw.out); err != nil {
		return fmt.Errorf("export: writing workbook: %w", err)
	}
	if zw == nil {
		return errors.New("export: excelize did not use the zip writer hook")
	}
	return nil
}

// fail records the first excelize error; the workbook is unusable after it.
func (xw *xlsxWriter) fail(err error) error {
	if xw.err == nil {
		xw.err = err
	}
	return err
}
