// Package metrics holds titular's Prometheus instruments, on a registry of
// their own (never the global one), served at /metrics. Labels carry tenant
// ids, kinds, statuses, RPC methods and codes only: never personal data.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one process's instruments.
type Metrics struct {
	reg             *prometheus.Registry
	rpcs            *prometheus.CounterVec
	rpcDuration     *prometheus.HistogramVec
	processing      *prometheus.HistogramVec
	ledgerSize      *prometheus.GaugeVec
	webhookFailures *prometheus.CounterVec
	consolePages    *prometheus.CounterVec
	consoleDuration *prometheus.HistogramVec
}

// New creates the instruments and registers them, with the Go runtime and
// process collectors, on a new registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		rpcs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "titular_rpc_requests_total",
			Help: "RPCs handled, over gRPC and REST alike, by method and gRPC status code.",
		}, []string{"method", "code"}),
		rpcDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "titular_rpc_duration_seconds",
			Help:    "Time to handle an RPC, by method.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1ms .. ~65s
		}, []string{"method"}),
		processing: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "titular_request_processing_seconds",
			Help:    "Time a worker took to process a claimed request, by tenant, kind and outcome (ok or error).",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 9), // 10ms .. ~11min
		}, []string{"tenant", "kind", "outcome"}),
		ledgerSize: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "titular_ledger_entries",
			Help: "Entries in the tenant's ledger, as last seen by this process.",
		}, []string{"tenant"}),
		webhookFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "titular_webhook_failures_total",
			Help: "Webhook deliveries that failed, by tenant.",
		}, []string{"tenant"}),
		consolePages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "titular_console_requests_total",
			Help: "Console pages served, by route pattern (never the path: it holds ids) and HTTP status code.",
		}, []string{"page", "code"}),
		consoleDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "titular_console_duration_seconds",
			Help:    "Time to serve a console page, by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1ms .. ~65s
		}, []string{"page"}),
	}
	m.reg.MustRegister(m.rpcs, m.rpcDuration, m.processing, m.ledgerSize, m.webhookFailures, m.consolePages, m.consoleDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds a collector (such as the request counts read from the
// tenants' databases at scrape time) to the registry.
func (m *Metrics) Register(c prometheus.Collector) error { return m.reg.Register(c) }

// Handler serves the registry in the Prometheus text format. A collector
// that fails leaves its series out; the others are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// ObserveRPC records one handled RPC.
func (m *Metrics) ObserveRPC(method, code string, d time.Duration) {
	m.rpcs.WithLabelValues(method, code).Inc()
	m.rpcDuration.WithLabelValues(method).Observe(d.Seconds())
}

// ObserveConsole records one console page served; page is the route
// pattern that matched (a fixed set), never the path.
func (m *Metrics) ObserveConsole(page string, code int, d time.Duration) {
	m.consolePages.WithLabelValues(page, strconv.Itoa(code)).Inc()
	m.consoleDuration.WithLabelValues(page).Observe(d.Seconds())
}

// ObserveProcessing records one request processed by a worker.
func (m *Metrics) ObserveProcessing(tenant, kind string, d time.Duration, failed bool) {
	outcome := "ok"
	if failed {
		outcome = "error"
	}
	m.processing.WithLabelValues(tenant, kind, outcome).Observe(d.Seconds())
}

// SetLedgerSize records the number of entries in a tenant's ledger.
func (m *Metrics) SetLedgerSize(tenant string, entries int64) {
	m.ledgerSize.WithLabelValues(tenant).Set(float64(entries))
}

// WebhookFailed counts one failed webhook delivery for a tenant.
func (m *Metrics) WebhookFailed(tenant string) { m.webhookFailures.WithLabelValues(tenant).Inc() }
