package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/ledger"
)

// EventErasureCompleted is a partly erased titular whose last held row the
// sweep released: the DELETE's erasure is now complete.
const EventErasureCompleted = "erasure.completed"

// CompleteErasures finishes what a partial DELETE left for later. A DELETE
// that blocked held rows keeps the titular's identifiers (their requests'
// subject, the subject index) and consent evidence while those rows remain;
// once the sweep has released the last of them, this does what a complete
// DELETE does at once: requests lose their identifiers, the subject index
// forgets them, consent evidence goes (or stays as proof under the map's
// consent_evidence retention), and a ledger leaf records it. A titular who
// came back is left alone: one who recorded a CONSENT after their DELETE
// (consent records are data about them), or whom the map still reaches (new
// rows in the CRM); so is one with a request still to run. A CONFIRM or
// EXTRACT after the DELETE found nothing to keep and does not stop it. With
// dryRun it only counts. It returns how many titulares were (or would be)
// completed.
func (s *Store) CompleteErasures(ctx context.Context, m *datamap.Map, dryRun bool) (int, error) {
	refs, err := erasuresToComplete(ctx, s.db, s.now())
	if err != nil {
		return 0, err
	}
	done := 0
	for _, ref := range refs {
		var ok bool
		err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			var err error
			if ok, err = erasureCompletable(ctx, tx, m, ref); err != nil || !ok || dryRun {
				return err
			}
			return s.completeErasure(ctx, tx, m, ref)
		})
		if err != nil {
			return done, err
		}
		if ok {
			done++
		}
	}
	return done, nil
}

// completionWindow is how long after a titular's last block is released
// the sweep keeps checking whether their erasure can complete: a sweep that
// failed is retried, and a titular who came back stops being re-examined.
const completionWindow = 30 * 24 * time.Hour

// erasuresToComplete lists the subject references with a block released
// within completionWindow, none of whose blocks is still open, and that the
// subject index still knows: titulares partly erased whose holds have all
// been released.
func erasuresToComplete(ctx context.Context, q Querier, now time.Time) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT b.subject_ref FROM lgpd_blocks b
 WHERE b.released_at >= ?
 AND NOT EXISTS (SELECT 1 FROM lgpd_blocks o WHERE o.subject_ref = b.subject_ref AND o.released_at IS NULL)
 AND EXISTS (SELECT 1 FROM lgpd_subject_index i WHERE i.subject_ref = b.subject_ref)`, now.Add(-completionWindow))
	if err != nil {
		return nil, fmt.Errorf("list erasures to complete: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			return nil, fmt.Errorf("list erasures to complete: %w", err)
		}
		out = append(out, ref)
	}
	return out, rows.Err()
}

// erasureCompletable checks, under lock in tx, that ref has a completed
// DELETE, no CONSENT received after the latest one and no request still to
// run, and that the map reaches no row of any identifier its requests named.
func erasureCompletable(ctx context.Context, tx *sql.Tx, m *datamap.Map, ref string) (bool, error) {
	// A titular's requests are few: one read gives all the rules need.
	rows, err := tx.QueryContext(ctx, "SELECT kind, status, received_at, subject_json FROM lgpd_requests WHERE subject_ref = ? FOR UPDATE", ref)
	if err != nil {
		return false, fmt.Errorf("complete erasure: requests: %w", err)
	}
	type request struct {
		kind, status string
		at           time.Time
	}
	var reqs []request
	var deleted time.Time
	var identifiers []Identifiers
	for rows.Next() {
		var r request
		var subject sql.NullString
		if err := rows.Scan(&r.kind, &r.status, &r.at, &subject); err != nil {
			rows.Close()
			return false, fmt.Errorf("complete erasure: requests: %w", err)
		}
		reqs = append(reqs, r)
		if r.kind == KindDelete && r.status == StatusCompleted && r.at.After(deleted) {
			deleted = r.at
		}
		if subject.Valid {
			var ids Identifiers
			if err := json.Unmarshal([]byte(subject.String), &ids); err != nil {
				rows.Close()
				return false, fmt.Errorf("complete erasure: stored identifiers: %w", err)
			}
			if !ids.Empty() && !slices.Contains(identifiers, ids) {
				identifiers = append(identifiers, ids)
			}
		}
	}
	if err := rows.Close(); err != nil {
		return false, fmt.Errorf("complete erasure: requests: %w", err)
	}
	if deleted.IsZero() {
		return false, nil
	}
	for _, r := range reqs {
		switch {
		case r.status == StatusReceived, r.status == StatusAwaitingApproval, r.status == StatusProcessing:
			return false, nil // still to run
		case r.kind == KindConsent && r.at.After(deleted):
			return false, nil // came back
		}
	}
	for _, ids := range identifiers {
		counts, err := WalkWith(ctx, tx, m, ids, discardSink{}, WalkOptions{ForUpdate: true})
		if err != nil {
			return false, fmt.Errorf("complete erasure: %w", err)
		}
		for _, c := range counts {
			if c.Rows > 0 {
				return false, nil // the CRM holds rows of theirs again
			}
		}
	}
	return true, nil
}

func (s *Store) completeErasure(ctx context.Context, tx *sql.Tx, m *datamap.Map, ref string) error {
	if _, err := s.forgetTitular(ctx, tx, ref, m.ConsentEvidence); err != nil {
		return err
	}
	return s.AppendLeaf(ctx, tx, ledger.Leaf{Event: EventErasureCompleted, Kind: KindDelete, SubjectRef: ref,
		From: "PARTIAL", To: "COMPLETE", At: s.now()})
}

// discardSink drops the rows of a walk whose counts (WalkWith's result)
// are all the caller wants.
type discardSink struct{}

func (discardSink) BeginEntity(*datamap.Entity) error      { return nil }
func (discardSink) Row([]any) error                        { return nil }
func (discardSink) EndEntity(*datamap.Entity, int64) error { return nil }
