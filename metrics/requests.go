package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RequestCount is the number of one tenant's requests of one kind in one
// status, and how many of those are open past their deadline.
type RequestCount struct {
	Tenant, Kind, Status string
	Count, Overdue       int64
}

// TenantCounts is what a scrape knows of one tenant: whether it is up and,
// when Read, its request counts.
type TenantCounts struct {
	Tenant string
	Up     bool
	Read   bool
	Counts []RequestCount
}

// scrapeTimeout bounds the database reads of one scrape.
const scrapeTimeout = 5 * time.Second

var (
	requestsDesc = prometheus.NewDesc("titular_requests",
		"Requests in the tenant's database, by kind and status.", []string{"tenant", "kind", "status"}, nil)
	queueDesc = prometheus.NewDesc("titular_queue_depth",
		"Requests waiting for a worker (RECEIVED), by tenant.", []string{"tenant"}, nil)
	overdueDesc = prometheus.NewDesc("titular_requests_overdue",
		"Open requests past their legal deadline, by tenant.", []string{"tenant"}, nil)
	upDesc = prometheus.NewDesc("titular_tenant_up",
		"1 when the tenant is open and its database answered the last time titular asked, else 0.", []string{"tenant"}, nil)
)

// requestCollector reports the request tables' counts as read gives them:
// the databases are the truth, read through a cache so a scrape of a
// thousand tenants does not query each.
type requestCollector struct {
	read func(ctx context.Context) []TenantCounts
}

// NewRequestCollector returns a collector that calls read at each scrape.
func NewRequestCollector(read func(ctx context.Context) []TenantCounts) prometheus.Collector {
	return requestCollector{read: read}
}

func (c requestCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- requestsDesc
	ch <- queueDesc
	ch <- overdueDesc
	ch <- upDesc
}

func (c requestCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	for _, t := range c.read(ctx) {
		up := 0.0
		if t.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up, t.Tenant)
		if !t.Up || !t.Read {
			continue
		}
		var queued, overdue int64
		for _, rc := range t.Counts {
			ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.GaugeValue, float64(rc.Count), t.Tenant, rc.Kind, rc.Status)
			if rc.Status == "RECEIVED" {
				queued += rc.Count
			}
			overdue += rc.Overdue
		}
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(queued), t.Tenant)
		ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(overdue), t.Tenant)
	}
}
