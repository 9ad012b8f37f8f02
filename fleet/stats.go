package fleet

import (
	"sync"
	"time"
)

// jobCounts counts one job's runs, for metrics.
type jobCounts struct {
	mu       sync.Mutex
	runs     int64
	failures int64
	seconds  float64
}

func (c *jobCounts) add(d time.Duration, err error) {
	c.mu.Lock()
	c.runs++
	if err != nil {
		c.failures++
	}
	c.seconds += d.Seconds()
	c.mu.Unlock()
}

// JobStats are one job's totals since start.
type JobStats struct {
	Job            string
	Runs, Failures int64
	Seconds        float64
}

// Stats is the scheduler's state, for metrics and `titular tenants`.
type Stats struct {
	Tenants int // scheduled
	Held    int // whose background work this replica holds
	Ready   int // waiting in the ring for a goroutine
	Running int // jobs running now
	Peers   int // other replicas known alive
	Jobs    []JobStats
}

// Stats returns the scheduler's state now.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	st := Stats{Tenants: len(s.states), Ready: len(s.ring), Peers: len(s.peers)}
	for _, t := range s.states {
		if t.held {
			st.Held++
		}
		for _, n := range t.running {
			st.Running += n
		}
	}
	s.mu.Unlock()
	for _, j := range jobOrder {
		c := s.counts[j]
		c.mu.Lock()
		st.Jobs = append(st.Jobs, JobStats{Job: j.String(), Runs: c.runs, Failures: c.failures, Seconds: c.seconds})
		c.mu.Unlock()
	}
	return st
}

// Holds reports whether this replica holds the tenant's background work.
func (s *Scheduler) Holds(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.states[id]
	return st != nil && st.held
}
