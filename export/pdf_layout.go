package export

import (
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// The drawing primitives of the PDF copy: texts, "label: value" lines and
// table rows that break across pages without cutting a line or a row, and
// repeat a table's heading on each page.

// pdfText converts s to Windows-1252, the encoding of the PDF core fonts:
// every pt-BR letter (ã, ç, é, º, —, “ ”) has a code there. A character it
// lacks becomes "?" (a core font cannot draw it), tabs become spaces and
// other control characters are dropped, so nothing shifts the layout.
func pdfText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteByte('\n')
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			continue
		case r < 0x80:
			b.WriteByte(byte(r))
		default:
			c, ok := charmap.Windows1252.EncodeRune(r)
			if !ok {
				c = '?'
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// font sets Helvetica in style ("", "B") and size (points).
func (pw *pdfWriter) font(style string, size float64) {
	pw.doc.SetFont("Helvetica", style, size)
}

// lineHeight is the line height of the current font size, in millimetres.
func (pw *pdfWriter) lineHeight() float64 {
	_, mm := pw.doc.GetFontSize()
	return mm * 1.25
}

// bottom is the lowest y a line may end at.
func (pw *pdfWriter) bottom() float64 {
	_, h := pw.doc.GetPageSize()
	return h - pdfBottom
}

// usable is the width between the margins.
func (pw *pdfWriter) usable() float64 {
	w, _ := pw.doc.GetPageSize()
	return w - 2*pdfMargin
}

// keep starts a new page unless h millimetres fit on this one.
func (pw *pdfWriter) keep(h float64) {
	if pw.doc.GetY()+h > pw.bottom() {
		pw.doc.AddPage()
	}
}

// para writes a paragraph across the page in the current font.
func (pw *pdfWriter) para(s string, lh float64) {
	pw.doc.SetX(pdfMargin)
	pw.doc.MultiCell(0, lh, pdfText(s), "", "L", false)
}

// section starts a titled part of the copy, on a new page when less than a
// few lines of it would fit on this one.
func (pw *pdfWriter) section(title string) {
	d := pw.doc
	d.Ln(4)
	pw.font("B", 12)
	pw.keep(30)
	d.SetFillColor(217, 225, 242)
	d.SetX(pdfMargin)
	d.MultiCell(0, 7, pdfText(title), "", "L", true)
	d.Ln(1.5)
}

// subsection is a bold line inside a section.
func (pw *pdfWriter) subsection(title string) {
	pw.doc.Ln(2)
	pw.font("B", 10)
	pw.keep(15)
	pw.para(title, 5)
	pw.font("", 9)
}

// pairs writes "label: value" lines, labels in bold in a column of their
// own and values wrapped beside them, in the current font size; only a
// pair longer than a page breaks across pages, and then between lines. An empty value shows "—".
func (pw *pdfWriter) pairs(lines [][2]string) {
	d := pw.doc
	size, _ := d.GetFontSize()
	lh := pw.lineHeight()
	valueW := pw.usable() - pdfLabelWidth
	for _, p := range lines {
		value := p[1]
		if strings.TrimSpace(value) == "" {
			value = "—"
		}
		d.SetFont("Helvetica", "B", size)
		labels := d.SplitLines([]byte(pdfText(p[0])), pdfLabelWidth)
		d.SetFont("Helvetica", "", size)
		values := d.SplitLines([]byte(pdfText(value)), valueW)
		n := max(len(labels), len(values), 1)
		if h := float64(n) * lh; h < pw.bottom()-pdfMargin-20 {
			pw.keep(h) // a short pair stays on one page
		}
		for i := range n {
			pw.keep(lh)
			y := d.GetY()
			if i < len(labels) {
				d.SetFont("Helvetica", "B", size)
				d.SetXY(pdfMargin, y)
				d.CellFormat(pdfLabelWidth, lh, string(labels[i]), "", 0, "L", false, 0, "")
				d.SetFont("Helvetica", "", size)
			}
			if i < len(values) {
				d.SetXY(pdfMargin+pdfLabelWidth, y)
				d.CellFormat(valueW, lh, string(values[i]), "", 0, "L", false, 0, "")
			}
			d.SetXY(pdfMargin, y+lh)
		}
	}
}

// tableRow writes one row of the open table (pw.widths), a heading row
// when head is set; a row that does not fit goes to the next page, under
// the table's heading again. A row taller than a page is written as
// "label: value" lines instead, so no text is lost below the margin.
func (pw *pdfWriter) tableRow(texts []string, head bool) {
	d := pw.doc
	style := ""
	if head {
		style = "B"
	}
	pw.font(style, 8.5)
	lh := pw.lineHeight()
	cells := make([][][]byte, len(texts))
	n := 1
	for i, t := range texts {
		if t == "" {
			t = " "
		}
		cells[i] = d.SplitLines([]byte(pdfText(t)), pw.widths[i])
		n = max(n, len(cells[i]))
	}
	h := float64(n)*lh + 2*pdfCellPad
	_, pageH := d.GetPageSize()
	if h > pageH-pdfMargin-pdfBottom-20 {
		lines := make([][2]string, len(texts))
		for i, t := range texts {
			lines[i] = [2]string{pw.tableHeads[i], t}
		}
		pw.pairs(lines)
		return
	}
	if d.GetY()+h > pw.bottom() {
		d.AddPage()
		if !head && pw.tableHeads != nil {
			pw.tableRow(pw.tableHeads, true)
			pw.font(style, 8.5)
		}
	}
	y := d.GetY()
	x := pdfMargin
	for i, lines := range cells {
		w := pw.widths[i]
		if head {
			d.SetFillColor(217, 225, 242)
			d.Rect(x, y, w, h, "FD")
		} else {
			d.Rect(x, y, w, h, "D")
		}
		for j, line := range lines {
			d.SetXY(x, y+pdfCellPad+float64(j)*lh)
			d.CellFormat(w, lh, string(line), "", 0, "L", false, 0, "")
		}
		x += w
	}
	d.SetXY(pdfMargin, y+h)
}
