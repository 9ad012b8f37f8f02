package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/titular/titular/internal/brtime"
)

// Chart geometry, in SVG user units (the viewBox scales it to the page).
const (
	chartH           = 360
	padLeft, padTop  = 56, 44
	padBottom        = 48
	legendW          = 190 // right of the plot, for the kinds' legend
	minPlotW         = 514 // the plot of a chart 760 wide
	monthW           = 64  // the least a month takes, so "set/2026" labels never touch
	plotH            = chartH - padTop - padBottom
	barShare         = 0.6 // of a month's slot
	fontFamily       = "system-ui, sans-serif"
	emptyPeriodLabel = "Nenhuma solicitação no período."
)

// svg builds one chart document.
type svg struct {
	b     bytes.Buffer
	id    string
	plotW float64 // the plot's width: wider with many months
}

// newSVG sizes a chart of months months.
func newSVG(months int) *svg {
	return &svg{plotW: math.Max(minPlotW, float64(months*monthW))}
}

func (s *svg) chartW() int { return int(padLeft + s.plotW + legendW) }

// esc escapes text for XML content and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// open starts the document: role img, labelled by its title and described
// by desc, so a screen reader reads both; id prefixes the element ids so
// two charts can share a page.
func (s *svg) open(id, title, desc string) {
	s.id = id
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 %d %d" width="%d" height="%d" `+
		`aria-labelledby="%s-title %s-desc" font-family="%s" font-size="12">`+"\n", s.chartW(), chartH, s.chartW(), chartH, id, id, fontFamily)
	fmt.Fprintf(&s.b, `<title id="%s-title">%s</title>`+"\n", id, esc(title))
	fmt.Fprintf(&s.b, `<desc id="%s-desc">%s</desc>`+"\n", id, esc(desc))
	fmt.Fprintf(&s.b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", padLeft, esc(title))
}

func (s *svg) text(x, y float64, anchor, class, t string) {
	fmt.Fprintf(&s.b, `<text x="%s" y="%s" text-anchor="%s" class="%s">%s</text>`+"\n", num(x), num(y), anchor, class, esc(t))
}

// bar draws a rectangle with its own tooltip title.
func (s *svg) bar(x, y, w, h float64, fill, class, title string) {
	fmt.Fprintf(&s.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s" class="%s"><title>%s</title></rect>`+"\n",
		num(x), num(y), num(w), num(h), fill, class, esc(title))
}

// yAxis draws the gridlines and their labels for values 0..top in steps.
func (s *svg) yAxis(top, step float64, label func(float64) string) {
	for v := 0.0; v <= top+step/2; v += step {
		y := padTop + plotH - v/top*plotH
		fmt.Fprintf(&s.b, `<line x1="%d" y1="%s" x2="%s" y2="%s" stroke="#dddddd"/>`+"\n", padLeft, num(y), num(padLeft+s.plotW), num(y))
		s.text(padLeft-6, y+4, "end", "tick", label(v))
	}
	fmt.Fprintf(&s.b, `<line x1="%d" y1="%d" x2="%s" y2="%d" stroke="#333333"/>`+"\n", padLeft, padTop+plotH, num(padLeft+s.plotW), padTop+plotH)
}

func (s *svg) close(w io.Writer) error {
	s.b.WriteString("</svg>\n")
	_, err := w.Write(s.b.Bytes())
	return err
}

// niceTop rounds highest up to a value whose fifths are round numbers, and
// returns it with its step (at least 1 each).
func niceTop(highest int64) (top, step float64) {
	if highest <= 0 {
		return 5, 1
	}
	raw := float64(highest) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	step = math.Max(1, math.Ceil(step))
	return step * 5, step
}

// slot is where month i of n sits on the x axis: the bar's left edge and
// its width, and the slot's centre.
func (s *svg) slot(i, n int) (x, w, centre float64) {
	sw := s.plotW / float64(n)
	w = sw * barShare
	centre = padLeft + sw*float64(i) + sw/2
	return centre - w/2, w, centre
}

