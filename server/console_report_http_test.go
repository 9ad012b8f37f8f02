package server

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// reportMonthStart is the first instant (UTC) of the month k months
// before now's.
func reportMonthStart(now time.Time, k int) time.Time {
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -k, 0)
}

// reportFixture spreads requests over the four months up to now's, with
// what the report counts worked out in reportTruth: completions within 15
// days and late, a denial, open ones past due (overdue) and not yet due,
// and lates overdue requests received 30 to 30+lates days ago, whose due
// dates order the queue.
func reportFixture(now time.Time, lates int) []queueRow {
	day := 24 * time.Hour
	m := func(k, d int) time.Time { return reportMonthStart(now, k).Add(time.Duration(d-1)*day + 9*time.Hour) }
	current := now.Add(-time.Minute)
	if first := reportMonthStart(now, 0); current.Before(first) {
		current = first
	}
	rows := []queueRow{
		{"r3-a", "DELETE", "COMPLETED", m(3, 2), m(3, 17), m(3, 12)}, // 10 days
		{"r3-b", "DELETE", "COMPLETED", m(3, 2), m(3, 17), m(3, 22)}, // 20 days: late
		{"r3-c", "EXTRACT", "COMPLETED", m(3, 5), m(3, 20), m(3, 8)}, // 3 days
		{"r2-a", "CONFIRM", "COMPLETED", m(2, 3), m(2, 18), m(2, 8)}, // 5 days
		{"r2-b", "CONFIRM", "AWAITING_APPROVAL", m(2, 3), m(2, 18), time.Time{}},
		{"r1-a", "EXTRACT", "AWAITING_VERIFICATION", m(1, 1), m(1, 16), time.Time{}},
		{"r1-b", "DELETE", "DENIED", m(1, 4), m(1, 19), m(1, 5)},
		{"r0-a", "DELETE", "AWAITING_APPROVAL", current, current.Add(15 * day), time.Time{}},
	}
	for i := range lates {
		received := now.Add(-time.Duration(30+i)*day - time.Hour)
		kind := "CONFIRM"
		if i%3 == 0 {
			kind = "EXTRACT"
		}
		rows = append(rows, queueRow{"late-" + itoa(i), kind, "AWAITING_APPROVAL", received, received.Add(15 * day), time.Time{}})
	}
	return rows
}

// reportMonth is one month's totals as the report page's table shows them.
type reportMonth struct {
	received, completed, onTime, within15, overdue int64
}

// reportTruth computes, from the rows themselves, what the report must
// say for the months [from, to] ("YYYY-MM"): the test's oracle, apart
// from SQL.
func reportTruth(rows []queueRow, now time.Time, months []string) map[string]*reportMonth {
	out := map[string]*reportMonth{}
	for _, m := range months {
		out[m] = &reportMonth{}
	}
	open := []string{"RECEIVED", "AWAITING_VERIFICATION", "AWAITING_APPROVAL", "PROCESSING"}
	for _, r := range rows {
		if m := out[r.received.UTC().Format("2006-01")]; m != nil {
			m.received++
			if slices.Contains(open, r.status) && r.due.Before(now) {
				m.overdue++
			}
		}
		if r.status != "COMPLETED" {
			continue
		}
		if m := out[r.complete.UTC().Format("2006-01")]; m != nil {
			m.completed++
			if !r.complete.After(r.due) {
				m.onTime++
			}
			if !r.complete.After(r.received.Add(15 * 24 * time.Hour)) {
				m.within15++
			}
		}
	}
	return out
}

