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
//
// It reads lgpd_consent_current, the latest record per reference and
// purpose, kept with every appended record: the counts of every
// reference (an index-only scan), less those of the references a merge
// involves, plus those references grouped by their person
// (lgpd_subject_merges is flat), whose latest record across them wins.
func (s *Store) ConsoleConsentCounts(ctx context.Context) (map[string]map[string]int64, error) {
	// One snapshot for the three reads: a record appended between them
	// would otherwise leave the differences off, even below zero.
	snap, err := s.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("count consents: %w", err)
	}
	defer snap.Close()
	const involved = `(SELECT old_ref AS ref, person_ref FROM lgpd_subject_merges UNION SELECT person_ref, person_ref FROM lgpd_subject_merges) r`
	all, err := snap.consoleCountQuery(ctx, `SELECT purpose_id, action, COUNT(*) FROM lgpd_consent_current GROUP BY purpose_id, action`)
	if err != nil {
		return nil, err
	}
	apart, err := snap.consoleCountQuery(ctx, `SELECT c.purpose_id, c.action, COUNT(*) FROM `+involved+`
 JOIN lgpd_consent_current c ON c.subject_ref = r.ref GROUP BY c.purpose_id, c.action`)
	if err != nil {
		return nil, err
	}
	persons, err := snap.consoleCountQuery(ctx, `SELECT purpose_id, action, COUNT(*) FROM (
 SELECT c.purpose_id, SUBSTRING(MAX(CONCAT(LPAD(c.consent_id, 20, '0'), c.action)), 21) AS action
 FROM `+involved+` JOIN lgpd_consent_current c ON c.subject_ref = r.ref GROUP BY r.person_ref, c.purpose_id) merged
 GROUP BY purpose_id, action`)
	if err != nil {
		return nil, err
	}
	add := func(counts map[string]map[string]int64, sign int64) {
		for purpose, actions := range counts {
			if all[purpose] == nil {
				all[purpose] = map[string]int64{}
			}
			for action, n := range actions {
				all[purpose][action] += sign * n
			}
		}
	}
	add(apart, -1)
	add(persons, 1)
	for purpose, actions := range all {
		for action, n := range actions {
			if n == 0 {
				delete(actions, action)
			}
		}
		if len(actions) == 0 {
			delete(all, purpose)
		}
	}
	return all, nil
}

func (r Reads) consoleCountQuery(ctx context.Context, q string) (map[string]map[string]int64, error) {
	rows, err := r.q.QueryContext(ctx, q)
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
