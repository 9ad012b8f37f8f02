package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Fleet is the state of the process's background work and connection
// budgets, as the scheduler and the tenant registry know it: read from
// memory at scrape time, no database query.
type Fleet struct {
	// Tenants counts the catalog's tenants by state (up, down, opening).
	Tenants map[string]int
	// Held is how many tenants' background work this replica holds;
	// Ready how many wait for a free goroutine; Running the jobs running.
	Held, Ready, Running int
	Jobs                 []Job
	Budgets              []Budget
}

// Job is one background job's totals.
type Job struct {
	Name           string
	Runs, Failures int64
	Seconds        float64
}

// Budget is one MySQL server's connection budget.
type Budget struct {
	Server             string
	Max, Open, Waiting int
	WaitsTotal         int64
}

var (
	fleetTenantsDesc = prometheus.NewDesc("titular_tenants",
		"Tenants in the catalog, by state (up, down, opening).", []string{"state"}, nil)
	fleetHeldDesc = prometheus.NewDesc("titular_tenants_held",
		"Tenants whose background work (backstop poll, sweep, checkpoints) this replica holds.", nil, nil)
	fleetReadyDesc = prometheus.NewDesc("titular_scheduler_ready",
		"Tenants with background work waiting for a free goroutine.", nil, nil)
	fleetRunningDesc = prometheus.NewDesc("titular_scheduler_running",
		"Background jobs running now.", nil, nil)
	fleetJobsDesc = prometheus.NewDesc("titular_scheduler_jobs_total",
		"Background jobs run, by job and outcome (ok or error).", []string{"job", "outcome"}, nil)
	fleetJobSecondsDesc = prometheus.NewDesc("titular_scheduler_job_seconds_total",
		"Time spent in background jobs, by job.", []string{"job"}, nil)
	budgetMaxDesc = prometheus.NewDesc("titular_db_connections_max",
		"The connection budget of a MySQL server (databases.max_connections).", []string{"server"}, nil)
	budgetOpenDesc = prometheus.NewDesc("titular_db_connections",
		"Connections titular holds to a MySQL server, all tenants together.", []string{"server"}, nil)
	budgetWaitingDesc = prometheus.NewDesc("titular_db_connection_waiting",
		"Callers waiting for a connection of a MySQL server's budget.", []string{"server"}, nil)
	budgetWaitsDesc = prometheus.NewDesc("titular_db_connection_waits_total",
		"Connections that had to wait for the server's budget.", []string{"server"}, nil)
)

type fleetCollector struct{ read func() Fleet }

// NewFleetCollector returns a collector that calls read at each scrape.
func NewFleetCollector(read func() Fleet) prometheus.Collector { return fleetCollector{read: read} }

func (c fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{fleetTenantsDesc, fleetHeldDesc, fleetReadyDesc, fleetRunningDesc, fleetJobsDesc,
		fleetJobSecondsDesc, budgetMaxDesc, budgetOpenDesc, budgetWaitingDesc, budgetWaitsDesc} {
		ch <- d
	}
}

func (c fleetCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.read()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, state := range []string{"up", "down", "opening"} {
		gauge(fleetTenantsDesc, float64(f.Tenants[state]), state)
	}
	gauge(fleetHeldDesc, float64(f.Held))
	gauge(fleetReadyDesc, float64(f.Ready))
	gauge(fleetRunningDesc, float64(f.Running))
	for _, j := range f.Jobs {
		counter(fleetJobsDesc, float64(j.Runs-j.Failures), j.Name, "ok")
		counter(fleetJobsDesc, float64(j.Failures), j.Name, "error")
		counter(fleetJobSecondsDesc, j.Seconds, j.Name)
	}
	for _, b := range f.Budgets {
		gauge(budgetMaxDesc, float64(b.Max), b.Server)
		gauge(budgetOpenDesc, float64(b.Open), b.Server)
		gauge(budgetWaitingDesc, float64(b.Waiting), b.Server)
		counter(budgetWaitsDesc, float64(b.WaitsTotal), b.Server)
	}
}
