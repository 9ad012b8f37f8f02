package bench

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"
)

// serverStatus is one reading of MariaDB's global counters, taken on the
// bench's own single status connection.
type serverStatus struct {
	at time.Time
	// counters by name (Questions, Com_select, …) and Threads_connected
	values map[string]uint64
	// bench is how many statements the bench had sent when this reading
	// was taken, this one included: between two readings, the bench's own
	// share of Questions.
	bench int
	// own is how many connections the bench itself held at the time.
	own int
}

// statusCounters are the global status values a reading takes.
var statusCounters = []string{"Questions", "Com_select", "Com_insert", "Com_update", "Com_delete", "Com_commit", "Connections", "Threads_connected"}

// readStatus reads the global counters. Questions counts each statement a
// client sends, this SHOW included; SHOW counts as Com_show_status, so the
// Com_ counters the figures use are titular's alone.
func (f *fleet) readStatus(ctx context.Context) (serverStatus, error) {
	q := "SHOW GLOBAL STATUS WHERE Variable_name IN ("
	for i, n := range statusCounters {
		if i > 0 {
			q += ", "
		}
		q += "'" + n + "'"
	}
	f.benchStatements++
	s := serverStatus{at: time.Now(), values: map[string]uint64{}, bench: f.benchStatements}
	rows, err := f.status.QueryContext(ctx, q+")")
	if err != nil {
		return s, fmt.Errorf("read the server's status counters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, v string
		if err := rows.Scan(&name, &v); err != nil {
			return s, fmt.Errorf("read the server's status counters: %w", err)
		}
		if s.values[name], err = strconv.ParseUint(v, 10, 64); err != nil {
			return s, fmt.Errorf("status %s: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("read the server's status counters: %w", err)
	}
	s.own = f.admin.Stats().OpenConnections + f.status.Stats().OpenConnections
	return s, nil
}

// rate is a counter's increase per second from a to b.
func rate(a, b serverStatus, name string) float64 {
	return float64(b.values[name]-a.values[name]) / b.at.Sub(a.at).Seconds()
}

// statements is how many statements others than the bench sent the server
// from a to b: Questions, less the bench's own.
func statements(a, b serverStatus) float64 {
	return max(float64(b.values["Questions"]-a.values["Questions"])-float64(b.bench-a.bench), 0)
}

// statementRate is statements per second.
func statementRate(a, b serverStatus) float64 { return statements(a, b) / b.at.Sub(a.at).Seconds() }

// othersConnected is Threads_connected less the bench's own connections.
func (s serverStatus) othersConnected() int {
	// Threads_connected is at most max_connections (100,000 at most in
	// MariaDB and MySQL); the clamp only makes the conversion evidently safe.
	return int(min(s.values["Threads_connected"], math.MaxInt32)) - s.own
}
