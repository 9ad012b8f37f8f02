package console

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/report"
	"github.com/titular/titular/service"
)

func init() {
	addStrings(map[string]string{
		"report.title":         "Relatório de pedidos",
		"report.intro":         "Pedidos dos titulares por mês: recebidos por tipo, concluídos em até 15 dias e vencidos em aberto — para a diretoria ou para a ANPD. Os números são contagens; nenhum dado pessoal.",
		"report.period":        "Período",
		"report.year":          "Ano",
		"report.show":          "Mostrar",
		"report.from":          "De (mês)",
		"report.to":            "Até (mês)",
		"report.custom":        "Ou escolha os meses",
		"report.span":          "De %s a %s. Números de %s (horário de Brasília); “vencidos em aberto” são os ainda abertos e com prazo vencido nesse momento.",
		"report.download":      "Baixar",
		"report.csv":           "Planilha CSV",
		"report.xlsx":          "Planilha Excel (XLSX)",
		"report.charts":        "Gráficos",
		"report.numbers":       "Números",
		"report.months":        "Pedidos por mês (todos os tipos)",
		"report.kinds":         "Pedidos por tipo no período",
		"report.col.month":     "Mês",
		"report.col.kind":      "Tipo",
		"report.col.received":  "Recebidos",
		"report.col.completed": "Concluídos",
		"report.col.deadline":  "Concluídos no prazo",
		"report.col.within15":  "Concluídos em até 15 dias",
		"report.col.share15":   "% em até 15 dias",
		"report.col.overdue":   "Vencidos em aberto",
		"report.total":         "Total do período",
		"report.bad_year":      "Ano inválido: escolha um ano de %d a %d, como %d.",
		"report.bad_months":    "Período inválido: informe o mês inicial e o final (AAAA-MM, por exemplo de 2026-01 a 2026-06), entre %d e %d, o final igual ou depois do inicial.",
		"report.bad_both":      "Escolha um ano ou um intervalo de meses, não os dois.",
		"report.none":          "Nenhum pedido recebido ou concluído neste período.",
	})
}

// reportRoutes adds the report of requests: charts and CSV/XLSX.
func (c *Console) reportRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /console/t/{tenant}/relatorio", c.signedIn(c.reportPage))
	m.HandleFunc("GET /console/t/{tenant}/relatorio.csv", c.signedIn(c.reportFile(reportCSV)))
	m.HandleFunc("GET /console/t/{tenant}/relatorio.xlsx", c.signedIn(c.reportFile(reportXLSX)))
}

// Bounds of the report's period: LGPD's requests start in 2020 (in force
// from September 2020); GetRequestStats takes at most 120 months.
const (
	reportFirstYear = 2020
	reportMaxMonths = 120
)

// reportPeriod is the period asked for, as the query spells it: a year, or
// from and to months ("YYYY-MM", to inclusive); none is the current year.
type reportPeriod struct {
	Year     int
	From, To string
}

var reportMonthRe = regexp.MustCompile(`^\d{4}-\d{2}$`)

// parseReportPeriod reads ?year= or ?from=&to=; it returns the message to
// show when they are wrong.
func parseReportPeriod(q url.Values, now time.Time) (reportPeriod, string) {
	var p reportPeriod
	y, f, t := q.Get("year"), q.Get("from"), q.Get("to")
	this := now.UTC().Year()
	switch {
	case y != "" && (f != "" || t != ""):
		return p, s("report.bad_both")
	case f != "" || t != "":
		a, errA := time.Parse("2006-01", f)
		b, errB := time.Parse("2006-01", t)
		if !reportMonthRe.MatchString(f) || !reportMonthRe.MatchString(t) || errA != nil || errB != nil || b.Before(a) ||
			!a.AddDate(0, reportMaxMonths, 0).After(b) || a.Year() < reportFirstYear || b.Year() > this {
			return p, fmt.Sprintf(s("report.bad_months"), reportFirstYear, this)
		}
		p.From, p.To = f, t
	case y != "":
		n, err := strconv.Atoi(y)
		if err != nil || n < reportFirstYear || n > this {
			return p, fmt.Sprintf(s("report.bad_year"), reportFirstYear, this, this)
		}
		p.Year = n
	default:
		p.Year = this
	}
	return p, ""
}

// query is the period as the download links carry it.
func (p reportPeriod) query() string {
	if p.Year != 0 {
		return "year=" + strconv.Itoa(p.Year)
	}
	return url.Values{"from": {p.From}, "to": {p.To}}.Encode()
}

