package store

import (
	"context"
	"fmt"
	"time"
)

// MonthKindStat is one calendar month's (UTC) requests of one kind: those
// received in the month, and those COMPLETED in it whenever received.
type MonthKindStat struct {
	// Month is the month's first instant, UTC.
	Month    time.Time
	Kind     Kind
	Received int64
	// Completed, and of them those completed by their due_at and within 15
	// days of receipt (Art. 19 II).
	Completed, WithinDeadline, Within15Days int64
	// MedianDays is the median of the days from receipt to completion of
	// the Completed ones; 0 when none was.
	MedianDays float64
}

// MonthlyRequestStats returns the months in [from, to) by kind, computed in
// SQL over the covering indexes of migration 0023 (received_at, kind and
// status, completed_at, kind, received_at, due_at): months and kinds with
// nothing are absent. The median is taken with window functions, which
// MariaDB 10.2+ and MySQL 8.0 both have (MEDIAN() is MariaDB's only).
func (s *Store) MonthlyRequestStats(ctx context.Context, from, to time.Time) ([]MonthKindStat, error) {
	from, to = from.UTC(), to.UTC()
	byKey := map[string]*MonthKindStat{}
	var order []string
	get := func(month string, kind Kind) (*MonthKindStat, error) {
		k := month + "|" + string(kind)
		if st, ok := byKey[k]; ok {
			return st, nil
		}
		m, err := time.Parse("2006-01", month)
		if err != nil {
			return nil, fmt.Errorf("monthly request stats: month %q: %w", month, err)
		}
		st := &MonthKindStat{Month: m, Kind: kind}
		byKey[k], order = st, append(order, k)
		return st, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT DATE_FORMAT(received_at, '%Y-%m') AS m, kind, COUNT(*)
 FROM lgpd_requests FORCE INDEX (ix_lgpd_requests_received_kind)
 WHERE received_at >= ? AND received_at < ? GROUP BY m, kind`, from, to)
	if err != nil {
		return nil, fmt.Errorf("monthly request stats: %w", err)
	}
	for rows.Next() {
		var month string
		var kind Kind
		var n int64
		if err := rows.Scan(&month, &kind, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("monthly request stats: %w", err)
		}
		st, err := get(month, kind)
		if err != nil {
			rows.Close()
			return nil, err
		}
		st.Received = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("monthly request stats: %w", err)
	}
	// Days to complete in microseconds, so a median of two is exact.
	rows, err = s.db.QueryContext(ctx, `WITH done AS (
  SELECT DATE_FORMAT(completed_at, '%Y-%m') AS m, kind,
   TIMESTAMPDIFF(MICROSECOND, received_at, completed_at) AS us,
   CASE WHEN completed_at <= due_at THEN 1 ELSE 0 END AS in_deadline,
   CASE WHEN completed_at <= received_at + INTERVAL 15 DAY THEN 1 ELSE 0 END AS in_15
  FROM lgpd_requests FORCE INDEX (ix_lgpd_requests_completed)
  WHERE status = ? AND completed_at >= ? AND completed_at < ?
), ranked AS (
  SELECT m, kind, us, in_deadline, in_15,
   ROW_NUMBER() OVER (PARTITION BY m, kind ORDER BY us) AS rn,
   COUNT(*) OVER (PARTITION BY m, kind) AS n
  FROM done
)
SELECT m, kind, COUNT(*), SUM(in_deadline), SUM(in_15),
 AVG(CASE WHEN rn IN (FLOOR((n + 1) / 2), CEIL((n + 1) / 2)) THEN us END)
FROM ranked GROUP BY m, kind`, StatusCompleted, from, to)
	if err != nil {
		return nil, fmt.Errorf("monthly request stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var month string
		var kind Kind
		var n, inDeadline, in15 int64
		var medianUS float64
		if err := rows.Scan(&month, &kind, &n, &inDeadline, &in15, &medianUS); err != nil {
			return nil, fmt.Errorf("monthly request stats: %w", err)
		}
		st, err := get(month, kind)
		if err != nil {
			return nil, err
		}
		st.Completed, st.WithinDeadline, st.Within15Days = n, inDeadline, in15
		st.MedianDays = medianUS / float64(24*time.Hour/time.Microsecond)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("monthly request stats: %w", err)
	}
	out := make([]MonthKindStat, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out, nil
}
