package export

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The workbook is written as SpreadsheetML (ECMA-376) straight into a zip
// stream: each sheet is one zip entry, written row by row as the rows come,
// so memory does not grow with rows and nothing is buffered in temporary
// files. Sheets hold inline strings (no shared-strings table to keep), and
// the parts that need the whole picture (the Resumo sheet, the workbook
// with its sheet order, styles, content types) are written at Close; a zip
// reader finds parts by name, so their order in the archive does not matter.

// maxColumns is the most columns a sheet holds (XFD).
const maxColumns = 16384

// maxCellChars is the most characters Excel keeps in a cell; longer texts
// are truncated.
const maxCellChars = 32767

// Style ids: positions in styles.xml's cellXfs.
const (
	styleNone = iota
	styleTitle
	styleLabel
	styleHeader
	styleWrap
	styleDate
	styleDateTime
	styleStamp
)

// cell is a value with a style, for rows that style some cells.
type cell struct {
	style int
	v     any
	// span, when over 1, merges the cell with the next span-1 cells of its
	// row, so a long text wraps across their width instead of one
	// column's; those cells must be nil.
	span int
}

// sheetWriter writes one worksheet part.
type sheetWriter struct {
	w      *bufio.Writer
	row    int
	ref    []byte    // scratch for cell references
	widths []float64 // column widths, to size rows whose texts wrap
	merged []string  // ranges of spanning cells, "B3:G3"
}

// sheetOptions shape a worksheet before its first row.
type sheetOptions struct {
	widths       []float64
	freezeHeader bool
	// freezeLabels also freezes column A, where a sheet of records laid
	// out as columns keeps its labels.
	freezeLabels bool
	selected     bool
}

// openSheet starts a worksheet part in zw.
func openSheet(zw *zip.Writer, path string, o sheetOptions) (*sheetWriter, error) {
	part, err := zw.CreateHeader(&zip.FileHeader{Name: path, Method: zip.Deflate})
	if err != nil {
		return nil, err
	}
	s := &sheetWriter{w: bufio.NewWriterSize(part, 64<<10), widths: o.widths}
	// fitToPage: printing scales the sheet by pageSetup's fitToWidth.
	s.w.WriteString(xmlHeader + `<worksheet xmlns="` + nsMain + `" xmlns:r="` + nsRels + `"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>` +
		`<sheetViews><sheetView workbookViewId="0"`)
	if o.selected {
		s.w.WriteString(` tabSelected="1"`)
	}
	s.w.WriteString(`>`)
	switch {
	case o.freezeLabels:
		s.w.WriteString(`<pane xSplit="1" ySplit="1" topLeftCell="B2" activePane="bottomRight" state="frozen"/><selection pane="bottomRight" activeCell="B2" sqref="B2"/>`)
	case o.freezeHeader:
		s.w.WriteString(`<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/>`)
	}
	s.w.WriteString(`</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>`)
	if len(o.widths) > 0 {
		s.w.WriteString(`<cols>`)
		for i, wd := range o.widths {
			n := strconv.Itoa(i + 1)
			s.w.WriteString(`<col min="` + n + `" max="` + n + `" width="` + strconv.FormatFloat(wd, 'f', -1, 64) + `" customWidth="1"/>`)
		}
		s.w.WriteString(`</cols>`)
	}
	s.w.WriteString(`<sheetData>`)
	return s, nil
}

// skipRow leaves a blank row, half a line high: enough to set sections
// apart on paper without spending a line of the page on it.
func (s *sheetWriter) skipRow() {
	s.row++
	s.w.WriteString(`<row r="` + strconv.Itoa(s.row) + `" ht="` + strconv.Itoa(gapHeight) + `" customHeight="1"/>`)
}

// gapHeight is the height of a blank row between sections, in points.
const gapHeight = 8