// name is the period in a file name: "2026" or "2025-07_2026-06".
func (p reportPeriod) name() string {
	if p.Year != 0 {
		return strconv.Itoa(p.Year)
	}
	return p.From + "_" + p.To
}

// reportTotals is a row of the page's tables.
type reportTotals struct {
	Label string
	report.KindCount
	Share string
}

type reportData struct {
	Period reportPeriod
	Years  []int
	// CSV and XLSX are the period's download links.
	CSV, XLSX string
	// First and Last name the period's months, Taken when it was counted.
	First, Last, Taken string
	// The three charts, SVG.
	Received, Within, Overdue template.HTML
	Months, Kinds             []reportTotals
	Total                     reportTotals
	Empty                     bool
}

// reportStats takes GetRequestStats for the period as the signed-in person.
func (c *Console) reportStats(ctx context.Context, p *service.Principal, tenant string, per reportPeriod) (*lgpdv1.RequestStats, error) {
	req := &lgpdv1.GetRequestStatsRequest{Tenant: tenant, Year: int32(per.Year), From: per.From, To: per.To} //nolint:gosec // G115: the year was checked to be 2020 up to this year
	ctx, err := c.call(ctx, p, lgpdv1.RequestService_GetRequestStats_FullMethodName, req)
	if err != nil {
		return nil, err
	}
	return c.opts.Requests.GetRequestStats(ctx, req)
}

// reportOf fills a report.Report from the stats, field for field.
func reportOf(tenant string, st *lgpdv1.RequestStats) (report.Report, error) {
	r := report.Report{Tenant: tenant, Generated: st.GetAsOf().AsTime()}
	for _, m := range st.GetMonths() {
		t, err := time.Parse("2006-01", m.GetMonth())
		if err != nil {
			return r, fmt.Errorf("stats month %q: %w", m.GetMonth(), err)
		}
		month := report.Month{Year: t.Year(), Month: t.Month()}
		for _, k := range m.GetKinds() {
			month.Kinds = append(month.Kinds, report.KindCount{Kind: k.GetKind().String(), Received: k.GetReceived(),
				Completed: k.GetCompleted(), CompletedOnTime: k.GetCompletedWithinDeadline(),
				CompletedWithin15Days: k.GetCompletedWithin_15Days(), Overdue: k.GetOverdue(), MedianDays: k.GetMedianDaysToComplete()})
		}
		r.Months = append(r.Months, month)
	}
	return r, r.Validate()
}

// reportFor parses the period and takes the report; on failure it has
// written the answer (400 with the reason, 502) and returns ok false.
func (c *Console) reportFor(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) (reportPeriod, report.Report, bool) {
	v.Title, v.Section = s("report.title"), "relatorio"
	per, msg := parseReportPeriod(r.URL.Query(), time.Now())
	if msg != "" {
		v.Error = msg
		v.Data = &reportData{Period: reportPeriod{Year: time.Now().UTC().Year()}, Years: reportYears(time.Now())}
		c.render(w, http.StatusBadRequest, "report.html", v)
		return per, report.Report{}, false
	}
	name := v.Tenant.Name
	if name == "" {
		name = v.Tenant.ID
	}
	st, err := c.reportStats(r.Context(), p, v.Tenant.ID, per)
	var rep report.Report
	if err == nil {
		rep, err = reportOf(name, st)
	}
	if err != nil {
		code := apiCode(err)
		c.opts.Log.Warn("console: report failed", "tenant", v.Tenant.ID, "code", code.String())
		v.Data = &reportData{Period: per, Years: reportYears(time.Now())}
		if code == codes.InvalidArgument {
			v.Error = fmt.Sprintf(s("report.bad_months"), reportFirstYear, time.Now().UTC().Year())
			c.render(w, http.StatusBadRequest, "report.html", v)
		} else {
			v.Error = s("error.body")
			c.render(w, http.StatusBadGateway, "report.html", v)
		}
		return per, rep, false
	}
	return per, rep, true
}

// reportYears are the year selector's choices, newest first.
func reportYears(now time.Time) []int {
	var ys []int
	for y := now.UTC().Year(); y >= reportFirstYear; y-- {
		ys = append(ys, y)
	}
	return ys
}

