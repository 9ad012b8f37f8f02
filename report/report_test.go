package report_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/titular/titular/export/printtest"
	"github.com/titular/titular/report"
)

// known is a quarter whose numbers are worked out by hand in the tests:
// January 8 received (5 EXTRACT, 3 DELETE), 6 completed, 4 within 15 days;
// February 2 received, 3 completed (one January EXTRACT), 2 within 15 days;
// March 1 ANONYMIZE received, overdue, nothing completed.
func known() report.Report {
	return report.Report{
		Tenant:    "Incorporadora Teste Ltda",
		Generated: time.Date(2026, 4, 2, 13, 0, 0, 0, time.UTC),
		Months: []report.Month{
			{Year: 2026, Month: time.January, Kinds: []report.KindCount{
				{Kind: "DELETE", Received: 3, Completed: 2, CompletedOnTime: 1, CompletedWithin15Days: 1, Overdue: 1, MedianDays: 16},
				{Kind: "EXTRACT", Received: 5, Completed: 4, CompletedOnTime: 4, CompletedWithin15Days: 3, MedianDays: 9.5},
			}},
			{Year: 2026, Month: time.February, Kinds: []report.KindCount{
				{Kind: "EXTRACT", Completed: 1, MedianDays: 20},
				{Kind: "CONFIRM", Received: 2, Completed: 2, CompletedOnTime: 2, CompletedWithin15Days: 2},
			}},
			{Year: 2026, Month: time.March, Kinds: []report.KindCount{{Kind: "ANONYMIZE", Received: 1, Overdue: 1}}},
		},
	}
}

// node is an XML element read back from a chart.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []node     `xml:",any"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// walk lists the elements under n (n included), in document order.
func (n node) walk() []node {
	out := []node{n}
	for _, c := range n.Nodes {
		out = append(out, c.walk()...)
	}
	return out
}

// parse reads an SVG document strictly as XML.
func parse(t *testing.T, doc []byte) node {
	t.Helper()
	var root node
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	if err := d.Decode(&root); err != nil {
		t.Fatalf("not XML: %v\n%s", err, doc)
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if cd, ok := tok.(xml.CharData); err != nil || !ok || strings.TrimSpace(string(cd)) != "" {
			t.Fatalf("content after the root element: %v %v", tok, err)
		}
	}
	if root.XMLName.Local != "svg" || root.XMLName.Space != "http://www.w3.org/2000/svg" || root.attr("role") != "img" {
		t.Fatalf("root %v role %q: want an svg of role img", root.XMLName, root.attr("role"))
	}
	return root
}

// chart is what a person (or a screen reader) gets from a chart: its
// title and description, its bars (titles and heights), its texts by class.
type chart struct {
	title, desc string
	bars        []string // "title|height|fill"
	texts       map[string][]string
}

