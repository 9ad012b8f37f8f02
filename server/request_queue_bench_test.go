package server

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/tenant"
)

// benchQueueRequests is the size of the DPO console's bench tenant (issue
// #18: "works for a tenant with 100,000 requests").
const benchQueueRequests = 100_000

// benchQueueRows makes n synthetic requests received over the two years
// before now, deterministic for a seed: most closed (completed after 1 to 25
// days, some denied or canceled), about 1% of the old ones still awaiting the
// DPO (overdue), and half of the last month's open.
func benchQueueRows(n int, now time.Time, seed uint64) []queueRow {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	kinds := []string{"EXTRACT", "EXTRACT", "CONFIRM", "CONFIRM", "DELETE", "ANONYMIZE", "CORRECT", "CONSENT", "CONSENT", "BLOCK"}
	day := 24 * time.Hour
	rows := make([]queueRow, n)
	for i := range rows {
		received := now.Add(-time.Duration(rng.Int64N(int64(730 * day))))
		deadline := 15 * day
		if rng.IntN(10) == 0 {
			deadline = 30 * day // a small agent's doubled deadline
		}
		r := queueRow{name: itoa(i), kind: kinds[rng.IntN(len(kinds))], received: received, due: received.Add(deadline)}
		old := now.Sub(received) > 30*day
		switch p := rng.IntN(100); {
		case old && p < 93, !old && p < 50:
			r.status = "COMPLETED"
			r.complete = received.Add(day + time.Duration(rng.Int64N(int64(24*day))))
		case old && p < 97:
			r.status, r.complete = "DENIED", received.Add(2*day)
		case old && p < 99:
			r.status, r.complete = "CANCELED", received.Add(day)
		case p%2 == 0:
			r.status = "AWAITING_APPROVAL"
		default:
			r.status = "AWAITING_VERIFICATION"
		}
		if r.complete.After(now) {
			r.complete = now
		}
		rows[i] = r
	}
	return rows
}

// BenchmarkRequestQueue100k seeds 100,000 requests into the demo tenant
// (multi-row INSERTs) and times, through a real gRPC client, what the DPO
// console's queue and report ask: the first page of the overdue queue, of
// the whole queue by due date and newest first, and the stats of the year
// and of two years by month. Each reports its median as ms/median.
//
//	go test -run '^$' -bench RequestQueue100k -benchtime 30x ./server/
func BenchmarkRequestQueue100k(b *testing.B) {
	env, now := newQueueBenchEnv(b)
	ctx := context.Background()
	rs := lgpdv1.NewRequestServiceClient(env.grpc)
	dpo := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+keyDPO)
	twoYears := now.AddDate(-2, 1, 0)
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"ListOverdueByDue", func() error {
			_, err := rs.ListRequests(dpo, &lgpdv1.ListRequestsRequest{Tenant: "demo", Overdue: true, Order: lgpdv1.ListRequestsRequest_DUE})
			return err
		}},
		{"ListOverdueNewest", func() error {
			_, err := rs.ListRequests(dpo, &lgpdv1.ListRequestsRequest{Tenant: "demo", Overdue: true})
			return err
		}},
		{"ListQueueByDue", func() error {
			_, err := rs.ListRequests(dpo, &lgpdv1.ListRequestsRequest{Tenant: "demo", Order: lgpdv1.ListRequestsRequest_DUE})
			return err
		}},
		{"ListAwaitingApprovalByDue", func() error {
			_, err := rs.ListRequests(dpo, &lgpdv1.ListRequestsRequest{Tenant: "demo", Status: lgpdv1.RequestStatus_AWAITING_APPROVAL, Order: lgpdv1.ListRequestsRequest_DUE})
			return err
		}},
		{"ListNewest", func() error {
			_, err := rs.ListRequests(dpo, &lgpdv1.ListRequestsRequest{Tenant: "demo"})
			return err
		}},
		{"StatsYear", func() error {
			_, err := rs.GetRequestStats(dpo, &lgpdv1.GetRequestStatsRequest{Tenant: "demo"})
			return err
		}},
		{"Stats24Months", func() error {
			_, err := rs.GetRequestStats(dpo, &lgpdv1.GetRequestStatsRequest{Tenant: "demo", From: twoYears.Format("2006-01"), To: now.Format("2006-01")})
			return err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if err := c.call(); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms/median")
		})
	}
}

// newQueueBenchEnv starts titular over a demo tenant seeded with
// benchQueueRequests requests (benchQueueRows, seed 18) and returns it
// with the instant the rows were generated for.
func newQueueBenchEnv(b *testing.B) (*testEnv, time.Time) {
	b.Helper()
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
	return env, now
}
