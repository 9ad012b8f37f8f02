package server

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/seed"
)

// TestMetrics: /metrics serves titular's own registry: RPCs by method and
// code, worker durations, request counts, queue depth and overdue requests
// read from the tenant databases, and never a titular's identifier.
func TestMetrics(t *testing.T) {
	env := newTestEnv(t, 40)
	buyer := env.scenario(t, seed.ScenarioBuyer2023)
	r := env.createREST(t, keyDPO, map[string]any{"kind": "EXTRACT", "subject": map[string]any{"cpf": buyer.CPF}})
	env.waitREST(t, r.ID)
	env.rest(t, "GET", "/v1/tenants/demo/requests/"+r.ID, "wrong-key", nil)
	// The dispatcher reports failures through this (its own test drives a
	// failing receiver); the ledger sequencer sets the size itself.
	env.app.srv.metrics.WebhookFailed("demo")

	// The request's three state changes reach the tree within a few
	// sequencer rounds (200 ms each).
	var code int
	var h http.Header
	var b []byte
	for end := time.Now().Add(deadline); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		code, h, b = env.rest(t, "GET", "/metrics", "", nil)
		if strings.Contains(string(b), `titular_ledger_entries{tenant="demo"} 3`) {
			break
		}
	}
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: HTTP %d, %s", code, h.Get("Content-Type"))
	}
	text := string(b)
	for _, want := range []string{
		`titular_rpc_requests_total{code="OK",method="/lgpd.v1.RequestService/CreateRequest"} 1`,
		`titular_rpc_requests_total{code="Unauthenticated",method="/lgpd.v1.RequestService/GetRequest"} 1`,
		`titular_rpc_duration_seconds_bucket{method="/lgpd.v1.RequestService/GetRequest"`,
		`titular_request_processing_seconds_count{kind="EXTRACT",outcome="ok",tenant="demo"} 1`,
		`titular_requests{kind="EXTRACT",status="COMPLETED",tenant="demo"} 1`,
		`titular_queue_depth{tenant="demo"} 0`,
		`titular_queue_depth{tenant="other"} 0`,
		`titular_requests_overdue{tenant="demo"} 0`,
		`titular_tenant_up{tenant="demo"} 1`,
		`titular_ledger_entries{tenant="demo"} 3`,
		`titular_webhook_failures_total{tenant="demo"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, shape := range append(brdoc.CPFShapes(buyer.CPF), buyer.Email) {
		if strings.Contains(text, shape) {
			t.Fatalf("/metrics contains a titular's identifier")
		}
	}
	// Labels take only tenant ids, kinds, statuses, methods and codes, and
	// for the fleet's instruments job names, tenant states and the server
	// (host:port) a connection budget covers.
	label := regexp.MustCompile(`(\w+)="`)
	for _, m := range label.FindAllStringSubmatch(text, -1) {
		switch m[1] {
		case "tenant", "kind", "status", "method", "code", "outcome", "le", "quantile", "version", "job", "state", "server":
		default:
			t.Errorf("unexpected label %q on /metrics", m[1])
		}
	}
}

// TestTracing: with a tracer provider installed (as tracing.Setup does for
// an OTLP endpoint), one REST call yields a connected trace: the HTTP span,
// the gRPC span the gateway makes, and SQL spans, without personal data.
func TestTracing(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		otel.SetTracerProvider(prevTP)
		otel.SetTextMapPropagator(prevProp)
	})
	env := newTestEnv(t, 20)
	buyer := env.scenario(t, seed.ScenarioBuyer2023)
	r := env.createREST(t, keyDPO, map[string]any{"kind": "CONFIRM", "subject": map[string]any{"cpf": buyer.CPF}})
	if r.Status != "COMPLETED" {
		t.Fatalf("CONFIRM: %s", r.Status)
	}
	time.Sleep(100 * time.Millisecond) // the server span ends after the response is written

	var httpSpan, grpcSpan, sqlSpan sdktrace.ReadOnlySpan
	spans := rec.Ended()
	for _, s := range spans {
		switch {
		case s.Name() == "POST /v1/":
			httpSpan = s
		case s.Name() == "lgpd.v1.RequestService/CreateRequest" && s.SpanKind().String() == "server":
			grpcSpan = s
		}
	}
	if httpSpan == nil || grpcSpan == nil {
		t.Fatalf("want an HTTP and a gRPC server span; got %d spans", len(spans))
	}
	for _, s := range spans {
		if strings.HasPrefix(s.Name(), "sql.") && s.SpanContext().TraceID() == grpcSpan.SpanContext().TraceID() {
			sqlSpan = s
		}
		for _, a := range s.Attributes() {
			for _, shape := range brdoc.CPFShapes(buyer.CPF) {
				if strings.Contains(a.Value.String(), shape) {
					t.Fatalf("span %s attribute %s holds the titular's CPF", s.Name(), a.Key)
				}
			}
		}
	}
	if grpcSpan.SpanContext().TraceID() != httpSpan.SpanContext().TraceID() {
		t.Errorf("the gRPC span is not in the REST call's trace")
	}
	if sqlSpan == nil {
		t.Errorf("no SQL span in the call's trace")
	}
}