func read(t *testing.T, root node, id string) chart {
	t.Helper()
	c := chart{texts: map[string][]string{}}
	if got := root.attr("aria-labelledby"); got != id+"-title "+id+"-desc" {
		t.Errorf("aria-labelledby %q", got)
	}
	for _, n := range root.Nodes {
		switch {
		case n.XMLName.Local == "title" && n.attr("id") == id+"-title":
			c.title = n.Text
		case n.XMLName.Local == "desc" && n.attr("id") == id+"-desc":
			c.desc = n.Text
		}
	}
	for _, n := range root.walk() {
		switch {
		case n.XMLName.Local == "rect" && n.attr("class") == "bar":
			if len(n.Nodes) != 1 || n.Nodes[0].XMLName.Local != "title" {
				t.Errorf("bar without its title: %+v", n)
				continue
			}
			c.bars = append(c.bars, n.Nodes[0].Text+"|"+n.attr("height")+"|"+n.attr("fill"))
		case n.XMLName.Local == "text":
			c.texts[n.attr("class")] = append(c.texts[n.attr("class")], n.Text)
		}
		if n.XMLName.Local == "script" || n.XMLName.Local == "foreignObject" {
			t.Errorf("a chart with a %s: charts are drawn without script", n.XMLName.Local)
		}
		for _, a := range n.Attrs {
			if strings.HasPrefix(a.Name.Local, "on") {
				t.Errorf("%s has an event handler %s", n.XMLName.Local, a.Name.Local)
			}
		}
	}
	return c
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// The received chart stacks each month's kinds in Art. 18's order, bar
// heights in proportion on an axis up to 10 (the plot is 268 units high),
// totals above the bars, a legend, and every number in the description.
func TestReceivedChart(t *testing.T) {
	var buf bytes.Buffer
	if err := report.ReceivedChart(&buf, known()); err != nil {
		t.Fatal(err)
	}
	c := read(t, parse(t, buf.Bytes()), report.ReceivedChartID)
	if c.title != "Solicitações recebidas por mês, por tipo" {
		t.Errorf("title %q", c.title)
	}
	if want := "Gráfico de barras empilhadas, de jan/2026 a mar/2026: 11 solicitações recebidas no total; o mês com mais foi jan/2026, com 8. " +
		"Por mês: jan/2026: 8 (Acesso 5, Eliminação 3); fev/2026: 2 (Confirmação 2); mar/2026: 1 (Anonimização 1)."; c.desc != want {
		t.Errorf("desc:\n got %q\nwant %q", c.desc, want)
	}
	equal(t, "bars", c.bars, []string{
		"jan/2026 — Acesso: 5 recebidas|134.0|#E69F00",
		"jan/2026 — Eliminação: 3 recebidas|80.4|#D55E00",
		"fev/2026 — Confirmação: 2 recebidas|53.6|#0072B2",
		"mar/2026 — Anonimização: 1 recebidas|26.8|#CC79A7",
	})
	equal(t, "totals", c.texts["total"], []string{"8", "2", "1"})
	equal(t, "months", c.texts["month"], []string{"jan/2026", "fev/2026", "mar/2026"})
	equal(t, "legend", c.texts["legend"], []string{"Confirmação", "Acesso", "Eliminação", "Anonimização"})
	equal(t, "ticks", c.texts["tick"], []string{"0", "2", "4", "6", "8", "10"})
}

// The 15-day chart: January 4 of 6 (67%), February 2 of 3 (67%), March
// nothing completed ("—", no bar); the axis in percent.
func TestWithin15Chart(t *testing.T) {
	var buf bytes.Buffer
	if err := report.Within15Chart(&buf, known()); err != nil {
		t.Fatal(err)
	}
	c := read(t, parse(t, buf.Bytes()), report.Within15ChartID)
	if c.title != "Solicitações concluídas em até 15 dias, por mês" {
		t.Errorf("title %q", c.title)
	}
	if !strings.Contains(c.desc, "; no período, 67% (6 de 9). Por mês: jan/2026: 67% (4 de 6); fev/2026: 67% (2 de 3); mar/2026: nenhuma concluída.") {
		t.Errorf("desc %q", c.desc)
	}
	equal(t, "bars", c.bars, []string{
		"jan/2026: 67% concluídas em até 15 dias (4 de 6)|178.7|#009E73",
		"fev/2026: 67% concluídas em até 15 dias (2 de 3)|178.7|#009E73",
	})
	equal(t, "labels", c.texts["total"], []string{"67%", "67%", "—"})
	equal(t, "ticks", c.texts["tick"], []string{"0%", "25%", "50%", "75%", "100%"})
}

// An empty period still draws a valid, described chart saying so.
func TestChartsEmpty(t *testing.T) {
	for id, draw := range map[string]func(io.Writer, report.Report) error{
		report.ReceivedChartID: report.ReceivedChart, report.Within15ChartID: report.Within15Chart, report.OverdueChartID: report.OverdueChart} {
		var buf bytes.Buffer
		if err := draw(&buf, report.Report{}); err != nil {
			t.Fatal(err)
		}
		c := read(t, parse(t, buf.Bytes()), id)
		if c.desc != "Nenhuma solicitação no período." || len(c.bars) != 0 || len(c.texts["empty"]) != 1 {
			t.Errorf("%s: desc %q, %d bars, texts %q", id, c.desc, len(c.bars), c.texts)
		}
	}
}

// The CSV byte for byte: months in order, kinds in Art. 18's order, the
// share and median empty where nothing was completed.
func TestCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteCSV(&buf, known()); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFF" + `Mês,Tipo,Tipo (código),Recebidas,Concluídas,Concluídas no prazo,Concluídas em até 15 dias,% concluídas em até 15 dias,Vencidas em aberto,Mediana de dias para concluir
2026-01,Acesso,EXTRACT,5,4,4,3,75.0,0,9.5
2026-01,Eliminação,DELETE,3,2,1,1,50.0,1,16.0
2026-02,Confirmação,CONFIRM,2,2,2,2,100.0,0,0.0
2026-02,Acesso,EXTRACT,0,1,0,0,0.0,0,20.0
2026-03,Anonimização,ANONYMIZE,1,0,0,0,,1,
`
	if got := buf.String(); got != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, want)
	}
}

// The XLSX's cells: month totals with the share as a number formatted as a
// percentage, and the per-kind lines of the CSV.
func TestXLSX(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteXLSX(&buf, known()); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "sheets", f.GetSheetList(), []string{report.SheetMonths, report.SheetKinds})
	rows := func(sheet string) []string {
		t.Helper()
		rs, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, strings.Join(r, "|"))
		}
		return out
	}
	equal(t, report.SheetMonths, rows(report.SheetMonths), []string{
		"Relatório de solicitações dos titulares — Incorporadora Teste Ltda",
		"Gerado em 02/04/2026 10:00 (horário de Brasília)",
		"",
		"Mês|Recebidas|Concluídas|Concluídas no prazo|Concluídas em até 15 dias|% concluídas em até 15 dias|Vencidas em aberto",
		"jan/2026|8|6|5|4|66.7%|1",
		"fev/2026|2|3|2|2|66.7%|0",
		"mar/2026|1|0|0|0||1",
	})
	equal(t, report.SheetKinds, rows(report.SheetKinds)[3:], []string{
		"Mês|Tipo|Tipo (código)|Recebidas|Concluídas|Concluídas no prazo|Concluídas em até 15 dias|% concluídas em até 15 dias|Vencidas em aberto|Mediana de dias para concluir",
		"jan/2026|Acesso|EXTRACT|5|4|4|3|75.0%|0|9.5",
		"jan/2026|Eliminação|DELETE|3|2|1|1|50.0%|1|16.0",
		"fev/2026|Confirmação|CONFIRM|2|2|2|2|100.0%|0|0.0",
		"fev/2026|Acesso|EXTRACT|0|1|0|0|0.0%|0|20.0",
		"mar/2026|Anonimização|ANONYMIZE|1|0|0|0||1",
	})
	// The share is a number, not text: a spreadsheet can sum and chart it.
	raw, err := f.GetCellValue(report.SheetMonths, "F5", excelize.Options{RawCellValue: true})
	if err != nil || !strings.HasPrefix(raw, "0.6666") {
		t.Errorf("F5 raw %q, %v: want the share 4/6 as a number", raw, err)
	}
}

// A report the stats RPC filled wrongly is refused with what to fix.
func TestValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		mod  func(*report.Report)
		want string
	}{
		"order":    {func(r *report.Report) { r.Months[0], r.Months[1] = r.Months[1], r.Months[0] }, "list months in calendar order"},
		"twice":    {func(r *report.Report) { r.Months[1].Month = time.January }, "is listed twice"},
		"month":    {func(r *report.Report) { r.Months[0].Month = 13 }, "a month from 1 to 12"},
		"kind":     {func(r *report.Report) { r.Months[0].Kinds[1].Kind = "DELETE" }, "lists kind DELETE twice"},
		"negative": {func(r *report.Report) { r.Months[0].Kinds[0].Received = -1 }, "negative count"},
		"within":   {func(r *report.Report) { r.Months[0].Kinds[0].CompletedWithin15Days = 3 }, "more completed on time or within 15 days"},
		"overdue":  {func(r *report.Report) { r.Months[2].Kinds[0].Overdue = 2 }, "more overdue than received"},
	} {
		r := known()
		tc.mod(&r)
		var buf bytes.Buffer
		for _, err := range []error{r.Validate(), report.ReceivedChart(&buf, r), report.WriteCSV(&buf, r), report.WriteXLSX(&buf, r)} {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want %q", name, err, tc.want)
			}
		}
		if buf.Len() != 0 {
			t.Errorf("%s: %d bytes written for a refused report", name, buf.Len())
		}
	}
}

// A year of months widens the chart rather than crowd it: month labels
// stand at least 64 units apart, and the viewBox holds them all.
func TestYearChartSpacing(t *testing.T) {
	r := report.Report{}
	for m := time.January; m <= time.December; m++ {
		r.Months = append(r.Months, report.Month{Year: 2025, Month: m, Kinds: []report.KindCount{
			{Kind: "EXTRACT", Received: int64(m) * 3, Completed: int64(m), CompletedWithin15Days: int64(m) / 2}}})
	}
	for _, draw := range []func(io.Writer, report.Report) error{report.ReceivedChart, report.Within15Chart, report.OverdueChart} {
		var buf bytes.Buffer
		if err := draw(&buf, r); err != nil {
			t.Fatal(err)
		}
		root := parse(t, buf.Bytes())
		if got := root.attr("viewBox"); got != "0 0 1014 360" {
			t.Errorf("viewBox %q: want 12 months × 64 + margins", got)
		}
		var xs []float64
		for _, n := range root.walk() {
			if n.XMLName.Local == "text" && n.attr("class") == "month" {
				x, err := strconv.ParseFloat(n.attr("x"), 64)
				if err != nil {
					t.Fatal(err)
				}
				xs = append(xs, x)
			}
		}
		if len(xs) != 12 {
			t.Fatalf("%d month labels", len(xs))
		}
		for i := 1; i < len(xs); i++ {
			if xs[i]-xs[i-1] < 64 {
				t.Errorf("labels %d and %d are %.1f apart", i-1, i, xs[i]-xs[i-1])
			}
		}
	}
}

// The overdue chart: one in January (a DELETE), none in February, one in
// March (the ANONYMIZE), dated as the report was taken.
func TestOverdueChart(t *testing.T) {
	var buf bytes.Buffer
	if err := report.OverdueChart(&buf, known()); err != nil {
		t.Fatal(err)
	}
	c := read(t, parse(t, buf.Bytes()), report.OverdueChartID)
	if want := "Gráfico de barras, de jan/2026 a mar/2026: 2 solicitações vencidas e ainda em aberto em 02/04/2026. " +
		"Por mês de recebimento: jan/2026: 1; fev/2026: 0; mar/2026: 1."; c.desc != want {
		t.Errorf("desc:\n got %q\nwant %q", c.desc, want)
	}
	// niceTop(1) is 5 in steps of 1: a bar of 1 is a fifth of 268.
	equal(t, "bars", c.bars, []string{"jan/2026: 1 vencidas em aberto|53.6|#D55E00", "mar/2026: 1 vencidas em aberto|53.6|#D55E00"})
	equal(t, "labels", c.texts["total"], []string{"1", "0", "1"})
}

// LibreOffice prints a year of three kinds on landscape pages, each
// sheet's heading on every page.
func TestXLSXPrints(t *testing.T) {
	r := report.Report{Tenant: "Incorporadora Teste Ltda", Generated: time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)}
	for m := time.January; m <= time.December; m++ {
		n := int64(m)
		r.Months = append(r.Months, report.Month{Year: 2025, Month: m, Kinds: []report.KindCount{
			{Kind: "EXTRACT", Received: 10 + n, Completed: 9 + n, CompletedOnTime: 8 + n, CompletedWithin15Days: 7 + n, MedianDays: 6.5},
			{Kind: "DELETE", Received: 3 + n, Completed: 2, CompletedOnTime: 2, CompletedWithin15Days: 1, Overdue: 1, MedianDays: 14},
			{Kind: "CONFIRM", Received: 20, Completed: 20, CompletedOnTime: 20, CompletedWithin15Days: 20},
		}})
	}
	var buf bytes.Buffer
	if err := report.WriteXLSX(&buf, r); err != nil {
		t.Fatal(err)
	}
	pdf := printtest.XLSXToPDF(t, buf.Bytes())
	pages := printtest.Pages(t, pdf)
	if pages < 2 || pages > 4 {
		t.Errorf("%d pages: want the two sheets (12 and 36 lines) on 2 to 4 landscape pages", pages)
	}
	text := printtest.Text(t, pdf)
	if n := strings.Count(text, "Mês"); n != pages {
		t.Errorf("heading printed %d times on %d pages: want it on every page", n, pages)
	}
	for _, want := range []string{"dez/2025", "Eliminação", "Mediana de dias"} {
		if !strings.Contains(text, want) {
			t.Errorf("the printout lacks %q", want)
		}
	}
}