func (r Report) span() string {
	if len(r.Months) == 0 {
		return "sem meses"
	}
	return "de " + r.Months[0].Label() + " a " + r.Months[len(r.Months)-1].Label()
}

// ReceivedChartID prefixes the element ids of ReceivedChart's document.
const ReceivedChartID = "recebidas"

// ReceivedChart writes an SVG bar chart of the requests received per
// month, a bar per month stacked by kind, its total above it, a legend of
// the kinds, and every number also in the description and in each
// segment's title, for a screen reader or a pointer.
func ReceivedChart(w io.Writer, r Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	kinds := r.kinds()
	var total int64
	var most Month
	var mostN int64 = -1
	var parts []string
	for _, m := range r.Months {
		t := m.Total().Received
		total += t
		if t > mostN {
			most, mostN = m, t
		}
		var ks []string
		for _, k := range m.sortedKinds() {
			if k.Received > 0 {
				ks = append(ks, fmt.Sprintf("%s %d", KindName(k.Kind), k.Received))
			}
		}
		p := fmt.Sprintf("%s: %d", m.Label(), t)
		if len(ks) > 0 {
			p += " (" + strings.Join(ks, ", ") + ")"
		}
		parts = append(parts, p)
	}
	title := "Solicitações recebidas por mês, por tipo"
	desc := emptyPeriodLabel
	if len(r.Months) > 0 {
		desc = fmt.Sprintf("Gráfico de barras empilhadas, %s: %d solicitações recebidas no total", r.span(), total)
		if mostN > 0 {
			desc += fmt.Sprintf("; o mês com mais foi %s, com %d", most.Label(), mostN)
		}
		desc += ". Por mês: " + strings.Join(parts, "; ") + "."
	}
	s := newSVG(len(r.Months))
	s.open(ReceivedChartID, title, desc)
	if len(r.Months) == 0 {
		s.text(padLeft+s.plotW/2, padTop+plotH/2, "middle", "empty", emptyPeriodLabel)
		return s.close(w)
	}
	var highest int64
	for _, m := range r.Months {
		highest = max(highest, m.Total().Received)
	}
	top, step := niceTop(highest)
	s.yAxis(top, step, func(v float64) string { return strconv.Itoa(int(v)) })
	for i, m := range r.Months {
		x, bw, centre := s.slot(i, len(r.Months))
		y := float64(padTop + plotH)
		for _, k := range m.sortedKinds() {
			if k.Received == 0 {
				continue
			}
			h := float64(k.Received) / top * plotH
			y -= h
			s.bar(x, y, bw, h, kindColor(k.Kind), "bar",
				fmt.Sprintf("%s — %s: %d recebidas", m.Label(), KindName(k.Kind), k.Received))
		}
		s.text(centre, y-4, "middle", "total", strconv.FormatInt(m.Total().Received, 10))
		s.text(centre, padTop+plotH+18, "middle", "month", m.Label())
	}
	for i, k := range kinds {
		y := float64(padTop + i*20)
		lx := padLeft + s.plotW + 16
		fmt.Fprintf(&s.b, `<rect x="%s" y="%s" width="12" height="12" fill="%s"/>`+"\n", num(lx), num(y), kindColor(k))
		s.text(lx+18, y+11, "start", "legend", KindName(k))
	}
	return s.close(w)
}

// Within15ChartID prefixes the element ids of Within15Chart's document.
const Within15ChartID = "em15dias"

