package server

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/titular/titular/metrics"
	"github.com/titular/titular/tenant"
)

// newMetrics creates the process's instruments: request counts from the
// tenants' databases through a cache, and the fleet's state from memory.
func newMetrics(counts *requestCounts, fleetState func() metrics.Fleet) (*metrics.Metrics, error) {
	m := metrics.New()
	if err := m.Register(metrics.NewRequestCollector(counts.read)); err != nil {
		return nil, err
	}
	if err := m.Register(metrics.NewFleetCollector(fleetState)); err != nil {
		return nil, err
	}
	return m, nil
}

// requestCounts caches each tenant's request counts: a scrape reads again
// only the tenants this process changed since (dirty) and those whose
// reading is older than maxAge, at most refreshPerScrape of them, so a
// scrape of a thousand idle tenants costs a few queries, not a thousand.
// A tenant that is not up is reported down without a query.
type requestCounts struct {
	tenants *tenant.Registry
	maxAge  time.Duration

	mu    sync.Mutex
	cache map[string]cachedCounts
	dirty map[string]bool
}

type cachedCounts struct {
	at     time.Time
	counts []metrics.RequestCount
}

// refreshPerScrape and refreshParallel bound one scrape's database reads.
const (
	refreshPerScrape = 64
	refreshParallel  = 8
)

func newRequestCounts(tenants *tenant.Registry, maxAge time.Duration) *requestCounts {
	return &requestCounts{tenants: tenants, maxAge: maxAge, cache: map[string]cachedCounts{}, dirty: map[string]bool{}}
}

// changed marks a tenant's counts stale: this process committed to it.
func (c *requestCounts) changed(id string) {
	c.mu.Lock()
	c.dirty[id] = true
	c.mu.Unlock()
}

func (c *requestCounts) read(ctx context.Context) []metrics.TenantCounts {
	health := c.tenants.Health()
	now := time.Now()
	c.mu.Lock()
	var stale []string
	for _, h := range health {
		cc, ok := c.cache[h.ID]
		if h.State == tenant.StateUp && (!ok || c.dirty[h.ID] || now.Sub(cc.at) > c.maxAge) {
			stale = append(stale, h.ID)
		}
	}
	c.mu.Unlock()
	// The oldest readings first, so every tenant gets its turn.
	slices.SortFunc(stale, func(a, b string) int { return c.age(a).Compare(c.age(b)) })
	if len(stale) > refreshPerScrape {
		stale = stale[:refreshPerScrape]
	}
	sem := make(chan struct{}, refreshParallel)
	var wg sync.WaitGroup
	for _, id := range stale {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c.refresh(ctx, id)
		})
	}
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]metrics.TenantCounts, 0, len(health))
	for _, h := range health {
		cc, ok := c.cache[h.ID]
		out = append(out, metrics.TenantCounts{Tenant: h.ID, Up: h.State == tenant.StateUp, Read: ok, Counts: cc.counts})
	}
	for id := range c.cache {
		if !c.tenants.Known(id) {
			delete(c.cache, id)
			delete(c.dirty, id)
		}
	}
	return out
}

func (c *requestCounts) age(id string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cache[id].at
}

func (c *requestCounts) refresh(ctx context.Context, id string) {
	c.mu.Lock()
	delete(c.dirty, id)
	c.mu.Unlock()
	t, err := c.tenants.Get(ctx, id)
	if err != nil {
		return
	}
	stats, err := t.Store.RequestStats(ctx)
	if err != nil {
		c.tenants.ReportDown(id, err)
		return
	}
	counts := make([]metrics.RequestCount, 0, len(stats))
	for _, s := range stats {
		counts = append(counts, metrics.RequestCount{Tenant: id, Kind: string(s.Kind), Status: string(s.Status), Count: s.Count, Overdue: s.Overdue})
	}
	c.mu.Lock()
	c.cache[id] = cachedCounts{at: time.Now(), counts: counts}
	c.mu.Unlock()
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

// observeConsole logs one line per console page and counts it in the
// metrics, as logUnary and metricsUnary do for RPCs: method, the route
// pattern that matched (the console's mux sets it on the same request),
// status, duration and tenant. Never the path or query: the path holds ids
// only, but a query is the caller's to fill.
func observeConsole(h http.Handler, log *slog.Logger, known func(string) bool, m *metrics.Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		d := time.Since(start)
		page := r.Pattern // at least the outer mux's "/console/"
		m.ObserveConsole(page, sw.code, d)
		if strings.HasPrefix(page, "GET /console/assets/") && sw.code < http.StatusBadRequest {
			return // counted; a page's stylesheets are not worth a log line each
		}
		attrs := []any{"method", r.Method, "page", page, "code", sw.code, "duration_ms", d.Milliseconds()}
		if t := r.PathValue("tenant"); t != "" {
			attrs = append(attrs, "tenant", loggedTenant(known, t))
		}
		lvl := slog.LevelInfo
		if sw.code >= http.StatusInternalServerError {
			lvl = slog.LevelError
		}
		log.Log(r.Context(), lvl, "console", attrs...)
	})
}

// statusWriter keeps the status code a handler wrote; Unwrap lets
// http.ResponseController reach the connection (flushing a download).
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes a streaming handler's flush on.
func (w *statusWriter) Flush() {
	w.wrote = true
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}
