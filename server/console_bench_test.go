package server

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/tenant"
)

// reportPageBudget is the issue's bound on every console page: "no page
// slower than 300 ms on the seeded bench tenant".
const reportPageBudget = 300 * time.Millisecond

// reportBenchPage is one console page BenchmarkConsolePages times: path
// under /console/t/demo/, and a text its answer must hold.
type reportBenchPage struct{ name, path, contains string }

// reportBenchPages is the table of the pages timed: a line per page. now
// is when the tenant was seeded, later the path of the queue's 11th page.
// Pages of other sections (request, titular, propagation, consent,
// record) add their line here.
func reportBenchPages(now time.Time, later string) []reportBenchPage {
	twoYears := now.AddDate(-2, 1, 0).Format("2006-01") // 24 months, this one included
	return []reportBenchPage{
		{"QueueFirstPage", "fila", `id="queue"`},
		{"QueueOverdue", "fila?overdue=1", `id="queue"`},
		{"QueueApproval", "fila?status=AWAITING_APPROVAL", `id="queue"`},
		{"QueuePage11", later, `id="queue"`},
		{"Report", "relatorio", "<svg "},
		{"Report24Months", "relatorio?from=" + twoYears + "&to=" + now.Format("2006-01"), "<svg "},
		{"ReportCSV", "relatorio.csv", "Mês,Tipo"},
		{"ReportXLSX", "relatorio.xlsx", "PK"},
	}
}

// reportNextLink finds a queue page's next-page link.
var reportNextLink = regexp.MustCompile(`id="next" href="([^"]+)"`)

// BenchmarkConsolePages seeds the demo tenant with 100,000 requests (the
// seeding of BenchmarkRequestQueue100k) and times full HTTP GETs of the
// console's pages through a signed-in DPO's session: the request goes
// through the session check, the same authorization as the API, the
// in-process service, MariaDB and the template, and the whole body is
// read. Each page reports its median as ms/median and its slowest as
// ms/max; a median past the 300 ms budget is logged as OVER.
// Pages are listed in reportBenchPages.
//
//	go test -run '^$' -bench ConsolePages -benchtime 20x -count 3 ./server/
func BenchmarkConsolePages(b *testing.B) {
	env := newTestEnv(b, 20)
	ctx := context.Background()
	db, err := tenant.OpenDSN(ctx, env.demoDSN, 2)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC()
	t0 := time.Now()
	insertQueueRows(b, db, benchQueueRows(benchQueueRequests, now, 18))
	if _, err := db.ExecContext(ctx, "ANALYZE TABLE lgpd_requests"); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d requests in %v", benchQueueRequests, time.Since(t0).Round(time.Millisecond))
	c := reportSignIn(b, env.baseURL, keyDPO)
	base := env.baseURL + "/console/t/demo/"

	// A later page of the queue: the 11th, past the ~1,900 overdue
	// requests' first 500, by following the next links as a DPO would.
	later := "fila"
	for range 10 {
		code, _, body := reportGet(b, c, base+later)
		m := reportNextLink.FindStringSubmatch(body)
		if code != http.StatusOK || m == nil {
			b.Fatalf("queue %s: HTTP %d, next link %v", later, code, m != nil)
		}
		later = "fila" + strings.ReplaceAll(m[1], "&amp;", "&")
	}
	for _, p := range reportBenchPages(now, later) {
		b.Run(p.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				code, _, body := reportGet(b, c, base+p.path)
				took = append(took, time.Since(start))
				if code != http.StatusOK || !strings.Contains(body, p.contains) {
					b.Fatalf("%s: HTTP %d, %q not in the page", p.path, code, p.contains)
				}
			}
			slices.Sort(took)
			median := took[len(took)/2]
			b.ReportMetric(float64(median.Microseconds())/1000, "ms/median")
			b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "ms/max")
			if median > reportPageBudget {
				// Logged, not failed: a failed benchmark prints no figures,
				// and BENCHMARKS.md records the figures against the budget.
				b.Logf("%s: median %v, OVER the %v budget", p.name, median, reportPageBudget)
			}
		})
	}
}
