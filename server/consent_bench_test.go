package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/tenant"
)

// Benchmark shape: 32 concurrent clients, each doing benchOpsPerClient
// operations per round.
const (
	benchClients      = 32
	benchOpsPerClient = 25
)

// benchRound is one measured burst of one variant.
type benchRound struct {
	opsPerSec float64
	latencies []time.Duration
}

// runClients runs op benchClients × benchOpsPerClient times from
// benchClients goroutines and measures throughput and per-op latency.
func runClients(b *testing.B, op func(ctx context.Context, client, i int) error) benchRound {
	b.Helper()
	ctx := context.Background()
	lat := make([][]time.Duration, benchClients)
	errs := make(chan error, benchClients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range benchClients {
		wg.Go(func() {
			for i := range benchOpsPerClient {
				t0 := time.Now()
				if err := op(ctx, c, i); err != nil {
					errs <- err
					return
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return benchRound{opsPerSec: float64(benchClients*benchOpsPerClient) / elapsed.Seconds(), latencies: slices.Concat(lat...)}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func p99(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)*99+99)/100-1]
}

// BenchmarkConsentThroughput measures consent records per second with 32
// concurrent clients: full CONSENT requests (a REVOKE: request, state events
// and their ledger leaves, the consent row, the outbox event and its
// delivery row to one configured endpoint, all in one transaction) through
// gRPC and through REST, against the same number of plain single-row INSERT
// transactions on the same server. Each b.N iteration is one round of all
// three, interleaved; the reported figures are medians over rounds, and p99
// is the median of each round's p99. Run with -benchtime=5x for five rounds.
// Goals (issue 5): gRPC ≥ 0.5 and REST ≥ 0.4 of the raw inserts.
func BenchmarkConsentThroughput(b *testing.B) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	b.Cleanup(hook.Close)
	b.Setenv("TITULAR_TEST_WEBHOOK_SECRET", webhookSecret)
	env := newTestEnv(b, 20, func(y string) string {
		return strings.Replace(y, "{id: demo, ", fmt.Sprintf(`{id: demo, max_open_conns: %d, webhooks: [{name: crm, url: %q, secret_env: TITULAR_TEST_WEBHOOK_SECRET, events: [consent.revoked]}], `, benchClients, hook.URL), 1)
	})
	loadDemoPurposes(b, env)
	ctx := context.Background()

	raw, err := tenant.OpenDSN(ctx, env.demoDSN, benchClients)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	if _, err := raw.ExecContext(ctx, `CREATE TABLE bench_consent_baseline (id BIGINT NOT NULL AUTO_INCREMENT,
 subject VARCHAR(100) NOT NULL, purpose VARCHAR(64) NOT NULL, action VARCHAR(8) NOT NULL, at DATETIME(6) NOT NULL,
 PRIMARY KEY (id)) ENGINE=InnoDB`); err != nil {
		b.Fatal(err)
	}
	conns := make([]lgpdv1.RequestServiceClient, benchClients)
	for i := range conns {
		cc, err := grpc.NewClient(env.app.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cc.Close() })
		conns[i] = lgpdv1.NewRequestServiceClient(cc)
	}
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	auth := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+keyBackend)
	round := 0
	email := func(variant string, c, i int) string {
		return fmt.Sprintf("bench-%s-%d-%d-%d@example.com", variant, round, c, i)
	}
	insert := func(ctx context.Context, c, i int) error {
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO bench_consent_baseline (subject, purpose, action, at) VALUES (?, ?, ?, ?)",
			email("raw", c, i), "marketing_email", "REVOKE", time.Now().UTC()); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	}
	viaGRPC := func(ctx context.Context, c, i int) error {
		r, err := conns[c].CreateRequest(auth, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONSENT,
			Subject: &lgpdv1.Subject{Email: email("grpc", c, i)},
			Consent: &lgpdv1.ConsentChange{Purpose: "marketing_email", Action: lgpdv1.ConsentAction_REVOKE,
				Evidence: &lgpdv1.ConsentEvidence{Channel: "portal", Ip: "198.51.100.1", UserAgent: "bench"}}})
		if err == nil && r.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
			err = fmt.Errorf("CONSENT ended %s", r.GetStatus())
		}
		return err
	}
	viaREST := func(ctx context.Context, c, i int) error {
		body, _ := json.Marshal(consentBody(map[string]any{"email": email("rest", c, i)}, "marketing_email", "REVOKE", "", ""))
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.baseURL+"/v1/tenants/demo/requests", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+keyBackend)
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var r struct {
			Status string `json:"status"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK || r.Status != "COMPLETED" {
			return fmt.Errorf("REST CONSENT: HTTP %d status %q: %v", resp.StatusCode, r.Status, err)
		}
		return nil
	}

	var rawOps, grpcOps, restOps, grpcRatio, restRatio, rawP99, grpcP99, restP99 []float64
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ResetTimer()
	for range b.N {
		round++
		r := runClients(b, insert)
		g := runClients(b, viaGRPC)
		h := runClients(b, viaREST)
		rawOps, grpcOps, restOps = append(rawOps, r.opsPerSec), append(grpcOps, g.opsPerSec), append(restOps, h.opsPerSec)
		grpcRatio, restRatio = append(grpcRatio, g.opsPerSec/r.opsPerSec), append(restRatio, h.opsPerSec/r.opsPerSec)
		rawP99, grpcP99, restP99 = append(rawP99, ms(p99(r.latencies))), append(grpcP99, ms(p99(g.latencies))), append(restP99, ms(p99(h.latencies)))
	}
	b.StopTimer()
	b.ReportMetric(median(rawOps), "raw_inserts/s")
	b.ReportMetric(median(grpcOps), "grpc_consents/s")
	b.ReportMetric(median(restOps), "rest_consents/s")
	b.ReportMetric(median(grpcRatio), "grpc_ratio")
	b.ReportMetric(median(restRatio), "rest_ratio")
	b.ReportMetric(median(rawP99), "raw_p99_ms")
	b.ReportMetric(median(grpcP99), "grpc_p99_ms")
	b.ReportMetric(median(restP99), "rest_p99_ms")
	b.Logf("%d rounds × %d clients × %d ops: raw %.0f/s (p99 %.1f ms), gRPC %.0f/s (ratio %.2f, goal ≥ 0.5, p99 %.1f ms), REST %.0f/s (ratio %.2f, goal ≥ 0.4, p99 %.1f ms)",
		b.N, benchClients, benchOpsPerClient, median(rawOps), median(rawP99), median(grpcOps), median(grpcRatio), median(grpcP99),
		median(restOps), median(restRatio), median(restP99))
	// Every measured revocation wrote its outbox event and delivery row.
	var events, deliveries int
	if err := raw.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM lgpd_outbox), (SELECT COUNT(*) FROM lgpd_outbox_deliveries)").Scan(&events, &deliveries); err != nil {
		b.Fatal(err)
	}
	if want := 2 * b.N * benchClients * benchOpsPerClient; events != want || deliveries != want {
		b.Errorf("%d outbox events and %d deliveries for %d revocations", events, deliveries, want)
	}
}