// reportGet GETs u and returns the status, the headers and the body.
func reportGet(t testing.TB, c *http.Client, u string) (int, http.Header, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

var reportAlert = regexp.MustCompile(`role="alert"[^>]*>([^<]+)<`)

// TestConsoleReportHTTP checks the report and the queue's filters over
// plain HTTP: bad periods and filters are 400 with a message saying how to
// fix them; the other tenant's DPO finds neither the report nor its files;
// the auditor (read-only) sees the report and downloads it; the queue's
// filters select, keep through its links, and its counts are the tenant's.
func TestConsoleReportHTTP(t *testing.T) {
	env := newTestEnv(t, 20)
	now := time.Now().UTC()
	rows := reportFixture(now, 5)
	ids := insertQueueRows(t, env.demoDB(t), rows)
	dpo, _ := consoleSignIn(t, env, keyDPO)
	base := env.baseURL + "/console/t/demo/"
	this := itoa(now.Year())

	code, _, page := reportGet(t, dpo, base+"relatorio")
	if code != http.StatusOK || strings.Count(page, "<svg ") != 3 || !strings.Contains(page, `relatorio.csv?year=`+this) ||
		!strings.Contains(page, `relatorio.xlsx?year=`+this) || !strings.Contains(page, `aria-current="page">Relatório<`) ||
		strings.Contains(page, "??") {
		t.Fatalf("report: HTTP %d; want 3 charts, the year's download links and no missing string (??key??):\n%s", code, page)
	}
	for query, want := range map[string]string{
		"year=abc":                          "Ano inválido",
		"year=1999":                         "Ano inválido",
		"year=" + itoa(now.Year()+1):        "Ano inválido",
		"from=2026-13&to=2026-12":           "Período inválido",
		"from=2026-01":                      "Período inválido",
		"from=2026-06&to=2026-01":           "Período inválido",
		"from=2020-01&to=2030-12":           "Período inválido",
		"from=2026-1&to=2026-02":            "Período inválido",
		"year=2026&from=2026-01&to=2026-02": "não os dois",
	} {
		for _, path := range []string{"relatorio", "relatorio.csv", "relatorio.xlsx"} {
			code, h, body := reportGet(t, dpo, base+path+"?"+query)
			m := reportAlert.FindStringSubmatch(body)
			if code != http.StatusBadRequest || m == nil || !strings.Contains(m[1], want) || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
				t.Errorf("%s?%s: HTTP %d, alert %v; want 400 saying %q", path, query, code, m, want)
			}
		}
	}

	// The other tenant's DPO: demo's report and files do not exist.
	other, _ := consoleSignIn(t, env, keyOther)
	for _, path := range []string{"relatorio", "relatorio.csv", "relatorio.xlsx", "relatorio?year=" + this} {
		code, h, body := reportGet(t, other, base+path)
		if code != http.StatusNotFound || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || strings.Contains(body, "<svg") {
			t.Errorf("other tenant's DPO, demo's %s: HTTP %d %s, want the 404 page", path, code, h.Get("Content-Type"))
		}
	}
	if code, _, _ := reportGet(t, other, env.baseURL+"/console/t/other/relatorio"); code != http.StatusOK {
		t.Errorf("other tenant's DPO, own report: HTTP %d", code)
	}

	// The auditor reads the report and its files.
	aud, _ := consoleSignIn(t, env, keyAuditor)
	months := []string{reportMonthStart(now, 3).Format("2006-01"), now.Format("2006-01")}
	period := "from=" + months[0] + "&to=" + months[1]
	if code, _, page := reportGet(t, aud, base+"relatorio?"+period); code != http.StatusOK || strings.Count(page, "<svg ") != 3 {
		t.Errorf("auditor's report: HTTP %d", code)
	}
	code, h, csv := reportGet(t, aud, base+"relatorio.csv?"+period)
	want := `attachment; filename="relatorio-demo-` + months[0] + "_" + months[1] + `.csv"`
	if code != http.StatusOK || h.Get("Content-Type") != "text/csv; charset=utf-8" || h.Get("Content-Disposition") != want ||
		!strings.HasPrefix(csv, "\uFEFFMês,Tipo,") {
		t.Fatalf("auditor's CSV: HTTP %d %s %s:\n%s", code, h.Get("Content-Type"), h.Get("Content-Disposition"), csv)
	}
	// r3-a and r3-b: two DELETEs received and completed three months ago,
	// one within 15 days (50%), none overdue; the lines carry no id.
	r3 := reportMonthStart(now, 3).Format("2006-01")
	if !strings.Contains(csv, "\n"+r3+",Eliminação,DELETE,2,2,1,1,50.0,0,") || strings.Contains(csv, ids["r3-a"]) {
		t.Errorf("CSV lacks %s's DELETE line (2 received, 2 completed, 1 on time, 1 within 15 days):\n%s", r3, csv)
	}
	if code, h, x := reportGet(t, aud, base+"relatorio.xlsx?year="+this); code != http.StatusOK || !strings.HasPrefix(x, "PK") ||
		h.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("auditor's XLSX: HTTP %d %s", code, h.Get("Content-Type"))
	}

	// The queue: bad filters are 400 with the field named.
	for query, want := range map[string]string{
		"status=LOST":              "situação",
		"kind=ERASE":               "tipo",
		"overdue=maybe":            "atrasados",
		"due_before=31/12/2026":    "Prazo até",
		"received_from=2026-02-30": "Recebido de",
		"received_to=1999-01-01":   "Recebido até",
		"received_from=2026-03-02&received_to=2026-03-01": "Recebido até",
		"page=not-a-token": "primeira página",
	} {
		code, _, body := reportGet(t, dpo, base+"fila?"+query)
		m := reportAlert.FindStringSubmatch(body)
		if code != http.StatusBadRequest || m == nil || !strings.Contains(m[1], want) {
			t.Errorf("fila?%s: HTTP %d, alert %v; want 400 naming %q", query, code, m, want)
		}
	}

	// Filters select; the counts are the tenant's whatever the filter.
	name := map[string]string{}
	for n, id := range ids {
		name[id] = n
	}
	listed := func(query string) ([]string, string) {
		t.Helper()
		code, _, body := reportGet(t, dpo, base+"fila?"+query)
		if code != http.StatusOK {
			t.Fatalf("fila?%s: HTTP %d", query, code)
		}
		var got []string
		for _, m := range consoleQueueRow.FindAllStringSubmatch(body, -1) {
			got = append(got, name[m[1]])
		}
		return got, body
	}
	counts := regexp.MustCompile(`id="count-(open|overdue|approval|verify|total)">(\d+)<`)
	wantCounts := map[string]string{"open": "8", "overdue": "7", "approval": "7", "verify": "1", "total": itoa(len(rows))}
	brt := time.FixedZone("BRT", -3*60*60)
	open := []string{"RECEIVED", "AWAITING_VERIFICATION", "AWAITING_APPROVAL", "PROCESSING"}
	overdue := func(r queueRow) bool { return slices.Contains(open, r.status) && r.due.Before(now) }
	// A Brasília date's first instant.
	civil := func(d string) time.Time {
		t, err := time.ParseInLocation("2006-01-02", d, brt)
		if err != nil {
			panic(err)
		}
		return t
	}
	from := reportMonthStart(now, 1).In(brt).AddDate(0, 0, 1).Format("2006-01-02") // the 1st of last month
	to := civil(from).AddDate(0, 0, 3).Format("2006-01-02")                        // the 4th, inclusive
	dueBefore := reportMonthStart(now, 2).In(brt).AddDate(0, 0, 1).Format("2006-01-02")
	for query, keep := range map[string]func(queueRow) bool{
		"overdue=1": overdue,
		"overdue=1&kind=EXTRACT&status=AWAITING_VERIFICATION": func(r queueRow) bool {
			return overdue(r) && r.kind == "EXTRACT" && r.status == "AWAITING_VERIFICATION"
		},
		"received_from=" + from + "&received_to=" + to: func(r queueRow) bool {
			return !r.received.Before(civil(from)) && r.received.Before(civil(to).AddDate(0, 0, 1))
		},
		"due_before=" + dueBefore: func(r queueRow) bool { return r.due.Before(civil(dueBefore).AddDate(0, 0, 1)) },
	} {
		got, body := listed(query)
		want := reportQueueOrder(rows, now, keep)
		if len(want) == 0 || len(got) != len(want) || !slices.Equal(got, want) && !reportSameDue(rows, got, want) {
			t.Errorf("fila?%s lists %v, want %v", query, got, want)
		}
		for _, m := range counts.FindAllStringSubmatch(body, -1) {
			if wantCounts[m[1]] != m[2] {
				t.Errorf("fila?%s: count %s = %s, want %s (the tenant's)", query, m[1], m[2], wantCounts[m[1]])
			}
		}
		if len(counts.FindAllStringSubmatch(body, -1)) != 5 {
			t.Errorf("fila?%s: not the five counts", query)
		}
	}
	// The approval queue's link, and the filter kept by the first-page link.
	if _, body := listed(""); !strings.Contains(body, `href="?status=AWAITING_APPROVAL"`) || !strings.Contains(body, `href="?status=AWAITING_VERIFICATION"`) ||
		strings.Contains(body, "??") {
		t.Error("the queue lacks the approval and verification queues' links, or shows a missing string (??key??)")
	}
	if _, body := listed("status=AWAITING_APPROVAL"); !strings.Contains(body, `id="q-approval" href="?status=AWAITING_APPROVAL" aria-current="page"`) {
		t.Error("the approval queue's link is not marked current on the approval queue")
	}
}

