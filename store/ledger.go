package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/ledger"
)

// AppendLeaf records l in the tenant's ledger as part of tx, the transaction
// making the change l records: a rolled-back change leaves no leaf, a
// committed one always has its leaf. The leaf waits in lgpd_ledger_pending
// until Integrate gives it a place in the tree, so concurrent writers never
// queue behind one lock.
func (s *Store) appendLeaf(ctx context.Context, tx *sql.Tx, l ledger.Leaf) error {
	return s.insertLeaves(ctx, tx, []ledger.Leaf{l})
}

// appendRequestLeaf records a request's state change. A final leaf carries
// the SHA-256 of the request's recorded outcome (result and reasons: the
// holds a DELETE names, a denial's reasons), and a COMPLETED one the SHA-256
// of every export the request delivers, so the receipt vouches for both.
func (s *Store) appendRequestLeaf(ctx context.Context, tx *sql.Tx, id string, from, to Status, at time.Time) error {
	var kind Kind
	var ref string
	var result, reasons, band, rep sql.NullString
	err := tx.QueryRowContext(ctx, "SELECT kind, subject_ref, result_json, reasons_json, minor_band, representative_json FROM lgpd_requests WHERE id = ?", id).
		Scan(&kind, &ref, &result, &reasons, &band, &rep)
	if err != nil {
		return fmt.Errorf("ledger leaf of request: %w", err)
	}
	var digests []ledger.Digest
	if from == "" {
		// The first leaf commits to who acted for the titular. The digest
		// is of the fields, never of the JSON read back.
		var r *Representative
		if rep.Valid && rep.String != "" {
			r = &Representative{}
			if err := json.Unmarshal([]byte(rep.String), r); err != nil {
				return fmt.Errorf("ledger leaf of request: decode representative: %w", err)
			}
		}
		digests = s.representationDigests(band.String, r)
	}
	if to == StatusCompleted {
		rows, err := tx.QueryContext(ctx, "SELECT format, sha256 FROM lgpd_exports WHERE request_id = ? ORDER BY format", id)
		if err != nil {
			return fmt.Errorf("ledger leaf: export digests: %w", err)
		}
		delivered, err := collect(rows, "ledger leaf: export digests", func(rows *sql.Rows) (ledger.Digest, error) {
			var format, sum string
			if err := rows.Scan(&format, &sum); err != nil {
				return ledger.Digest{}, err
			}
			d := ledger.Digest{Name: "export." + format}
			b, err := hex.DecodeString(sum)
			if err != nil || len(b) != len(d.SHA256) {
				return d, fmt.Errorf("export %s has a malformed sha256", format)
			}
			copy(d.SHA256[:], b)
			return d, nil
		})
		if err != nil {
			return err
		}
		digests = append(digests, delivered...)
	}
	return s.insertLeaves(ctx, tx, []ledger.Leaf{requestLeaf(id, kind, ref, from, to, at, result, reasons, digests)})
}

// EventErasureReleased is a blocked row erased (or, still referenced by
// other rows, anonymized) once its retention hold ended: the deferred part
// of a DELETE.
const EventErasureReleased = "erasure.released"

// EventAnonymizationReleased is a row an ANONYMIZE had to leave as it was,
// anonymized by the sweep once its hold ended.
const EventAnonymizationReleased = "anonymization.released"

// appendReleaseLeaf records the sweep's release of one blocked row, under
// the request and subject reference that blocked it; To says what the
// sweep did (Released*).
func (s *Store) appendReleaseLeaf(ctx context.Context, tx *sql.Tx, b Block, as string, at time.Time) error {
	l := ledger.Leaf{Event: EventErasureReleased, Kind: string(KindDelete), From: "BLOCKED", To: as, At: at}
	if b.Action == ActionAnonymize {
		l.Event, l.Kind = EventAnonymizationReleased, string(KindAnonymize)
	}
	err := tx.QueryRowContext(ctx, "SELECT request_id, subject_ref FROM lgpd_blocks WHERE id = ?", b.ID).Scan(&l.RequestID, &l.SubjectRef)
	if err != nil {
		return fmt.Errorf("ledger leaf of a released block: %w", err)
	}
	return s.appendLeaf(ctx, tx, l)
}

// integrateBatch bounds one sequencer transaction.
const integrateBatch = 1000

// Integrate moves every committed pending leaf into the tree, in batches,
// and returns how many it integrated. Any number of processes may call it at
// once: the head row lock serializes them.
func (s *Store) Integrate(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.integrateOnce(ctx, integrateBatch)
		total += n
		if err != nil || n < integrateBatch {
			return total, err
		}
	}
}

type pendingLeaf struct {
	id        int64
	leaf, mac []byte
	requestID sql.NullString
}

// integrateOnce integrates up to max pending leaves in one transaction. It
// runs in READ COMMITTED so reading the pending table takes no gap locks that
// would stall writers appending to it.
func (s *Store) integrateOnce(ctx context.Context, limit int) (int, error) {
	var n int
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		n, err = s.tryIntegrate(ctx, limit)
		if err == nil || !IsRetryable(err) {
			return n, err
		}
	}
	return n, err
}

