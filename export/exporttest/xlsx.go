package exporttest

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/xuri/excelize/v2"
)

// XLSXEntity is one entity's records as a titular's workbook shows them:
// a titled block of the "Seus dados" sheet, or a sheet of its own.
type XLSXEntity struct {
	Label string // the block's title without its count, or the sheet's name
	Sheet string
	// Row is the sheet row (1-based) of Lines[0], the heading line.
	Row int
	// Count is the number of records the block's title announces; for a
	// sheet of its own, the records it holds.
	Count int
	// Transposed: the records are columns beside the field labels
	// ("Campo | Registro 1 …"), a line per field.
	Transposed bool
	// Lines are the heading line, then a line per record (or per field
	// when transposed), as excelize formats them.
	Lines [][]string
}

var blockTitle = regexp.MustCompile(`^(.+) \((\d+) registros?\)$`)

// XLSXEntities reads every entity with records out of a workbook written
// by export.NewXLSX, in sheet order: the blocks of "Seus dados" first,
// then the sheets of their own.
func XLSXEntities(t testing.TB, f *excelize.File) []XLSXEntity {
	t.Helper()
	var out []XLSXEntity
	for _, sheet := range f.GetSheetList() {
		if sheet == "Resumo" {
			continue
		}
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatalf("sheet %s: %v", sheet, err)
		}
		if sheet != "Seus dados" {
			e := XLSXEntity{Label: sheet, Sheet: sheet, Row: 1, Lines: rows}
			e.Transposed = len(rows) > 0 && len(rows[0]) > 0 && rows[0][0] == "Campo"
			if e.Count = len(rows) - 1; e.Transposed {
				e.Count = len(rows[0]) - 1
			}
			out = append(out, e)
			continue
		}
		for i := 0; i < len(rows); i++ {
			if len(rows[i]) == 0 {
				continue // the gap between blocks
			}
			m := blockTitle.FindStringSubmatch(rows[i][0])
			if m == nil || len(rows[i]) != 1 || i+1 >= len(rows) {
				t.Fatalf("%s row %d = %q: want a block title \"Label (N registros)\" and a heading after it", sheet, i+1, rows[i])
			}
			n, _ := strconv.Atoi(m[2])
			e := XLSXEntity{Label: m[1], Sheet: sheet, Row: i + 2, Count: n}
			e.Transposed = len(rows[i+1]) > 0 && rows[i+1][0] == "Campo"
			end := i + 2 + n
			if e.Transposed { // a line per field, up to the gap
				end = i + 2
				for end < len(rows) && len(rows[end]) > 0 {
					end++
				}
			}
			if end > len(rows) {
				t.Fatalf("%s: block %q announces %d records, the sheet ends before", sheet, m[1], n)
			}
			e.Lines = rows[i+1 : end]
			out = append(out, e)
			i = end - 1
		}
	}
	return out
}

// XLSXEntitiesFor pairs the entities with records, given by their labels
// in data-map order, with what the workbook shows of each: the block
// titled with the label, or else the next sheet of its own (a sheet name
// is the label shortened to Excel's limits). It fails the test when the
// workbook holds more or fewer entities.
func XLSXEntitiesFor(t testing.TB, f *excelize.File, labels []string) []XLSXEntity {
	t.Helper()
	all := XLSXEntities(t, f)
	var own []XLSXEntity
	blocks := map[string]XLSXEntity{}
	for _, e := range all {
		if e.Sheet == "Seus dados" {
			blocks[e.Label] = e
		} else {
			own = append(own, e)
		}
	}
	if len(all) != len(labels) {
		t.Fatalf("the workbook shows %d entities, want %d (%q)", len(all), len(labels), labels)
	}
	out := make([]XLSXEntity, len(labels))
	for i, l := range labels {
		if b, ok := blocks[l]; ok {
			out[i] = b
			continue
		}
		if len(own) == 0 {
			t.Fatalf("entity %q has neither a block in \"Seus dados\" nor a sheet", l)
		}
		out[i], own = own[0], own[1:]
	}
	return out
}
