package export

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/titular/titular/internal/brtime"
)

// The PDF copy is the same answer as the JSON and the XLSX, laid out for
// paper (Art. 19 §2: "meio eletrônico … ou sob forma impressa"): A4
// portrait, the request and the Art. 9 information first, then each kind
// of data as a table when its columns fit the page width, else one block
// of "label: value" lines per record, then a summary of the counts; every
// page says which request it answers and "Página N de M".
//
// fpdf keeps the document in memory and writes it at Close, so unlike the
// JSON and XLSX writers memory grows with the rows (a titular's copy is
// small; a few thousand rows make a few megabytes).

// Page geometry, in millimetres.
const (
	pdfMargin     = 15.0
	pdfBottom     = 18.0 // room for the footer
	pdfLine       = 4.6  // line height of body text
	pdfLabelWidth = 64.0 // label column of "label: value" lines
	pdfCellPad    = 1.2
	// pdfMaxTableColumns is the most columns drawn as a table; wider
	// entities read better as one block per record.
	pdfMaxTableColumns = 5
)

type pdfWriter struct {
	seq  sequence
	out  io.Writer
	loc  *time.Location
	doc  *fpdf.Fpdf
	meta Meta

	// open entity
	ent    Entity
	heads  []string
	widths []float64 // table column widths; nil when the entity is written as blocks
	// tableHeads is the heading repeated on each page of the open table.
	tableHeads []string
	// table: the open entity is drawn as a table; its first rows wait in
	// pending until they have sized its columns.
	table   bool
	pending [][]string
	count   int

	done []entitySummary
}

// NewPDF returns a Writer producing the titular's copy as a printable PDF
// in pt-BR. The document is written to w at Close.
func NewPDF(w io.Writer) Writer {
	return &pdfWriter{out: w, loc: brtime.Location()}
}

func (pw *pdfWriter) Begin(m Meta) error {
	if err := pw.seq.begin(); err != nil {
		return err
	}
	pw.meta = m
	d := fpdf.New("P", "mm", "A4", "")
	pw.doc = d
	d.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	d.SetAutoPageBreak(true, pdfBottom)
	d.AliasNbPages("{nb}")
	d.SetTitle("Relatório de dados pessoais — protocolo "+m.RequestID, true)
	d.SetCreator("titular", true)
	d.SetLang("pt-BR")
	d.SetCatalogSort(true)
	// The same answer gives the same bytes: the dates are the request's.
	d.SetCreationDate(m.GeneratedAt)
	d.SetModificationDate(m.GeneratedAt)
	d.SetFooterFunc(func() {
		d.SetY(-12)
		d.SetFont("Helvetica", "", 8)
		d.SetTextColor(90, 90, 90)
		d.CellFormat(0, 5, pdfText("Protocolo "+m.RequestID+" — "+m.TenantName), "", 0, "L", false, 0, "")
		d.SetX(pdfMargin)
		d.CellFormat(0, 5, pdfText("Página "+strconv.Itoa(d.PageNo())+" de {nb}"), "", 0, "R", false, 0, "")
		d.SetTextColor(0, 0, 0)
	})
	d.AddPage()

	pw.font("B", 15)
	pw.para(summaryTitle, 7)
	d.Ln(2)
	pw.font("", 9.5)
	pw.pairs([][2]string{
		{"Controlador", m.TenantName},
		{"Protocolo da solicitação", m.RequestID},
		{"Tipo de solicitação", kindLabel(m.Kind)},
		{"Referência do titular", m.SubjectRef},
		{"Recebida em", pw.stamp(m.ReceivedAt)},
		{"Prazo de resposta", pw.stamp(m.DueAt)},
		{"Gerado em", pw.stamp(m.GeneratedAt)},
		{"Fuso horário", "Horário de Brasília (" + saoPaulo + ")"},
	})
	pw.notice(m.Notice)
	pw.minor(m.Minor)
	pw.reviews(m.Reviews)
	return pw.docErr()
}

