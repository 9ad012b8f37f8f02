package store

import (
	"context"
	"fmt"
)

// RequestStat counts one tenant's requests of one kind in one status.
type RequestStat struct {
	Kind   Kind
	Status Status
	Count  int64
	// Overdue counts those still open (not COMPLETED, DENIED, FAILED or
	// CANCELED) past their legal deadline.
	Overdue int64
}

// RequestStats counts the tenant's requests by kind and status, for the
// metrics endpoint: one GROUP BY over lgpd_requests, no personal data.
func (s *Store) RequestStats(ctx context.Context) ([]RequestStat, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, status, COUNT(*),
 SUM(CASE WHEN due_at < ? AND status NOT IN (?, ?, ?, ?) THEN 1 ELSE 0 END)
 FROM lgpd_requests GROUP BY kind, status`,
		s.now(), StatusCompleted, StatusDenied, StatusFailed, StatusCanceled)
	if err != nil {
		return nil, fmt.Errorf("request stats: %w", err)
	}
	defer rows.Close()
	var out []RequestStat
	for rows.Next() {
		var st RequestStat
		if err := rows.Scan(&st.Kind, &st.Status, &st.Count, &st.Overdue); err != nil {
			return nil, fmt.Errorf("request stats: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("request stats: %w", err)
	}
	return out, nil
}
