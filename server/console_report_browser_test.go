package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
	"google.golang.org/grpc/metadata"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
)

// TestConsoleReportInChromium seeds requests over four months, opens the
// report in Chromium for those months and checks its three SVG charts by
// their titles, its table against GetRequestStats and against the rows
// themselves, and the CSV and XLSX it links to; then the queue, filtered
// to the overdue ones, lists them by due date across its two pages, the
// most overdue first, each marked.
func TestConsoleReportInChromium(t *testing.T) {
	env := newTestEnv(t, 20)
	now := time.Now().UTC()
	const lates = 55 // with the fixture's two, 57 overdue: two pages of the queue
	rows := reportFixture(now, lates)
	ids := insertQueueRows(t, env.demoDB(t), rows)
	name := map[string]string{}
	for n, id := range ids {
		name[id] = n
	}
	first, last := reportMonthStart(now, 3).Format("2006-01"), now.Format("2006-01")
	var months []string
	for k := 3; k >= 0; k-- {
		months = append(months, reportMonthStart(now, k).Format("2006-01"))
	}
	truth := reportTruth(rows, now, months)

	// What the API says for the same months.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyDPO)
	st, err := lgpdv1.NewRequestServiceClient(env.grpc).GetRequestStats(ctx, &lgpdv1.GetRequestStatsRequest{Tenant: "demo", From: first, To: last})
	if err != nil {
		t.Fatal(err)
	}
	api := map[string]*reportMonth{}
	for _, m := range st.GetMonths() {
		sum := &reportMonth{}
		for _, k := range m.GetKinds() {
			sum.received += k.GetReceived()
			sum.completed += k.GetCompleted()
			sum.onTime += k.GetCompletedWithinDeadline()
			sum.within15 += k.GetCompletedWithin_15Days()
			sum.overdue += k.GetOverdue()
		}
		api[m.GetMonth()] = sum
	}
	for _, m := range months {
		if api[m] == nil || *api[m] != *truth[m] {
			t.Fatalf("GetRequestStats %s: %+v, want %+v", m, api[m], truth[m])
		}
	}

	shots := screenshots(t)
	b := browser(t)
	step(b, t, "sign in", chromedp.Navigate(env.baseURL+"/console/entrar"), chromedp.WaitVisible(chromedp.ID("api_key")),
		chromedp.SendKeys(chromedp.ID("api_key"), keyDPO), chromedp.Click(chromedp.ID("signin-submit")), chromedp.WaitVisible(chromedp.ID("queue")))

	// The report, from the nav, then the months chosen in its form.
	step(b, t, "report", chromedp.Click(chromedp.CSS(`a[href="/console/t/demo/relatorio"]`)), chromedp.WaitVisible(chromedp.ID("report-months")))
	step(b, t, "months", chromedp.SetValue(chromedp.ID("r-from"), first), chromedp.SetValue(chromedp.ID("r-to"), last))
	if code := navigate(b, t, "show months", chromedp.Click(chromedp.ID("r-months"))); code != http.StatusOK {
		t.Fatalf("report of %s to %s: HTTP %d", first, last, code)
	}
	if loc := value(b, t, "location", chromedp.Location()); !strings.HasSuffix(loc, "/console/t/demo/relatorio?from="+first+"&to="+last) {
		t.Fatalf("report at %s", loc)
	}
	step(b, t, "report loaded", chromedp.WaitReady(chromedp.CSS("#report-kinds")))
	titles := value(b, t, "chart titles", chromedp.Evaluate[[]string](`[...document.querySelectorAll('figure.chart > svg[role=img]')].map(s => s.querySelector(':scope > title').textContent + '|' + s.getAttribute('aria-labelledby'))`))
	wantTitles := []string{"Solicitações recebidas por mês, por tipo|recebidas-title recebidas-desc",
		"Solicitações concluídas em até 15 dias, por mês|em15dias-title em15dias-desc",
		"Solicitações vencidas em aberto, por mês de recebimento|vencidas-title vencidas-desc"}
	if !slices.Equal(titles, wantTitles) {
		t.Fatalf("charts %q, want %q", titles, wantTitles)
	}
	// The charts are drawn: the received chart has a bar per month and
	// kind received, the overdue one a bar per month with overdue requests.
	bars := value(b, t, "bars", chromedp.Evaluate[[]int](`['chart-received','chart-within15','chart-overdue'].map(id => document.querySelectorAll('#'+id+' rect.bar').length)`))
	var overdueMonths int
	for _, m := range months {
		if truth[m].overdue > 0 {
			overdueMonths++
		}
	}
	if len(bars) != 3 || bars[0] < len(months) || bars[2] != overdueMonths {
		t.Fatalf("bars per chart %v; want at least %d received, %d overdue", bars, len(months), overdueMonths)
	}

	// The table, month by month and the period's total, against the API.
	table := value(b, t, "table", chromedp.Evaluate[[][]string](`[...document.querySelectorAll('#report-months tbody tr, #report-months tfoot tr')].map(r => [...r.cells].map(c => c.textContent))`))
	if len(table) != len(months)+1 {
		t.Fatalf("table rows %v, want %d months and the total", table, len(months))
	}
	var total reportMonth
	for i, m := range months {
		w := api[m]
		total.received += w.received
		total.completed += w.completed
		total.onTime += w.onTime
		total.within15 += w.within15
		total.overdue += w.overdue
		reportRowIs(t, table[i], reportMonthLabel(m), w)
	}
	reportRowIs(t, table[len(months)], "Total do período", &total)
	if total.overdue != lates+2 || total.received != int64(len(rows)) {
		t.Fatalf("period totals %+v; want all %d rows received, %d overdue", total, len(rows), lates+2)
	}
	screenshot(b, t, shots, "report.png")

	// The files, through the page's links with the browser's session.
	hrefs := value(b, t, "links", chromedp.Evaluate[[]string](`[document.getElementById('dl-csv').href, document.getElementById('dl-xlsx').href]`))
	download := func(u string) (http.Header, []byte) { return browserGet(b, t, u) }
	if want := env.baseURL + "/console/t/demo/relatorio.csv?from=" + first + "&to=" + last; hrefs[0] != want {
		t.Fatalf("CSV link %s, want %s", hrefs[0], want)
	}
	h, raw := download(hrefs[0])
	if !strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") {
		t.Errorf("CSV Content-Disposition %q", h.Get("Content-Disposition"))
	}
	lines, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	csvSum := map[string]*reportMonth{}
	for _, l := range lines[1:] {
		if csvSum[l[0]] == nil {
			csvSum[l[0]] = &reportMonth{}
		}
		n := func(i int) int64 {
			v, err := strconv.ParseInt(l[i], 10, 64)
			if err != nil {
				t.Fatalf("CSV line %v column %d: %v", l, i, err)
			}
			return v
		}
		s := csvSum[l[0]]
		s.received, s.completed, s.onTime, s.within15, s.overdue = s.received+n(3), s.completed+n(4), s.onTime+n(5), s.within15+n(6), s.overdue+n(8)
	}
	for _, m := range months {
		if (truth[m].received > 0 || truth[m].completed > 0) && (csvSum[m] == nil || *csvSum[m] != *truth[m]) {
			t.Errorf("CSV %s adds up to %+v, want %+v", m, csvSum[m], truth[m])
		}
	}
	if lines[0][0] != "Mês" || lines[0][8] != "Vencidas em aberto" {
		t.Errorf("CSV heading %v", lines[0])
	}
	for _, id := range ids {
		if bytes.Contains(raw, []byte(id)) {
			t.Fatal("the CSV names a request")
		}
	}

	_, raw = download(hrefs[1])
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("XLSX: %v", err)
	}
	defer f.Close()
	// "Por mês": heading on row 4, then a row per month: A the month, B
	// received, G overdue.
	for i, m := range months {
		row := strconv.Itoa(5 + i)
		label, _ := f.GetCellValue("Por mês", "A"+row)
		received, _ := f.GetCellValue("Por mês", "B"+row)
		overdue, _ := f.GetCellValue("Por mês", "G"+row)
		if label != reportMonthLabel(m) || received != strconv.FormatInt(truth[m].received, 10) || overdue != strconv.FormatInt(truth[m].overdue, 10) {
			t.Errorf("XLSX row %s: %s received %s overdue %s; want %s %d %d", row, label, received, overdue, reportMonthLabel(m), truth[m].received, truth[m].overdue)
		}
	}

	// The queue, overdue only: its quick link, 50 then 7 requests, by due
	// date across the pages, every one marked.
	want := reportQueueOrder(rows, now, func(r queueRow) bool {
		return (r.status == "AWAITING_APPROVAL" || r.status == "AWAITING_VERIFICATION") && r.due.Before(now) // the fixture's open rows are AWAITING_*
	})
	step(b, t, "queue", chromedp.Click(chromedp.CSS(`a[href="/console/t/demo/fila"]`)), chromedp.WaitVisible(chromedp.ID("q-overdue")))
	if code := navigate(b, t, "overdue queue", chromedp.Click(chromedp.ID("q-overdue"))); code != http.StatusOK {
		t.Fatalf("overdue queue: HTTP %d", code)
	}
	if loc := value(b, t, "location", chromedp.Location()); !strings.HasSuffix(loc, "/console/t/demo/fila?overdue=1") {
		t.Fatalf("overdue queue at %s", loc)
	}
	readRows := func() []string {
		step(b, t, "queue loaded", chromedp.WaitReady(chromedp.CSS(".pages")))
		got := value(b, t, "rows", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#queue tbody tr')].map(r => r.dataset.id + (r.classList.contains('overdue') && r.querySelector('.badge') ? '' : ':unmarked'))`))
		for i, id := range got {
			got[i] = name[id]
		}
		return got
	}
	page1 := readRows()
	if got := value(b, t, "overdue count", chromedp.Text(chromedp.ID("count-overdue"))); got != strconv.Itoa(lates+2) {
		t.Fatalf("count-overdue %s, want %d", got, lates+2)
	}
	screenshot(b, t, shots, "queue.png")
	if code := navigate(b, t, "next page", chromedp.Click(chromedp.ID("next"))); code != http.StatusOK {
		t.Fatalf("next page: HTTP %d", code)
	}
	if loc := value(b, t, "location", chromedp.Location()); !strings.Contains(loc, "overdue=1") {
		t.Fatalf("the next page lost the overdue filter: %s", loc)
	}
	page2 := readRows()
	got := append(page1, page2...)
	if len(page1) != 50 || len(page2) != lates+2-50 || !reportSameDue(rows, got, want) {
		t.Fatalf("overdue queue pages of %d and %d: %v\nwant %v", len(page1), len(page2), got, want)
	}
	if got[0] != want[0] {
		t.Fatalf("first overdue %s, want the most overdue, %s", got[0], want[0])
	}
}

// reportMonthLabel is "YYYY-MM" as the report labels months: "jan/2026".
func reportMonthLabel(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		panic(err)
	}
	return []string{"jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"}[t.Month()-1] + "/" + strconv.Itoa(t.Year())
}

// reportRowIs checks one row of the report's month table: label,
// received, completed, on time, within 15 days, share, overdue.
func reportRowIs(t *testing.T, row []string, label string, w *reportMonth) {
	t.Helper()
	share := "—"
	if w.completed > 0 {
		share = strings.Replace(strconv.FormatFloat(float64(w.within15)*100/float64(w.completed), 'f', 1, 64), ".", ",", 1) + "%"
	}
	want := []string{label, itoa(int(w.received)), itoa(int(w.completed)), itoa(int(w.onTime)), itoa(int(w.within15)), share, itoa(int(w.overdue))}
	if !slices.Equal(row, want) {
		t.Errorf("table row %q, want %q", row, want)
	}
}