func (pw *pdfWriter) BeginEntity(e Entity) error {
	if err := pw.docErr(); err != nil {
		return err
	}
	if err := pw.seq.beginEntity(e); err != nil {
		return err
	}
	pw.ent, pw.count, pw.widths = e, 0, nil
	pw.heads = make([]string, len(e.Fields))
	for i, f := range e.Fields {
		pw.heads[i] = fieldHeader(f)
	}
	pw.done = append(pw.done, entitySummary{ent: e})

	label := e.Label
	if label == "" {
		label = e.Name
	}
	pw.section(label)
	pw.font("", 8.5)
	pw.pairs([][2]string{
		{"Finalidade", purposeText(e)},
		{"Base legal", legalBasisText(e)},
		{"Origem", e.Origin},
		{"Compartilhado com", sharedText(e.SharedWith)},
	})
	pw.doc.Ln(1.5)
	pw.table = len(e.Fields) <= pdfMaxTableColumns
	return pw.docErr()
}

// pdfSampleRows is how many rows of a table size its columns before the
// table is drawn; later rows wrap within those widths.
const pdfSampleRows = 50

// flushTable sizes the open table's columns from its heading and the rows
// held so far, then draws the heading and those rows.
func (pw *pdfWriter) flushTable() {
	pw.widths, pw.tableHeads = pw.tableWidths(), pw.heads
	pw.tableRow(pw.heads, true)
	for _, r := range pw.pending {
		pw.tableRow(r, false)
	}
	pw.pending = nil
}

// tableWidths shares the page width among the columns: each needs its
// heading's longest word (so no heading word is cut) and would like its
// longest value on one line, up to 45% of the page; what is left over, or
// missing, is shared in proportion.
func (pw *pdfWriter) tableWidths() []float64 {
	total := pw.usable()
	need := make([]float64, len(pw.heads))
	want := make([]float64, len(pw.heads))
	pad := 2*pdfCellPad + 1
	pw.font("B", 8.5)
	for i, h := range pw.heads {
		for _, w := range strings.Fields(h) {
			need[i] = max(need[i], pw.doc.GetStringWidth(pdfText(w))+pad)
		}
		need[i] = max(need[i], 14)
	}
	pw.font("", 8.5)
	for i := range pw.heads {
		want[i] = need[i]
		for _, r := range pw.pending {
			for line := range strings.SplitSeq(r[i], "\n") {
				want[i] = max(want[i], min(pw.doc.GetStringWidth(pdfText(line))+pad, 0.45*total))
			}
		}
	}
	sumNeed, sumWant := sum(need), sum(want)
	out := make([]float64, len(want))
	for i := range want {
		if sumWant <= total {
			out[i] = want[i] / sumWant * total
		} else if sumNeed >= total {
			out[i] = need[i] / sumNeed * total
		} else {
			// Every column gets its heading; the rest goes by how much more
			// each would like.
			out[i] = need[i] + (want[i]-need[i])/(sumWant-sumNeed)*(total-sumNeed)
		}
	}
	return out
}

func (pw *pdfWriter) WriteRow(values []any) error {
	if err := pw.docErr(); err != nil {
		return err
	}
	if err := pw.seq.row(len(values)); err != nil {
		return err
	}
	if err := checkRow(pw.ent.Fields, values); err != nil {
		return err
	}
	texts := make([]string, len(values))
	for i, v := range values {
		texts[i] = pw.value(v)
	}
	pw.count++
	if pw.table {
		switch {
		case pw.widths != nil:
			pw.tableRow(texts, false)
		default:
			pw.pending = append(pw.pending, texts)
			if len(pw.pending) == pdfSampleRows {
				pw.flushTable()
			}
		}
		return pw.docErr()
	}
	lines := make([][2]string, len(texts))
	for i, t := range texts {
		lines[i] = [2]string{pw.heads[i], t}
	}
	pw.font("B", 9)
	pw.keep(pdfLine * float64(min(len(lines), 6)+1))
	pw.para("Registro "+strconv.Itoa(pw.count), pdfLine)
	pw.font("", 9)
	pw.pairs(lines)
	pw.doc.Ln(2)
	return pw.docErr()
}

