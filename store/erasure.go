package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/ledger"
)

// RecordErasure records what a DELETE did to the CRM (the executor's
// result): each held row in lgpd_blocks (idempotently: a second DELETE
// refreshes the record) for the sweep to release when its hold ends; the
// titular's earlier exports go, as copies of what is now erased; and on a
// complete erasure what titular keeps of the titular is forgotten
// (ForgetTitular), keeping consent evidence only as keep says.
func (x *Tx) RecordErasure(ctx context.Context, requestID, subjectRef string, res *crm.DeleteResult, keep *datamap.Retention) (*DeleteOutcome, error) {
	now := x.s.now()
	// Blocks go under the person's current reference: the request may
	// carry one merged away since it was made.
	subjectRef, err := personOf(ctx, x.tx, subjectRef)
	if err != nil {
		return nil, err
	}
	for _, b := range res.Blocks {
		_, err := x.tx.ExecContext(ctx, `INSERT INTO lgpd_blocks
 (entity, table_name, row_key, subject_ref, request_id, basis, reference, on_delete, release_at, blocked_at, release_action)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'delete')
 ON DUPLICATE KEY UPDATE entity = VALUES(entity), request_id = VALUES(request_id), basis = VALUES(basis),
 reference = VALUES(reference), on_delete = VALUES(on_delete), release_at = VALUES(release_at), released_at = NULL,
 release_action = 'delete', released_as = NULL`,
			b.Entity, b.Table, b.RowKey, subjectRef, requestID, b.Basis, sqlq.Truncate(b.Reference, 500), b.OnDelete, b.Until, now)
		if err != nil {
			return nil, fmt.Errorf("block %s row: %w", b.Entity, err)
		}
	}
	if err := x.s.dropSubjectExports(ctx, x.tx, subjectRef); err != nil {
		return nil, err
	}
	out := &DeleteOutcome{DeleteResult: *res}
	if res.Complete {
		// On a partial erasure all of it waits for the held data to go
		// (Art. 8 §2, 16); the sweep then finishes it (CompleteErasure).
		var err error
		if out.EvidenceKept, err = x.s.forgetTitular(ctx, x.tx, subjectRef, keep); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RecordAnonymization records what an ANONYMIZE did: as DELETE does, the
// titular's earlier exports (copies of what is now anonymized) are dropped,
// and when no hold kept anything their requests forget the identifiers.
// Each row a hold kept as it was goes into lgpd_blocks with release_action
// 'anonymize', so the sweep anonymizes it when the hold ends (the promise
// the result makes). A row a DELETE already blocked stays the DELETE's: it
// is erased at release, which is more than anonymizing it.
func (x *Tx) RecordAnonymization(ctx context.Context, requestID, subjectRef string, res *crm.AnonymizeResult) error {
	now := x.s.now()
	for _, b := range res.Blocks {
		// In ON DUPLICATE KEY UPDATE, later assignments see the earlier
		// ones' new values: the DELETE test reads the row's old state first.
		_, err := x.tx.ExecContext(ctx, `INSERT INTO lgpd_blocks
 (entity, table_name, row_key, subject_ref, request_id, basis, reference, on_delete, release_at, blocked_at, release_action)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'anonymize')
 ON DUPLICATE KEY UPDATE
 request_id = IF(released_at IS NULL AND release_action = 'delete', request_id, VALUES(request_id)),
 basis = IF(released_at IS NULL AND release_action = 'delete', basis, VALUES(basis)),
 reference = IF(released_at IS NULL AND release_action = 'delete', reference, VALUES(reference)),
 on_delete = IF(released_at IS NULL AND release_action = 'delete', on_delete, VALUES(on_delete)),
 release_at = IF(released_at IS NULL AND release_action = 'delete', release_at, VALUES(release_at)),
 released_as = IF(released_at IS NULL AND release_action = 'delete', released_as, NULL),
 release_action = IF(released_at IS NULL AND release_action = 'delete', 'delete', 'anonymize'),
 released_at = NULL`,
			b.Entity, b.Table, b.RowKey, subjectRef, requestID, b.Basis, sqlq.Truncate(b.Reference, 500), b.OnDelete, b.Until, now)
		if err != nil {
			return fmt.Errorf("block %s row: %w", b.Entity, err)
		}
	}
	if err := x.s.dropSubjectExports(ctx, x.tx, subjectRef); err != nil {
		return err
	}
	if len(res.Holds) == 0 {
		return forgetRequestIdentifiers(ctx, x.tx, subjectRef)
	}
	return nil
}

// forgetRequestIdentifiers clears the identifiers of every request of the
// person behind ref, under any of their references.
func forgetRequestIdentifiers(ctx context.Context, tx *sql.Tx, ref string) error {
	in, args, err := personIn(ctx, tx, "subject_ref", ref)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE lgpd_requests SET subject_json = NULL WHERE "+in, args...); err != nil { //nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
		return fmt.Errorf("forget request identifiers: %w", err)
	}
	return nil
}

// personIn is "column IN (…)" over every reference of the person behind
// ref, with its arguments.
func personIn(ctx context.Context, q Querier, column, ref string) (string, []any, error) {
	refs, err := personRefs(ctx, q, ref)
	if err != nil {
		return "", nil, err
	}
	args := make([]any, len(refs))
	for i, r := range refs {
		args[i] = r
	}
	return column + " IN (" + sqlq.Placeholders(len(refs)) + ")", args, nil
}

// forgetTitular is what erasing the last of a titular's data does to what
// titular itself keeps of them: their requests lose their identifiers, the
// ledger's subject reference is unlinked from them (the subject index), and
// their consent evidence (IP, user agent) goes, or stays as proof under the
// map's consent_evidence retention (keep). The consent records stay as
// proof of what was agreed, linked to no one. It returns the evidence kept.
func (s *Store) forgetTitular(ctx context.Context, tx *sql.Tx, ref string, keep *datamap.Retention) (*EvidenceHold, error) {
	if err := forgetRequestIdentifiers(ctx, tx, ref); err != nil {
		return nil, err
	}
	if _, err := s.forgetSubject(ctx, tx, ref); err != nil {
		return nil, err
	}
	return s.releaseConsentEvidence(ctx, tx, ref, keep)
}

// dropSubjectExports removes the titular's earlier exports: they copy data
// that is now erased.
func (s *Store) dropSubjectExports(ctx context.Context, tx *sql.Tx, subjectRef string) error {
	in, args, err := personIn(ctx, tx, "r.subject_ref", subjectRef)
	if err != nil {
		return err
	}
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	if _, err := tx.ExecContext(ctx, `DELETE c FROM lgpd_export_chunks c
 JOIN lgpd_exports e ON e.id = c.export_id JOIN lgpd_requests r ON r.id = e.request_id
 WHERE `+in, args...); err != nil {
		return fmt.Errorf("drop earlier export chunks: %w", err)
	}
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	if _, err := tx.ExecContext(ctx, `DELETE e FROM lgpd_exports e JOIN lgpd_requests r ON r.id = e.request_id
 WHERE `+in, args...); err != nil {
		return fmt.Errorf("drop earlier exports: %w", err)
	}
	return nil
}

// Block is an unreleased row of lgpd_blocks the sweep may release.
type Block struct {
	ID         int64
	Entity     string
	Key        []any
	SubjectRef string
	// Action is what the sweep does once the hold ends: ActionDelete or
	// ActionAnonymize.
	Action string
	// Dependant rows were kept only because held rows referenced them.
	Dependant bool
}

// What the sweep does to a blocked row when its hold ends
// (lgpd_blocks.release_action).
const (
	// ActionDelete: a DELETE kept the row; it is deleted, or anonymized when
	// rows the sweep cannot delete still reference it.
	ActionDelete = "delete"
	// ActionAnonymize: an ANONYMIZE had to leave the row as it was.
	ActionAnonymize = "anonymize"
)

// What the sweep did to a released row (lgpd_blocks.released_as, and the
// To of its ledger leaf).
const (
	ReleasedErased     = "ERASED"
	ReleasedAnonymized = "ANONYMIZED"
	// ReleasedGone: the row had already left the CRM; nothing was changed.
	ReleasedGone = "GONE"
)

// SweepBatch bounds how many blocks one sweep transaction releases.
const SweepBatch = 500

// DueBlocks lists unreleased blocks past their release date, plus the
// dependant blocks (no date) worth retrying, in id order after `after`, at
// most SweepBatch, locked (SKIP LOCKED: another sweep takes the others).
func (r Reads) DueBlocks(ctx context.Context, after int64) ([]Block, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, entity, row_key, subject_ref, release_action, release_at IS NULL FROM lgpd_blocks
 WHERE released_at IS NULL AND (release_at <= ? OR release_at IS NULL) AND id > ? ORDER BY id LIMIT ?
 FOR UPDATE SKIP LOCKED`, r.s.now(), after, SweepBatch)
	if err != nil {
		return nil, fmt.Errorf("list due blocks: %w", err)
	}
	return collect(rows, "list due blocks", func(rows *sql.Rows) (Block, error) {
		var b Block
		var key string
		if err := rows.Scan(&b.ID, &b.Entity, &key, &b.SubjectRef, &b.Action, &b.Dependant); err != nil {
			return b, err
		}
		if b.Key, err = crm.ParseRowKey(key); err != nil {
			return b, fmt.Errorf("block %d: bad row key: %w", b.ID, err)
		}
		return b, nil
	})
}

// ReleaseBlock records that the sweep released block b's row, as one of
// the Released* outcomes, with its ledger leaf.
func (x *Tx) ReleaseBlock(ctx context.Context, b Block, as string) error {
	now := x.s.now()
	if _, err := x.tx.ExecContext(ctx, "UPDATE lgpd_blocks SET released_at = ?, released_as = ? WHERE id = ?", now, as, b.ID); err != nil {
		return fmt.Errorf("release block: %w", err)
	}
	return x.s.appendReleaseLeaf(ctx, x.tx, b, as, now)
}

// EventErasureCompleted is a partly erased titular whose last held row the
// sweep released: the DELETE's erasure is now complete.
const EventErasureCompleted = "erasure.completed"

// CompletionWindow is how long after a titular's last block is released
// the sweep keeps checking whether their erasure can complete: a sweep that
// failed is retried, and a titular who came back stops being re-examined.
const CompletionWindow = 30 * 24 * time.Hour

// ErasuresToComplete lists the subject references with a block released
// within the last 30 days, none of whose blocks is still open, and that the
// subject index still knows: titulares partly erased whose holds have all
// been released.
func (r Reads) ErasuresToComplete(ctx context.Context) ([]string, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT DISTINCT b.subject_ref FROM lgpd_blocks b
 WHERE b.released_at >= ?
 AND NOT EXISTS (SELECT 1 FROM lgpd_blocks o WHERE o.subject_ref = b.subject_ref AND o.released_at IS NULL)
 AND EXISTS (SELECT 1 FROM lgpd_subject_index i WHERE i.subject_ref =
   COALESCE((SELECT m.person_ref FROM lgpd_subject_merges m WHERE m.old_ref = b.subject_ref), b.subject_ref))`, r.s.now().Add(-CompletionWindow))
	if err != nil {
		return nil, fmt.Errorf("list erasures to complete: %w", err)
	}
	return collect(rows, "list erasures to complete", func(rows *sql.Rows) (string, error) {
		var ref string
		return ref, rows.Scan(&ref)
	})
}