// writeRow writes the next row; values are plain values or cells, and nil
// leaves a cell empty.
func (s *sheetWriter) writeRow(values []any) error {
	s.row++
	rowNo := strconv.Itoa(s.row)
	s.w.WriteString(`<row r="` + rowNo + `"`)
	if n := s.rowLines(values); n > 1 {
		// LibreOffice keeps a row at its default height on import, so
		// wrapped lines would print over the next row: size it here.
		s.w.WriteString(` ht="` + strconv.Itoa(n*lineHeight) + `" customHeight="1"`)
	}
	s.w.WriteString(`>`)
	for i, v := range values {
		style := styleNone
		if c, ok := v.(cell); ok {
			style, v = c.style, c.v
			if c.span > 1 {
				last := append(appendColumn(nil, i+c.span-1), rowNo...)
				s.merged = append(s.merged, string(appendColumn(nil, i))+rowNo+":"+string(last))
			}
		}
		if v == nil {
			continue
		}
		s.ref = appendColumn(s.ref[:0], i)
		s.ref = append(s.ref, rowNo...)
		s.w.WriteString(`<c r="`)
		s.w.Write(s.ref)
		s.w.WriteString(`"`)
		if style != styleNone {
			s.w.WriteString(` s="` + strconv.Itoa(style) + `"`)
		}
		writeValue(s.w, v)
	}
	_, err := s.w.WriteString(`</row>`)
	return err
}

// lineHeight is the height of a line of 11-point Calibri, in points.
const lineHeight = 15

// defaultColWidth is the width of a column no <col> sizes.
const defaultColWidth = 8.43

// rowLines estimates how many lines the tallest wrapping cell of a row
// takes in its column (words wrap whole; a word longer than the column is
// broken). Cells without a wrapping style take one line.
func (s *sheetWriter) rowLines(values []any) int {
	n := 1
	for i, v := range values {
		c, ok := v.(cell)
		if !ok || (c.style != styleWrap && c.style != styleHeader) {
			continue
		}
		str, ok := c.v.(string)
		if !ok {
			continue
		}
		w := 0.0
		for j := i; j < i+max(c.span, 1); j++ {
			if j < len(s.widths) {
				w += s.widths[j]
			} else {
				w += defaultColWidth
			}
		}
		// A width unit is a digit of the default font; a text's average
		// letter is narrower, a bold one less so.
		per := (w - 1) / 0.85
		if c.style == styleHeader {
			per = (w - 1) / 0.95
		}
		n = max(n, wrappedLines(str, max(int(per), 1)))
	}
	return n
}

// wrappedLines counts the lines s takes wrapped at per characters.
func wrappedLines(s string, per int) int {
	lines := 0
	for para := range strings.SplitSeq(s, "\n") {
		lines++
		used := 0
		for _, word := range strings.Fields(para) {
			n := utf8.RuneCountInString(word)
			switch {
			case used == 0:
			case used+1+n <= per:
				used += 1 + n
				continue
			default:
				lines++
			}
			lines += (n - 1) / per
			used = (n-1)%per + 1
		}
	}
	return lines
}

// writeValue writes the rest of a <c> element: type and value.
func writeValue(w *bufio.Writer, v any) {
	switch v := v.(type) {
	case string:
		writeText(w, v)
	case int64:
		w.WriteString(`><v>` + strconv.FormatInt(v, 10) + `</v></c>`)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			writeText(w, strconv.FormatFloat(v, 'g', -1, 64))
			return
		}
		w.WriteString(`><v>` + strconv.FormatFloat(v, 'f', -1, 64) + `</v></c>`)
	case bool:
		b := "0"
		if v {
			b = "1"
		}
		w.WriteString(` t="b"><v>` + b + `</v></c>`)
	case time.Time:
		w.WriteString(`><v>` + strconv.FormatFloat(excelSerial(v), 'f', -1, 64) + `</v></c>`)
	default:
		writeText(w, fmt.Sprint(v))
	}
}

// writeText writes an inline string, truncated to Excel's cell limit.
func writeText(w *bufio.Writer, s string) {
	if utf8.RuneCountInString(s) > maxCellChars {
		n := 0
		for i := range s {
			if n == maxCellChars {
				s = s[:i]
				break
			}
			n++
		}
	}
	w.WriteString(` t="inlineStr"><is><t`)
	if s != strings.TrimSpace(s) || strings.ContainsAny(s, "\n\t") {
		w.WriteString(` xml:space="preserve"`)
	}
	w.WriteString(`>`)
	writeEscaped(w, s)
	w.WriteString(`</t></is></c>`)
}

