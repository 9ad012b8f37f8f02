package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// At returns a view of the store whose clock reads t: a dry-run sweep
// `--as-of` a future date runs the very code of a real sweep, with every
// decision (which hold ended) and record dated t, in a transaction it rolls
// back. It shares the pool and keys; it must not be used to commit.
func (s *Store) At(t time.Time) *Store {
	c := *s
	c.now = func() time.Time { return t }
	c.Reads = Reads{s: &c, q: s.db}
	return &c
}

// HeldBlocks is what stays blocked of one entity: rows whose hold still
// runs at the store's clock, and when the first of them is released.
type HeldBlocks struct {
	Entity string
	Rows   int64
	// NextRelease is the earliest release date among Rows; nil when every
	// one of them is kept only because held rows reference it.
	NextRelease *time.Time
}

// StillHeld lists, per entity, the unreleased blocks whose hold has not
// ended at the store's clock (release_at in the future). Blocks that are
// due but were kept (still referenced) are the sweep's own count.
func (r Reads) StillHeld(ctx context.Context) ([]HeldBlocks, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT entity, COUNT(*), MIN(release_at) FROM lgpd_blocks
 WHERE released_at IS NULL AND release_at > ? GROUP BY entity ORDER BY entity`, r.s.now())
	if err != nil {
		return nil, fmt.Errorf("list held blocks: %w", err)
	}
	return collect(rows, "list held blocks", func(rows *sql.Rows) (HeldBlocks, error) {
		var h HeldBlocks
		var next sql.NullTime
		if err := rows.Scan(&h.Entity, &h.Rows, &next); err != nil {
			return h, err
		}
		if next.Valid {
			t := next.Time.UTC()
			h.NextRelease = &t
		}
		return h, nil
	})
}

// SubjectStillHeld reports whether any of ref's blocked rows is under a
// hold that has not ended at the store's clock. While one is, the sweep
// leaves the titular's still-referenced rows as they are: what references
// them may be that held row, which the law keeps whole.
func (r Reads) SubjectStillHeld(ctx context.Context, ref string) (bool, error) {
	var held bool
	err := r.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM lgpd_blocks
 WHERE subject_ref = ? AND released_at IS NULL AND release_at > ?)`, ref, r.s.now()).Scan(&held)
	if err != nil {
		return false, fmt.Errorf("check running holds: %w", err)
	}
	return held, nil
}

// ForgetAnonymized makes the requests of ref forget their identifiers once
// the sweep has anonymized the last row an ANONYMIZE had to keep, as the
// ANONYMIZE itself does when nothing is held. A titular with blocks still
// open, or with a DELETE (whose completion is CompleteErasure's), is left
// as is; so are requests still to run, which need the identifiers. It
// reports whether it forgot.
func (x *Tx) ForgetAnonymized(ctx context.Context, ref string) (bool, error) {
	var open, deletes int
	err := x.tx.QueryRowContext(ctx, `SELECT
 (SELECT COUNT(*) FROM lgpd_blocks WHERE subject_ref = ? AND released_at IS NULL),
 (SELECT COUNT(*) FROM lgpd_requests WHERE subject_ref = ? AND kind = ?)`, ref, ref, KindDelete).Scan(&open, &deletes)
	if err != nil {
		return false, fmt.Errorf("forget anonymized titular: %w", err)
	}
	if open > 0 || deletes > 0 {
		return false, nil
	}
	if _, err := x.tx.ExecContext(ctx, `UPDATE lgpd_requests SET subject_json = NULL
 WHERE subject_ref = ? AND status IN (?, ?, ?, ?)`, ref, StatusCompleted, StatusDenied, StatusFailed, StatusCanceled); err != nil {
		return false, fmt.Errorf("forget request identifiers: %w", err)
	}
	return true, nil
}

// SweepConsentEvidence is Store.SweepConsentEvidence in tx: a dry-run
// sweep runs it with the rest and rolls it all back.
func (x *Tx) SweepConsentEvidence(ctx context.Context) (int64, error) {
	return x.s.clearEvidence(ctx, x.tx, "evidence_release_at <= ?", x.s.now())
}