// Within15Chart writes an SVG bar chart of the share of the requests
// completed each month that were completed within 15 days (all kinds),
// from 0 to 100%, the percentage above each bar; a month with nothing
// completed shows "—" and no bar.
func Within15Chart(w io.Writer, r Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	title := "Solicitações concluídas em até 15 dias, por mês"
	var parts []string
	var done, within int64
	for _, m := range r.Months {
		t := m.Total()
		done += t.Completed
		within += t.CompletedWithin15Days
		if sh, ok := t.Share15(); ok {
			parts = append(parts, fmt.Sprintf("%s: %s (%d de %d)", m.Label(), percent(sh), t.CompletedWithin15Days, t.Completed))
		} else {
			parts = append(parts, m.Label()+": nenhuma concluída")
		}
	}
	desc := emptyPeriodLabel
	if len(r.Months) > 0 {
		desc = fmt.Sprintf("Gráfico de barras, %s, da parcela das solicitações concluídas no mês que foram concluídas em até 15 dias do recebimento", r.span())
		if done > 0 {
			desc += fmt.Sprintf("; no período, %s (%d de %d)", percent(float64(within)/float64(done)), within, done)
		}
		desc += ". Por mês: " + strings.Join(parts, "; ") + "."
	}
	s := newSVG(len(r.Months))
	s.open(Within15ChartID, title, desc)
	if len(r.Months) == 0 {
		s.text(padLeft+s.plotW/2, padTop+plotH/2, "middle", "empty", emptyPeriodLabel)
		return s.close(w)
	}
	s.yAxis(1, 0.25, percent)
	for i, m := range r.Months {
		x, bw, centre := s.slot(i, len(r.Months))
		t := m.Total()
		s.text(centre, padTop+plotH+18, "middle", "month", m.Label())
		sh, ok := t.Share15()
		if !ok {
			s.text(centre, padTop+plotH-4, "middle", "total", "—")
			continue
		}
		h := sh * plotH
		y := padTop + plotH - h
		s.bar(x, y, bw, h, "#009E73", "bar",
			fmt.Sprintf("%s: %s concluídas em até 15 dias (%d de %d)", m.Label(), percent(sh), t.CompletedWithin15Days, t.Completed))
		s.text(centre, y-4, "middle", "total", percent(sh))
	}
	return s.close(w)
}

// percent writes a share from 0 to 1 as a whole percentage: "87%".
func percent(v float64) string { return strconv.Itoa(int(math.Round(v*100))) + "%" }

// OverdueChartID prefixes the element ids of OverdueChart's document.
const OverdueChartID = "vencidas"

// OverdueChart writes an SVG bar chart of the requests still open past
// their due date when the report was taken, by the month they arrived:
// what the DPO has to answer for first. Each bar's count is above it and
// in its title; the description lists every month.
func OverdueChart(w io.Writer, r Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	title := "Solicitações vencidas em aberto, por mês de recebimento"
	var total, highest int64
	var parts []string
	for _, m := range r.Months {
		n := m.Total().Overdue
		total += n
		highest = max(highest, n)
		parts = append(parts, fmt.Sprintf("%s: %d", m.Label(), n))
	}
	desc := emptyPeriodLabel
	if len(r.Months) > 0 {
		desc = fmt.Sprintf("Gráfico de barras, %s: %d solicitações vencidas e ainda em aberto em %s. Por mês de recebimento: %s.",
			r.span(), total, r.Generated.In(brtime.Location()).Format("02/01/2006"), strings.Join(parts, "; "))
	}
	s := newSVG(len(r.Months))
	s.open(OverdueChartID, title, desc)
	if len(r.Months) == 0 {
		s.text(padLeft+s.plotW/2, padTop+plotH/2, "middle", "empty", emptyPeriodLabel)
		return s.close(w)
	}
	top, step := niceTop(highest)
	s.yAxis(top, step, func(v float64) string { return strconv.Itoa(int(v)) })
	for i, m := range r.Months {
		x, bw, centre := s.slot(i, len(r.Months))
		n := m.Total().Overdue
		s.text(centre, padTop+plotH+18, "middle", "month", m.Label())
		h := float64(n) / top * plotH
		y := padTop + plotH - h
		if n > 0 {
			s.bar(x, y, bw, h, "#D55E00", "bar", fmt.Sprintf("%s: %d vencidas em aberto", m.Label(), n))
		}
		s.text(centre, y-4, "middle", "total", strconv.FormatInt(n, 10))
	}
	return s.close(w)
}
