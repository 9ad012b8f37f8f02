package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRequestCollector(t *testing.T) {
	m := New()
	err := m.Register(NewRequestCollector(func(context.Context) []TenantCounts {
		return []TenantCounts{
			{Tenant: "a", Up: true, Read: true, Counts: []RequestCount{
				{Tenant: "a", Kind: "EXTRACT", Status: "RECEIVED", Count: 2, Overdue: 1},
				{Tenant: "a", Kind: "DELETE", Status: "PROCESSING", Count: 1},
				{Tenant: "a", Kind: "EXTRACT", Status: "COMPLETED", Count: 5},
			}},
			{Tenant: "b"},
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveProcessing("a", "EXTRACT", 20*time.Millisecond, true)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`titular_requests{kind="EXTRACT",status="RECEIVED",tenant="a"} 2`,
		`titular_queue_depth{tenant="a"} 2`,
		`titular_requests_overdue{tenant="a"} 1`,
		`titular_tenant_up{tenant="a"} 1`,
		`titular_tenant_up{tenant="b"} 0`,
		`titular_request_processing_seconds_count{kind="EXTRACT",outcome="error",tenant="a"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s\n%s", want, body)
		}
	}
	if strings.Contains(string(body), `titular_queue_depth{tenant="b"}`) {
		t.Error("a tenant whose database is down reports a queue depth")
	}
}