// ErasureCompletable checks, locking ref's requests in tx, that ref has a
// completed DELETE, no CONSENT received after the latest one and no request
// still to run. When it has, it returns every set of identifiers ref's
// requests named: the caller completes the erasure only if the CRM holds no
// row of any of them (crm.Reaches).
func (x *Tx) ErasureCompletable(ctx context.Context, ref string) (bool, []Identifiers, error) {
	// A titular's requests are few: one read gives all the rules need,
	// under every reference of the person. The CONSENTs that revoked their
	// consents because of an erasure (ErasureActor) are no return.
	in, args, err := personIn(ctx, x.tx, "subject_ref", ref)
	if err != nil {
		return false, nil, err
	}
	rows, err := x.tx.QueryContext(ctx, "SELECT kind, status, received_at, subject_json FROM lgpd_requests WHERE "+in+ //nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
		" AND NOT (kind = ? AND created_by = ?) FOR UPDATE", append(args, KindConsent, ErasureActor)...)
	if err != nil {
		return false, nil, fmt.Errorf("complete erasure: requests: %w", err)
	}
	type request struct {
		kind    Kind
		status  Status
		at      time.Time
		subject sql.NullString
	}
	reqs, err := collect(rows, "complete erasure: requests", func(rows *sql.Rows) (request, error) {
		var r request
		return r, rows.Scan(&r.kind, &r.status, &r.at, &r.subject)
	})
	if err != nil {
		return false, nil, err
	}
	var deleted time.Time
	var identifiers []Identifiers
	for _, r := range reqs {
		if r.kind == KindDelete && r.status == StatusCompleted && r.at.After(deleted) {
			deleted = r.at
		}
		if r.subject.Valid {
			var ids Identifiers
			if err := json.Unmarshal([]byte(r.subject.String), &ids); err != nil {
				return false, nil, fmt.Errorf("complete erasure: stored identifiers: %w", err)
			}
			if !ids.Empty() && !slices.Contains(identifiers, ids) {
				identifiers = append(identifiers, ids)
			}
		}
	}
	if deleted.IsZero() {
		return false, nil, nil
	}
	for _, r := range reqs {
		switch {
		case r.status == StatusReceived, r.status == StatusAwaitingApproval, r.status == StatusProcessing:
			return false, nil, nil // still to run
		case r.kind == KindConsent && r.at.After(deleted):
			return false, nil, nil // came back
		}
	}
	return true, identifiers, nil
}

// CompleteErasure does what a complete DELETE does at once, for a titular
// the sweep found completable: ForgetTitular, and a ledger leaf records it.
func (x *Tx) CompleteErasure(ctx context.Context, ref string, keep *datamap.Retention) error {
	if _, err := x.s.forgetTitular(ctx, x.tx, ref, keep); err != nil {
		return err
	}
	return x.s.appendLeaf(ctx, x.tx, ledger.Leaf{Event: EventErasureCompleted, Kind: string(KindDelete), SubjectRef: ref,
		From: "PARTIAL", To: "COMPLETE", At: x.s.now()})
}

// collect reads every row with scan, closes rows, and returns the first
// error: the query's, a scan's, or the one that ended the rows early
// (rows.Err), so a read cut short never passes for a complete one. what
// names the read in errors.
func collect[T any](rows *sql.Rows, what string, scan func(*sql.Rows) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
