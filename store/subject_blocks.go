package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/ledger"
)

// SubjectBlockRow is one CRM row a BLOCK suspended, by table and key.
type SubjectBlockRow struct {
	Entity, Table string
	// RowKey is the row's key values as a JSON array (crm.RowKeyJSON).
	RowKey string
}

// SubjectBlock is a BLOCK request's record (lgpd_subject_blocks).
type SubjectBlock struct {
	RequestID, SubjectRef string
	BlockedAt             time.Time
	// LiftedAt is when the DPO lifted it; nil while it holds.
	LiftedAt *time.Time
	LiftedBy string
}

// RecordSubjectBlock records that BLOCK request requestID suspends the
// processing of the titular's rows (Art. 18 IV). Recording it again (a
// worker that lost its answer) changes nothing.
func (x *Tx) RecordSubjectBlock(ctx context.Context, requestID, subjectRef string) error {
	if _, err := x.tx.ExecContext(ctx, `INSERT IGNORE INTO lgpd_subject_blocks (request_id, subject_ref, blocked_at)
 VALUES (?, ?, ?)`, requestID, subjectRef, x.s.now()); err != nil {
		return fmt.Errorf("record subject block: %w", err)
	}
	return nil
}

// AddSubjectBlockRows records rows a BLOCK suspends; the caller sends them
// in batches as the walk finds them.
func (x *Tx) AddSubjectBlockRows(ctx context.Context, requestID string, rows []SubjectBlockRow) error {
	if len(rows) == 0 {
		return nil
	}
	args := make([]any, 0, 4*len(rows))
	for _, r := range rows {
		args = append(args, requestID, r.Entity, r.Table, r.RowKey)
	}
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	if _, err := x.tx.ExecContext(ctx, `INSERT IGNORE INTO lgpd_subject_block_rows (request_id, entity, table_name, row_key)
 VALUES `+sqlq.RowsOf(len(rows), 4), args...); err != nil {
		return fmt.Errorf("record blocked rows: %w", err)
	}
	return nil
}

// SubjectBlock returns BLOCK request requestID's record.
func (r Reads) SubjectBlock(ctx context.Context, requestID string) (*SubjectBlock, error) {
	var b SubjectBlock
	var lifted sql.NullTime
	var by sql.NullString
	err := r.q.QueryRowContext(ctx, `SELECT request_id, subject_ref, blocked_at, lifted_at, lifted_by FROM lgpd_subject_blocks
 WHERE request_id = ?`, requestID).Scan(&b.RequestID, &b.SubjectRef, &b.BlockedAt, &lifted, &by)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read subject block: %w", err)
	}
	b.BlockedAt, b.LiftedBy = b.BlockedAt.UTC(), by.String
	if lifted.Valid {
		t := lifted.Time.UTC()
		b.LiftedAt = &t
	}
	return &b, nil
}

// LiftSubjectBlock ends the block BLOCK request id recorded, for actor (the
// DPO) with reason: the request's history gets an event and the ledger a
// subject.unblocked leaf, in this transaction. A request that is not a
// completed BLOCK, or whose block was already lifted, is ErrConflict.
func (x *Tx) LiftSubjectBlock(ctx context.Context, id, actor, reason string) (*Request, error) {
	r, err := x.s.getRequest(ctx, x.tx, id, true)
	if err != nil {
		return nil, err
	}
	if r.Kind != KindBlock || r.Status != StatusCompleted {
		return nil, fmt.Errorf("%w: only a COMPLETED BLOCK request has a block to lift (this one is a %s, %s)", ErrConflict, r.Kind, r.Status)
	}
	b, err := Reads{s: x.s, q: x.tx}.SubjectBlock(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("%w: this BLOCK recorded no block (the titular's data had already been erased); there is nothing to lift", ErrConflict)
	case err != nil:
		return nil, err
	case b.LiftedAt != nil:
		return nil, fmt.Errorf("%w: this request's block was already lifted", ErrConflict)
	}
	now := x.s.now()
	if _, err := x.tx.ExecContext(ctx, `UPDATE lgpd_subject_blocks SET lifted_at = ?, lifted_by = ? WHERE request_id = ?`,
		now, actor, id); err != nil {
		return nil, fmt.Errorf("lift subject block: %w", err)
	}
	if err := insertEvents(ctx, x.tx, []eventRow{{requestID: id, from: r.Status, to: r.Status, actor: actor,
		note: sqlq.Truncate("block lifted: "+reason, 500), at: now}}); err != nil {
		return nil, err
	}
	if err := x.s.appendLeaf(ctx, x.tx, ledger.Leaf{Event: EventSubjectUnblocked, Kind: string(KindBlock), RequestID: id,
		SubjectRef: r.SubjectRef, From: "BLOCKED", To: "UNBLOCKED", At: now}); err != nil {
		return nil, err
	}
	if _, err := x.tx.ExecContext(ctx, "UPDATE lgpd_requests SET updated_at = ? WHERE id = ?", now, id); err != nil {
		return nil, fmt.Errorf("lift subject block: %w", err)
	}
	r.UpdatedAt = now
	return r, nil
}