// reportPage shows the period's three charts (SVG drawn here, inline: no
// script, no image request), the numbers behind them as tables, and the
// links to download them.
func (c *Console) reportPage(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
	per, rep, ok := c.reportFor(w, r, v, p)
	if !ok {
		return
	}
	file := "/console/t/" + v.Tenant.ID + "/relatorio."
	d := &reportData{Period: per, Years: reportYears(time.Now()), CSV: file + "csv?" + per.query(), XLSX: file + "xlsx?" + per.query(),
		Taken: rep.Generated.In(brasilia).Format("02/01/2006 15:04")}
	if n := len(rep.Months); n > 0 {
		d.First, d.Last = rep.Months[0].Label(), rep.Months[n-1].Label()
	}
	for _, chart := range []struct {
		into *template.HTML
		draw func(*bytes.Buffer, report.Report) error
	}{
		{&d.Received, func(b *bytes.Buffer, r report.Report) error { return report.ReceivedChart(b, r) }},
		{&d.Within, func(b *bytes.Buffer, r report.Report) error { return report.Within15Chart(b, r) }},
		{&d.Overdue, func(b *bytes.Buffer, r report.Report) error { return report.OverdueChart(b, r) }},
	} {
		var b bytes.Buffer
		if err := chart.draw(&b, rep); err != nil {
			c.opts.Log.Warn("console: report chart failed", "tenant", v.Tenant.ID, "error", err.Error())
			v.Error = s("error.body")
			c.render(w, http.StatusInternalServerError, "report.html", v)
			return
		}
		// The report package writes the SVG itself and escapes every text
		// it puts in (report.esc); it holds counts and labels only.
		*chart.into = template.HTML(b.String()) //nolint:gosec // G203: SVG generated by report, its texts XML-escaped
	}
	byKind := map[string]*report.KindCount{}
	for _, m := range rep.Months {
		t := m.Total()
		d.Months = append(d.Months, reportTotals{Label: m.Label(), KindCount: t, Share: reportShare15(t)})
		d.Total.Add(t)
		for _, k := range m.Kinds {
			if byKind[k.Kind] == nil {
				byKind[k.Kind] = &report.KindCount{Kind: k.Kind}
			}
			byKind[k.Kind].Add(k)
		}
	}
	d.Total.Label, d.Total.Share = s("report.total"), reportShare15(d.Total.KindCount)
	d.Empty = d.Total.Received == 0 && d.Total.Completed == 0
	for _, k := range rep.Kinds() {
		kc := byKind[k]
		d.Kinds = append(d.Kinds, reportTotals{Label: report.KindName(k), KindCount: *kc, Share: reportShare15(*kc)})
	}
	v.Data = d
	c.render(w, http.StatusOK, "report.html", v)
}

// reportShare15 is the share within 15 days as the table shows it: "87,5%", or
// "—" when nothing was completed.
func reportShare15(k report.KindCount) string {
	sh, ok := k.Share15()
	if !ok {
		return "—"
	}
	return strings.Replace(strconv.FormatFloat(sh*100, 'f', 1, 64), ".", ",", 1) + "%"
}

// A report file: its type, extension and writer.
type reportFormat struct {
	ext, contentType string
	write            func(*bytes.Buffer, report.Report) error
}

var (
	reportCSV  = reportFormat{"csv", "text/csv; charset=utf-8", func(b *bytes.Buffer, r report.Report) error { return report.WriteCSV(b, r) }}
	reportXLSX = reportFormat{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		func(b *bytes.Buffer, r report.Report) error { return report.WriteXLSX(b, r) }}
)

// reportFile answers the period's numbers as a download: counts only, no
// personal data; the file is named after the tenant's id and the period.
func (c *Console) reportFile(f reportFormat) tenantPage {
	return func(w http.ResponseWriter, r *http.Request, v *view, p *service.Principal) {
		per, rep, ok := c.reportFor(w, r, v, p)
		if !ok {
			return
		}
		var b bytes.Buffer
		if err := f.write(&b, rep); err != nil {
			c.opts.Log.Warn("console: report file failed", "tenant", v.Tenant.ID, "format", f.ext, "error", err.Error())
			v.Error = s("error.body")
			c.render(w, http.StatusInternalServerError, "report.html", v)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="relatorio-%s-%s.%s"`, v.Tenant.ID, per.name(), f.ext))
		h.Set("Content-Length", strconv.Itoa(b.Len()))
		_, _ = w.Write(b.Bytes())
	}
}