// writeEscaped writes s as XML character data, replacing characters XML
// 1.0 cannot carry (most control characters) with U+FFFD. w is a sheet's
// bufio.Writer, whose error is sticky and returned by its Flush, or a
// strings.Builder, which cannot fail: the writes' errors are not needed.
func writeEscaped(w io.StringWriter, s string) {
	last := 0
	for i, r := range s {
		var esc string
		switch {
		case r == '<':
			esc = "&lt;"
		case r == '>':
			esc = "&gt;"
		case r == '&':
			esc = "&amp;"
		case r == '"':
			esc = "&quot;"
		case r == '\r':
			esc = "&#xD;"
		case r == '\t' || r == '\n':
			continue
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF) || r == utf8.RuneError && isInvalidAt(s, i):
			esc = "\uFFFD"
		default:
			continue
		}
		_, _ = w.WriteString(s[last:i])
		_, _ = w.WriteString(esc)
		_, size := utf8.DecodeRuneInString(s[i:])
		last = i + size
	}
	_, _ = w.WriteString(s[last:])
}

// isInvalidAt reports whether s holds an invalid UTF-8 byte at i (rather
// than a literal U+FFFD).
func isInvalidAt(s string, i int) bool {
	r, size := utf8.DecodeRuneInString(s[i:])
	return r == utf8.RuneError && size == 1
}

// printSetup makes a sheet print as a person reads it: A4 landscape, all
// columns fitted to the page width (as many pages down as the rows need,
// fitToHeight 0), the sheet name and "Página N de M" in the footer. Without
// it LibreOffice printed 13 rows as 59 pages of 4 or 5 columns each.
const printSetup = `<printOptions gridLines="1"/>` +
	`<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.6" header="0.3" footer="0.3"/>` +
	`<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>` +
	`<headerFooter><oddFooter>&amp;L&amp;A&amp;RPágina &amp;P de &amp;N</oddFooter></headerFooter>`

// close ends the worksheet part.
func (s *sheetWriter) close() error {
	s.w.WriteString(`</sheetData>`)
	if len(s.merged) > 0 {
		s.w.WriteString(`<mergeCells count="` + strconv.Itoa(len(s.merged)) + `">`)
		for _, m := range s.merged {
			s.w.WriteString(`<mergeCell ref="` + m + `"/>`)
		}
		s.w.WriteString(`</mergeCells>`)
	}
	s.w.WriteString(printSetup + `</worksheet>`)
	return s.w.Flush()
}

// appendColumn appends the letters of 0-based column i (A, …, Z, AA, …).
func appendColumn(b []byte, i int) []byte {
	var tmp [3]byte
	n := len(tmp)
	for i++; i > 0; i = (i - 1) / 26 {
		n--
		tmp[n] = byte('A' + (i-1)%26)
	}
	return append(b, tmp[n:]...)
}

// excelSerial is the 1900-system serial number of t's wall clock: days
// since 1899-12-30, with Excel's fictitious 1900-02-29 accounted for.
func excelSerial(t time.Time) float64 {
	wall := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	days := wall.Unix()/86400 - time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).Unix()/86400
	if wall.Before(time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC)) {
		days-- // Excel counts a 29 February 1900 that never was
	}
	secs := t.Hour()*3600 + t.Minute()*60 + t.Second()
	return float64(days) + (float64(secs)+float64(t.Nanosecond())/1e9)/86400
}

const (
	xmlHeader = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	nsMain    = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsRels    = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	nsPkgRels = "http://schemas.openxmlformats.org/package/2006/relationships"
)

// stylesXML holds the styles of every cell titular writes, in the order of
// the style ids above.
const stylesXML = xmlHeader + `<styleSheet xmlns="` + nsMain + `">` +
	`<numFmts count="3"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/><numFmt numFmtId="165" formatCode="dd/mm/yyyy hh:mm:ss"/>` +
	`<numFmt numFmtId="166" formatCode="dd/mm/yyyy hh:mm"/></numFmts>` +
	`<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>` +
	`<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>` +
	`<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font></fonts>` +
	`<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>` +
	`<fill><patternFill patternType="solid"><fgColor rgb="FFD9E1F2"/><bgColor indexed="64"/></patternFill></fill></fills>` +
	`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
	`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
	`<cellXfs count="8">` +
	`<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
	`<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
	`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>` +
	`<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>` +
	`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment horizontal="left"/></xf>` +
	`</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`

