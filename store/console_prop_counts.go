package store

import (
	"context"
	"database/sql"
	"fmt"
)

// ConsoleDeliveryCounts counts the tenant's webhook deliveries per
// endpoint and state (PENDING, DELIVERED, FAILED), for the console's
// propagation page: ListDeliveries pages rows, and counting delivered
// ones through it would read every row. An index-only scan of
// ix_lgpd_outbox_deliveries_list.
func (s *Store) ConsoleDeliveryCounts(ctx context.Context) (map[string]map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT endpoint, state, COUNT(*) FROM lgpd_outbox_deliveries GROUP BY endpoint, state`)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	return consoleCounts(rows, "count deliveries")
}

// ConsoleConsentCounts counts, per purpose and action (GRANT, REFUSE,
// REVOKE), the titulares whose current record is that action, under the
// same rule as ConsentSubjects (a merged reference counts as its person),
// for the console's consent page: ListConsentSubjects only pages.
func (s *Store) ConsoleConsentCounts(ctx context.Context) (map[string]map[string]int64, error) {
	const q = `SELECT purpose_id, action, COUNT(*) FROM (
(SELECT c.purpose_id, c.action, c.subject_ref AS person FROM lgpd_consents c
 WHERE NOT EXISTS (SELECT 1 FROM lgpd_subject_merges m WHERE m.old_ref = c.subject_ref)
 AND NOT EXISTS (SELECT 1 FROM lgpd_consents n WHERE n.subject_ref = c.subject_ref AND n.purpose_id = c.purpose_id AND n.id > c.id)
 AND NOT EXISTS (SELECT 1 FROM lgpd_subject_merges nm JOIN lgpd_consents n ON n.subject_ref = nm.old_ref
   WHERE nm.person_ref = c.subject_ref AND n.purpose_id = c.purpose_id AND n.id > c.id))
UNION
(SELECT c.purpose_id, c.action, m.person_ref AS person FROM lgpd_subject_merges m JOIN lgpd_consents c ON c.subject_ref = m.old_ref
 WHERE NOT EXISTS (SELECT 1 FROM lgpd_consents n WHERE n.subject_ref = m.person_ref AND n.purpose_id = c.purpose_id AND n.id > c.id)
 AND NOT EXISTS (SELECT 1 FROM lgpd_subject_merges nm JOIN lgpd_consents n ON n.subject_ref = nm.old_ref
   WHERE nm.person_ref = m.person_ref AND n.purpose_id = c.purpose_id AND n.id > c.id))
) current_records GROUP BY purpose_id, action`
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("count consents: %w", err)
	}
	return consoleCounts(rows, "count consents")
}

func consoleCounts(rows *sql.Rows, what string) (map[string]map[string]int64, error) {
	type row struct {
		key, sub string
		n        int64
	}
	rs, err := collect(rows, what, func(rows *sql.Rows) (row, error) {
		var r row
		return r, rows.Scan(&r.key, &r.sub, &r.n)
	})
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int64{}
	for _, r := range rs {
		if out[r.key] == nil {
			out[r.key] = map[string]int64{}
		}
		out[r.key][r.sub] = r.n
	}
	return out, nil
}