// reportQueueOrder is the queue's order over the rows keep keeps:
// overdue ones first, then by due date.
func reportQueueOrder(rows []queueRow, now time.Time, keep func(queueRow) bool) []string {
	open := []string{"RECEIVED", "AWAITING_VERIFICATION", "AWAITING_APPROVAL", "PROCESSING"}
	overdue := func(r queueRow) bool { return slices.Contains(open, r.status) && r.due.Before(now) }
	var sel []queueRow
	for _, r := range rows {
		if keep(r) {
			sel = append(sel, r)
		}
	}
	slices.SortStableFunc(sel, func(a, b queueRow) int {
		if overdue(a) != overdue(b) {
			if overdue(a) {
				return -1
			}
			return 1
		}
		return a.due.Compare(b.due)
	})
	out := make([]string, len(sel))
	for i, r := range sel {
		out[i] = r.name
	}
	return out
}

// reportSameDue reports whether got and want name rows with the same due
// dates in the same order: rows due at the same instant may come in any
// order (the store breaks ties by id).
func reportSameDue(rows []queueRow, got, want []string) bool {
	due := map[string]time.Time{}
	for _, r := range rows {
		due[r.name] = r.due
	}
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !due[got[i]].Equal(due[want[i]]) {
			return false
		}
	}
	return true
}