// LockSubject takes titular ref's lock row FOR UPDATE in this transaction,
// waiting for a transaction that holds it: the work of one titular's
// destructive requests (DELETE, ANONYMIZE, BLOCK) runs one at a time, even
// when a lease expired under a worker still running.
func (x *Tx) LockSubject(ctx context.Context, ref string) error {
	// The person's current reference: requests keep the reference they were
	// created under, and two references merged into one person share a lock.
	ref, err := personOf(ctx, x.tx, ref)
	if err != nil {
		return err
	}
	// An upsert takes the row's exclusive lock at once, existing or new; a
	// SELECT … FOR UPDATE then INSERT would take a gap lock first.
	if _, err := x.tx.ExecContext(ctx, `INSERT INTO lgpd_subject_locks (subject_ref, created_at) VALUES (?, ?)
 ON DUPLICATE KEY UPDATE created_at = created_at`, ref, x.s.now()); err != nil {
		return fmt.Errorf("lock the titular's destructive work: %w", err)
	}
	return nil
}

// TryLockSubject is LockSubject without waiting, for work that must not
// queue behind a long erasure (a CORRECT answered within its call): when
// another transaction holds ref's lock, or another destructive request of
// ref other than except is PROCESSING under a live lease, it returns
// ErrSubjectBusy naming that request.
func (x *Tx) TryLockSubject(ctx context.Context, ref, except string) error {
	return x.s.tryLockSubject(ctx, x.tx, ref, except)
}

func (s *Store) tryLockSubject(ctx context.Context, tx *sql.Tx, ref, except string) error {
	refs, err := personRefs(ctx, tx, ref)
	if err != nil {
		return err
	}
	ok, err := s.trySubjectRow(ctx, tx, refs[0])
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w; retry in a few seconds", ErrSubjectBusy)
	}
	busy, err := s.destructiveRunning(ctx, tx, refs, except)
	if err != nil {
		return err
	}
	if busy != "" {
		return fmt.Errorf("%w (request %s); retry once it completes", ErrSubjectBusy, busy)
	}
	return nil
}

// trySubjectRow locks ref's lock row without waiting, creating it when
// missing, and reports whether it holds it.
func (s *Store) trySubjectRow(ctx context.Context, tx *sql.Tx, ref string) (bool, error) {
	var got string
	err := tx.QueryRowContext(ctx, "SELECT subject_ref FROM lgpd_subject_locks WHERE subject_ref = ? FOR UPDATE SKIP LOCKED", ref).Scan(&got)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("lock the titular's destructive work: %w", err)
	}
	// Skipped or missing: a plain read tells which.
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM lgpd_subject_locks WHERE subject_ref = ?", ref).Scan(&n); err != nil {
		return false, fmt.Errorf("lock the titular's destructive work: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO lgpd_subject_locks (subject_ref, created_at) VALUES (?, ?)", ref, s.now())
	switch {
	case sqlq.IsDuplicate(err):
		return false, nil // another transaction created it first, and holds it
	case err != nil:
		return false, fmt.Errorf("lock the titular's destructive work: %w", err)
	}
	return true, nil
}

// destructiveRunning returns a destructive request of the person's refs, other than
// except, that is PROCESSING under a lease that has not expired; "" when
// none is.
func (s *Store) destructiveRunning(ctx context.Context, q Querier, refs []string, except string) (string, error) {
	var args []any
	for _, r := range refs {
		args = append(args, r)
	}
	args = append(args, except, StatusProcessing, s.now())
	for _, k := range DestructiveKinds {
		args = append(args, k)
	}
	var id string
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	err := q.QueryRowContext(ctx, `SELECT id FROM lgpd_requests WHERE subject_ref IN (`+sqlq.Placeholders(len(refs))+`) AND id <> ? AND status = ?
 AND lease_until > ? AND kind IN (`+sqlq.Placeholders(len(DestructiveKinds))+`) LIMIT 1`, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find the titular's running requests: %w", err)
	}
	return id, nil
}