// writePart writes a whole small part.
func writePart(zw *zip.Writer, name, content string) error {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, content)
	return err
}

// escapeAttr escapes s for an XML attribute or element.
func escapeAttr(s string) string {
	var b strings.Builder
	writeEscaped(&b, s)
	return b.String()
}

// quoteSheet quotes a sheet name for a formula reference, doubling any
// apostrophe in it.
func quoteSheet(name string) string {
	return "'" + strings.ReplaceAll(name, "'", "''") + "'"
}

// sheetEntry is one sheet of the workbook: its name, its worksheet part
// and the rows or columns it repeats on every printed page ("$1:$1",
// "$A:$A"; "" for none).
type sheetEntry struct {
	name, path, title string
}

// writePackage writes every part but the worksheets, listing sheets in
// workbook order.
func writePackage(zw *zip.Writer, sheets []sheetEntry, m Meta) error {
	var types, wb, rels strings.Builder
	types.WriteString(xmlHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
		`<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>`)
	wb.WriteString(xmlHeader + `<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRels + `"><bookViews><workbookView activeTab="0"/></bookViews><sheets>`)
	rels.WriteString(xmlHeader + `<Relationships xmlns="` + nsPkgRels + `">`)
	for i, sh := range sheets {
		n := strconv.Itoa(i + 1)
		types.WriteString(`<Override PartName="/` + sh.path + `" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`)
		wb.WriteString(`<sheet name="` + escapeAttr(sh.name) + `" sheetId="` + n + `" r:id="rId` + n + `"/>`)
		rels.WriteString(`<Relationship Id="rId` + n + `" Type="` + nsRels + `/worksheet" Target="` + strings.TrimPrefix(sh.path, "xl/") + `"/>`)
	}
	types.WriteString(`</Types>`)
	wb.WriteString(`</sheets>`)
	// Each entity sheet repeats its header row (or label column) on every
	// printed page.
	names := ""
	for i, sh := range sheets {
		if sh.title != "" {
			names += `<definedName name="_xlnm.Print_Titles" localSheetId="` + strconv.Itoa(i) + `">` +
				escapeAttr(quoteSheet(sh.name)) + `!` + sh.title + `</definedName>`
		}
	}
	if names != "" {
		wb.WriteString(`<definedNames>` + names + `</definedNames>`)
	}
	wb.WriteString(`</workbook>`)
	rels.WriteString(`<Relationship Id="rId` + strconv.Itoa(len(sheets)+1) + `" Type="` + nsRels + `/styles" Target="styles.xml"/></Relationships>`)
	stamp := m.GeneratedAt.UTC().Format(time.RFC3339)
	parts := []struct{ name, content string }{
		{"[Content_Types].xml", types.String()},
		{"_rels/.rels", xmlHeader + `<Relationships xmlns="` + nsPkgRels + `">` +
			`<Relationship Id="rId1" Type="` + nsRels + `/officeDocument" Target="xl/workbook.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>` +
			`</Relationships>`},
		{"docProps/core.xml", xmlHeader + `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"` +
			` xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"` +
			` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
			`<dc:title>Relatório de dados pessoais</dc:title><dc:creator>titular</dc:creator><dc:language>pt-BR</dc:language>` +
			`<dcterms:created xsi:type="dcterms:W3CDTF">` + stamp + `</dcterms:created>` +
			`<dcterms:modified xsi:type="dcterms:W3CDTF">` + stamp + `</dcterms:modified></cp:coreProperties>`},
		{"xl/workbook.xml", wb.String()},
		{"xl/_rels/workbook.xml.rels", rels.String()},
		{"xl/styles.xml", stylesXML},
	}
	for _, p := range parts {
		if err := writePart(zw, p.name, p.content); err != nil {
			return err
		}
	}
	return nil
}