func (s *Store) tryIntegrate(ctx context.Context, limit int) (int, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return 0, fmt.Errorf("integrate: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	var size uint64
	var rangeBytes []byte
	err = tx.QueryRowContext(ctx, "SELECT size, range_hashes FROM lgpd_ledger_head WHERE id = 1 FOR UPDATE").Scan(&size, &rangeBytes)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errors.New("integrate: the ledger head is missing; run titular migrate")
	}
	if err != nil {
		return 0, fmt.Errorf("integrate: lock head: %w", err)
	}
	pending, err := readPending(ctx, tx, limit)
	if err != nil || len(pending) == 0 {
		return 0, err
	}
	rng, err := ledger.DecodeRange(size, rangeBytes)
	if err != nil {
		return 0, fmt.Errorf("integrate: stored head: %w", err)
	}
	now := s.now()
	entryArgs := make([]any, 0, len(pending)*6)
	var nodeArgs []any
	ids := make([]any, 0, len(pending))
	for i, p := range pending {
		seq := size + uint64(i)
		h := ledger.HashLeaf(p.leaf)
		entryArgs = append(entryArgs, seq, p.leaf, h, p.mac, p.requestID, now)
		ids = append(ids, p.id)
		if err := rng.Append(h, func(id compact.NodeID, hash []byte) {
			if id.Level > 0 {
				nodeArgs = append(nodeArgs, nodeSeq(id), id.Level, hash)
			}
		}); err != nil {
			return 0, fmt.Errorf("integrate: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO lgpd_ledger_entries (seq, leaf, leaf_hash, mac, request_id, created_at) VALUES "+ //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
		sqlq.RowsOf(len(pending), 6), entryArgs...); err != nil {
		return 0, fmt.Errorf("integrate: insert entries: %w", err)
	}
	if len(nodeArgs) > 0 {
		if _, err := tx.ExecContext(ctx, "INSERT INTO lgpd_ledger_nodes (seq, level, hash) VALUES "+ //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
			sqlq.RowsOf(len(nodeArgs)/3, 3), nodeArgs...); err != nil {
			return 0, fmt.Errorf("integrate: insert nodes: %w", err)
		}
	}
	// Delete exactly the rows read: a range could catch a row whose
	// transaction commits meanwhile, and lose its leaf.
	res, err := tx.ExecContext(ctx, "DELETE FROM lgpd_ledger_pending WHERE id IN ("+sqlq.Placeholders(len(ids))+")", ids...) //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
	if err != nil {
		return 0, fmt.Errorf("integrate: clear pending: %w", err)
	}
	if got, _ := res.RowsAffected(); got != int64(len(ids)) {
		return 0, fmt.Errorf("integrate: %d of %d pending leaves were already gone; another sequencer ran without the head lock", len(ids)-int(got), len(ids))
	}
	root, err := ledger.Root(rng)
	if err != nil {
		return 0, fmt.Errorf("integrate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE lgpd_ledger_head SET size = ?, root = ?, range_hashes = ?, updated_at = ? WHERE id = 1",
		rng.End(), root, ledger.EncodeRange(rng), now); err != nil {
		return 0, fmt.Errorf("integrate: move head: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("integrate: commit: %w", err)
	}
	return len(pending), nil
}

func readPending(ctx context.Context, tx *sql.Tx, limit int) ([]pendingLeaf, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id, leaf, mac, request_id FROM lgpd_ledger_pending ORDER BY id LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("integrate: read pending: %w", err)
	}
	defer rows.Close()
	var out []pendingLeaf
	for rows.Next() {
		var p pendingLeaf
		if err := rows.Scan(&p.id, &p.leaf, &p.mac, &p.requestID); err != nil {
			return nil, fmt.Errorf("integrate: read pending: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// nodeSeq is the last leaf a node covers: the key lgpd_ledger_nodes stores
// it under.
func nodeSeq(id compact.NodeID) uint64 { return (id.Index+1)<<id.Level - 1 }

// PendingLeaves counts leaves committed but not yet integrated.
func (s *Store) PendingLeaves(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM lgpd_ledger_pending").Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending leaves: %w", err)
	}
	return n, nil
}

// EventExportDelivered is an export streamed to its requester in full.
const EventExportDelivered = "export.delivered"

// RecordDelivery appends, in its own transaction, the leaf saying a
// request's export was delivered, with the digest of the exact bytes sent.
func (s *Store) RecordDelivery(ctx context.Context, requestID, subjectRef, format, sha256Hex string) error {
	d := ledger.Digest{Name: "export." + format}
	b, err := hex.DecodeString(sha256Hex)
	if err != nil || len(b) != len(d.SHA256) {
		return fmt.Errorf("ledger leaf: export %s has a malformed sha256", format)
	}
	copy(d.SHA256[:], b)
	return s.readWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.appendLeaf(ctx, tx, ledger.Leaf{Event: EventExportDelivered, Kind: string(KindExtract), RequestID: requestID,
			SubjectRef: subjectRef, From: string(StatusCompleted), To: "DELIVERED", At: s.now(), Digests: []ledger.Digest{d}})
	})
}
