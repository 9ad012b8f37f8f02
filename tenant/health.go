package tenant

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// State is a tenant's health as this process sees it.
type State string

// The states a tenant can be in.
const (
	// StateOpening: not opened yet (or being reopened after a change).
	StateOpening State = "opening"
	// StateUp: open, and its database answered the last time it was asked.
	StateUp State = "up"
	// StateDown: it failed to open, or its database stopped answering;
	// retried with backoff.
	StateDown State = "down"
)

// Health is one tenant's state, with a reason safe to show anyone: never a
// DSN, a password or a row value.
type Health struct {
	ID      string
	State   State
	Reason  string
	Since   time.Time
	RetryAt time.Time // when down and not open: the next attempt
	Source  string    // the tenant file, or "" for the config file
}

// Health returns every tenant's health, sorted by id.
func (r *Registry) Health() []Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Health, 0, len(r.ids))
	for _, id := range r.ids {
		out = append(out, r.entries[id].health)
	}
	return out
}

// Problems are the tenant files that could not be used, one line each.
func (r *Registry) Problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.problems))
	for _, p := range r.problems {
		out = append(out, firstLine(p.Error()))
	}
	sort.Strings(out)
	return out
}

// Started reports whether every tenant of the catalog at start has been
// tried once, and how many of them have.
func (r *Registry) Started() (done bool, attempted, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.initial.done(), r.initial.tried, r.initial.total
}

// initialPass tracks the first attempt at each tenant present at start:
// until it is over, the process is starting, not degraded.
type initialPass struct {
	pending      map[string]bool
	tried, total int
}

func (p *initialPass) begin(untried []string, total int) {
	p.pending = map[string]bool{}
	for _, id := range untried {
		p.pending[id] = true
	}
	p.total, p.tried = total, total-len(untried)
}

func (p *initialPass) attempted(id string) {
	if p.pending[id] {
		delete(p.pending, id)
		p.tried++
	}
}

func (p *initialPass) forget(id string) {
	if p.pending[id] {
		delete(p.pending, id)
		p.total--
	}
}

func (p *initialPass) done() bool { return p.pending != nil && len(p.pending) == 0 }

// ReportDown records that an open tenant's database stopped answering
// (the scheduler's poll failed); ReportUp that it answers again. Both log
// the change, not every report.
func (r *Registry) ReportDown(id string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.entries[id]; e != nil && e.t != nil {
		r.setHealthLocked(e, StateDown, describe(err), 0)
	}
}

// ReportUp records that an open tenant's database answers again; see
// ReportDown.
func (r *Registry) ReportUp(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.entries[id]; e != nil && e.t != nil && e.health.State != StateUp {
		r.setHealthLocked(e, StateUp, "", 0)
	}
}

// setHealthLocked moves e to state, logging transitions; r.mu is held.
func (r *Registry) setHealthLocked(e *entry, state State, reason string, retry time.Duration) {
	h := &e.health
	changed := h.State != state || h.Reason != reason
	if h.State != state {
		h.Since = time.Now()
	}
	h.State, h.Reason = state, reason
	h.RetryAt = time.Time{}
	if retry > 0 {
		h.RetryAt = time.Now().Add(retry)
	}
	if !changed {
		return
	}
	switch state {
	case StateUp:
		r.log.Info("tenant up", "tenant", h.ID)
	case StateDown:
		r.log.Warn("tenant down", "tenant", h.ID, "reason", reason, "retry_in", retry.Round(time.Second).String())
	}
}

// Describe says why an operation on a tenant failed in words safe to log
// or show anyone; see describe.
func Describe(err error) string { return describe(err) }

// describe says why a tenant failed in words safe to show anyone: MySQL
// errors by number (their text can quote values), network errors by kind
// (never the DSN, whose user and password the driver may echo).
func describe(err error) string {
	var me *mysql.MySQLError
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "the database did not answer in time"
	case errors.As(err, &me):
		switch me.Number {
		case 1045, 1698, 1044:
			return "the database refused the credentials (MySQL error 1045); check the tenant's DSN"
		case 1049:
			return "the database does not exist (MySQL error 1049); check the tenant's DSN"
		case 1040:
			return "the MySQL server has too many connections (MySQL error 1040); raise its max_connections or lower databases.max_connections"
		}
		return fmt.Sprintf("database error %d", me.Number)
	case errors.As(err, &oe):
		return "the database does not answer (" + oe.Op + ": " + strings.TrimPrefix(errText(oe.Err), "connect: ") + ")"
	case errors.Is(err, mysql.ErrInvalidConn):
		return "the database closed the connection"
	}
	return firstLine(err.Error())
}

// errText is a network error's text without addresses.
func errText(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

func firstLine(s string) string {
	first, rest, more := strings.Cut(s, "\n")
	if more {
		return fmt.Sprintf("%s (and %d more lines)", first, strings.Count(rest, "\n")+1)
	}
	return first
}
