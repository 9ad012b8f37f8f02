package export

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// dataSheet is the sheet where the entities with a few rows print one
// after another.
const dataSheet = "Seus dados"

// ownSheetRows is the most rows an entity may have and still print as a
// block of "Seus dados"; one with more gets a sheet of its own, whose
// header row repeats on every printed page.
const ownSheetRows = 50

// dataBlock is one entity printed on "Seus dados": a title line, then a
// header row and a row per record, or, for an entity too wide for a page,
// a "Campo | Registro 1 …" heading and a line per field.
type dataBlock struct {
	ent    Entity
	rows   int
	widths []float64
	lines  [][]any
}

// block makes a block of the current entity when it fits one: at most
// ownSheetRows rows, and narrow enough for a page or few enough records to
// go down the page beside the labels (maxTransposed). Its lines are kept
// converted; nothing is written until Close.
func (xw *xlsxWriter) block() (dataBlock, bool) {
	n := len(xw.pending)
	wide := sum(xw.widths) > wideSheet
	if n > ownSheetRows || wide && n > maxTransposed {
		return dataBlock{}, false
	}
	b := dataBlock{ent: xw.ent, rows: n}
	if wide {
		b.widths, b.lines = transpose(xw.header, xw.pending)
	} else {
		b.widths = xw.widths
		b.lines = append([][]any{xw.header}, xw.pending...)
	}
	xw.pending = nil
	return b, true
}

// blockTitle heads an entity's block: its label and how many records
// follow, e.g. "Reservas e vendas (2 registros)".
func blockTitle(e Entity, rows int) string {
	label := e.Label
	if label == "" {
		label = e.Name
	}
	if rows == 1 {
		return label + " (1 registro)"
	}
	return label + " (" + strconv.Itoa(rows) + " registros)"
}

// writeBlocks writes the "Seus dados" sheet: the blocks in data-map order,
// a blank row between them. A text wider than its column wraps.
func (xw *xlsxWriter) writeBlocks(path string) error {
	widths := blockWidths(xw.blocks)
	sw, err := openSheet(xw.zw, path, sheetOptions{widths: widths})
	if err != nil {
		return fmt.Errorf("export: %s sheet: %w", dataSheet, err)
	}
	for k, b := range xw.blocks {
		if k > 0 {
			sw.skipRow()
		}
		if err := sw.writeRow([]any{cell{style: styleLabel, v: blockTitle(b.ent, b.rows)}}); err != nil {
			return fmt.Errorf("export: %s sheet: %w", dataSheet, err)
		}
		for _, line := range b.lines {
			for i, v := range line {
				if s, ok := v.(string); ok && textWidth(s) > widths[i]-2 {
					line[i] = cell{style: styleWrap, v: s}
				}
			}
			if err := sw.writeRow(line); err != nil {
				return fmt.Errorf("export: block of entity %q: %w", b.ent.Name, err)
			}
		}
	}
	if err := sw.close(); err != nil {
		return fmt.Errorf("export: finishing %s sheet: %w", dataSheet, err)
	}
	return nil
}

// blockWidths sizes the columns "Seus dados" shares among its blocks: each
// as wide as the widest block needs it. Blocks differ in their columns, so
// those widths may add up to more than a page holds, and fitted to the
// page width the sheet would print too small to read: the columns then
// narrow, together, to about wideSheet, their texts wrapping, but none
// below what a number, a date or a word in it needs (a word is not broken,
// an e-mail stays whole).
func blockWidths(blocks []dataBlock) []float64 {
	var widths, least []float64
	for _, b := range blocks {
		for i, w := range b.widths {
			if i == len(widths) {
				widths, least = append(widths, minColWidth), append(least, minColWidth)
			}
			widths[i] = max(widths[i], w)
		}
		for _, line := range b.lines {
			for i, v := range line {
				least[i] = max(least[i], unbreakableWidth(v))
			}
		}
	}
	total := sum(widths)
	if total <= wideSheet {
		return widths
	}
	f := wideSheet / total
	for i, w := range widths {
		widths[i] = min(w, max(least[i], float64(int(w*f))))
	}
	return widths
}

// unbreakableWidth is the narrowest column v shows in without being cut:
// a number or a date whole, a text's longest word up to maxWordWidth (an
// e-mail stays whole; a digest breaks).
func unbreakableWidth(v any) float64 {
	if c, ok := v.(cell); ok && c.style != styleDate && c.style != styleDateTime {
		v = c.v
	}
	s, ok := v.(string)
	if !ok {
		return clampWidth(valueWidth(v) + 2)
	}
	w := 0
	for _, word := range strings.Fields(s) {
		w = max(w, utf8.RuneCountInString(word))
	}
	return clampWidth(float64(min(w, maxWordWidth) + 2))
}

// maxWordWidth is the longest word a column of "Seus dados" keeps whole
// when the sheet narrows.
const maxWordWidth = 32
