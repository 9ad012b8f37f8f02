package main

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/titular/titular/metrics"
	"github.com/titular/titular/tenant"
)

// newMetrics creates the process's instruments, with the request counts
// read from every tenant's database at scrape time.
func newMetrics(tenants *tenant.Registry) (*metrics.Metrics, error) {
	m := metrics.New()
	if err := m.Register(metrics.NewRequestCollector(requestCounts(tenants))); err != nil {
		return nil, err
	}
	return m, nil
}

// requestCounts reads each tenant's request counts; a tenant whose database
// does not answer is reported down, not dropped.
func requestCounts(tenants *tenant.Registry) func(ctx context.Context) []metrics.TenantCounts {
	return func(ctx context.Context) []metrics.TenantCounts {
		var out []metrics.TenantCounts
		for _, id := range tenants.IDs() {
			tc := metrics.TenantCounts{Tenant: id}
			t, err := tenants.Get(ctx, id)
			if err == nil {
				stats, serr := t.Store.RequestStats(ctx)
				err = serr
				for _, s := range stats {
					tc.Counts = append(tc.Counts, metrics.RequestCount{Tenant: id, Kind: s.Kind, Status: s.Status, Count: s.Count, Overdue: s.Overdue})
				}
			}
			tc.Err = err
			out = append(out, tc)
		}
		return out
	}
}

// metricsUnary records every unary RPC's method, final code and duration.
// It runs outside auth and error mapping, so it sees the code the caller gets.
func metricsUnary(m *metrics.Metrics) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := h(ctx, req)
		m.ObserveRPC(info.FullMethod, status.Code(err).String(), time.Since(start))
		return resp, err
	}
}

func metricsStream(m *metrics.Metrics) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		start := time.Now()
		err := h(srv, ss)
		m.ObserveRPC(info.FullMethod, status.Code(err).String(), time.Since(start))
		return err
	}
}

// traceHTTP traces REST calls; the gateway carries the trace on into the
// gRPC call, whose span names the RPC. Paths hold tenant and request ids
// only, never personal data (that travels in bodies).
func traceHTTP(h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, "titular.rest",
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.Pattern }))
}