func (pw *pdfWriter) EndEntity() error {
	if err := pw.docErr(); err != nil {
		return err
	}
	if err := pw.seq.endEntity(); err != nil {
		return err
	}
	pw.done[len(pw.done)-1].rows = pw.count
	if len(pw.pending) > 0 {
		pw.flushTable()
	}
	pw.font("", 8.5)
	if pw.count == 0 {
		pw.doc.Ln(1)
		pw.para("Nenhum registro deste tipo foi encontrado para este titular ("+noRecords+").", pdfLine)
	}
	// Holds are complete only now (the caller fills Until from the rows).
	var xw xlsxWriter
	pw.doc.Ln(1)
	pw.pairs([][2]string{{"Guarda após pedido de eliminação", xw.retentionText(pw.ent)}})
	pw.ent, pw.heads, pw.widths, pw.tableHeads, pw.table, pw.pending = Entity{}, nil, nil, nil, false, nil
	return pw.docErr()
}

func (pw *pdfWriter) Close() error {
	seqErr := pw.seq.close()
	if pw.doc == nil {
		return seqErr
	}
	d := pw.doc
	defer func() { pw.doc = nil }()
	if seqErr != nil {
		return seqErr
	}
	if err := d.Error(); err != nil {
		return fmt.Errorf("export: PDF: %w", err)
	}
	pw.summary()
	var buf bytes.Buffer
	if err := d.Output(&buf); err != nil {
		return fmt.Errorf("export: PDF: %w", err)
	}
	if _, err := pw.out.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("export: writing PDF: %w", err)
	}
	return nil
}

// summary closes the copy with the count of records of each kind.
func (pw *pdfWriter) summary() {
	pw.section("Resumo dos dados")
	heads := []string{"Dados", "Registros"}
	total, _ := pw.doc.GetPageSize()
	pw.widths, pw.tableHeads = []float64{total - 2*pdfMargin - 40, 40}, heads
	pw.font("", 9)
	pw.tableRow(heads, true)
	sum := 0
	for _, d := range pw.done {
		name := d.ent.Label
		if name == "" {
			name = d.ent.Name
		}
		n := noRecords
		if d.rows > 0 {
			n = strconv.Itoa(d.rows)
		}
		pw.tableRow([]string{name, n}, false)
		sum += d.rows
	}
	pw.tableRow([]string{"Total", strconv.Itoa(sum)}, true)
	pw.widths, pw.tableHeads = nil, nil
}

// docErr is the document's first error; fpdf ignores calls after one.
func (pw *pdfWriter) docErr() error {
	if pw.doc == nil {
		return nil
	}
	if err := pw.doc.Error(); err != nil {
		return fmt.Errorf("export: PDF: %w", err)
	}
	return nil
}

// value renders one checked value as the titular reads it.
func (pw *pdfWriter) value(v any) string {
	switch v := v.(type) {
	case nil:
		return "—"
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strings.Replace(strconv.FormatFloat(v, 'f', -1, 64), ".", ",", 1)
	case bool:
		return yesNo(v)
	case time.Time:
		return v.In(pw.loc).Format("02/01/2006 15:04:05")
	case Date:
		return fmt.Sprintf("%02d/%02d/%04d", v.Day, int(v.Month), v.Year)
	case Decimal:
		if isDecimalLiteral(string(v)) && !strings.ContainsAny(string(v), "eE") {
			return strings.Replace(string(v), ".", ",", 1)
		}
		return string(v)
	case []byte:
		return "(binário, " + strconv.Itoa(len(v)) + " bytes)"
	}
	return fmt.Sprint(v)
}

// stamp renders a request time in São Paulo, "—" when unset.
func (pw *pdfWriter) stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(pw.loc).Format("02/01/2006 15:04")
}
