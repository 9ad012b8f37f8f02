package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/titular/titular/datamap"
)

// DeleteCount is what a DELETE did to one entity's rows.
type DeleteCount struct {
	Entity  string `json:"entity"`
	Deleted int64  `json:"deleted"`
	Blocked int64  `json:"blocked"`
}

// Hold is a retention hold that kept some of a titular's rows (Art. 16 I).
type Hold struct {
	Entity    string `json:"entity"`
	Basis     string `json:"basis"`
	Reference string `json:"reference"`
	// Until is when the last of the held rows is released; nil when the rows
	// are kept only because held rows reference them.
	Until *time.Time `json:"until,omitempty"`
	Rows  int64      `json:"rows"`
}

// Attachment is a file-bearing row the CRM must act on: it removes the file
// of a deleted row, and keeps a blocked one's until the hold ends.
type Attachment struct {
	Entity string `json:"entity"`
	Key    string `json:"key"`
	State  string `json:"state"` // "deleted" or "blocked"
}

// DeleteResult is a DELETE's outcome.
type DeleteResult struct {
	Entities    []DeleteCount `json:"entities"`
	Holds       []Hold        `json:"holds"`
	Attachments []Attachment  `json:"attachments"`
	// Complete is true when nothing was held: no row the map reaches is left.
	Complete bool `json:"complete"`
}

// heldByDependants is the basis recorded for a row kept only because held
// rows still reference it (a buyer's record under their held sale).
const heldByDependants = "dependencia_de_registro_retido"

// DeleteSubject erases a titular's rows in tx, children before parents.
// Rows under a running retention hold are blocked instead (recorded in
// lgpd_blocks for the sweep), and so are rows that held rows still
// reference. All of it commits or none of it does: the caller's transaction
// decides. On a complete erasure the titular's own request records lose
// their identifiers and exports.
func (s *Store) DeleteSubject(ctx context.Context, tx *sql.Tx, m *datamap.Map, ids Identifiers, requestID, subjectRef string) (*DeleteResult, error) {
	now := s.now()
	rows, err := collectRows(ctx, tx, m, ids)
	if err != nil {
		return nil, err
	}
	res := &DeleteResult{Complete: true}
	order := m.Order()
	slices.Reverse(order)
	holds := map[string]*Hold{}
	for _, e := range order {
		var free [][]any
		var held []keyedRow
		for _, r := range rows.rows[e.Name] {
			if e.Retention != nil {
				if until, ok := releaseAt(e.Retention, r.from); ok && until.After(now) {
					held = append(held, r)
					continue
				}
			}
			free = append(free, r.key)
		}
		deleted, kept, err := deleteBatch(ctx, tx, e, free)
		if err != nil {
			return nil, err
		}
		for _, k := range kept {
			held = append(held, keyedRow{key: k})
		}
		for _, r := range held {
			if err := s.block(ctx, tx, e, r, requestID, subjectRef, now, holds); err != nil {
				return nil, err
			}
		}
		res.Entities = append(res.Entities, DeleteCount{Entity: e.Name, Deleted: deleted, Blocked: int64(len(held))})
		if err := s.fail("delete:" + e.Name); err != nil {
			return nil, err
		}
		if e.AttachmentPath != "" {
			res.Attachments = append(res.Attachments, attachments(e, free, held)...)
		}
	}
	slices.Reverse(res.Entities)
	for _, e := range m.Order() {
		if h := holds[e.Name]; h != nil {
			res.Holds = append(res.Holds, *h)
			res.Complete = false
		}
	}
	if err := s.dropSubjectExports(ctx, tx, subjectRef); err != nil {
		return nil, err
	}
	if res.Complete {
		if _, err := tx.ExecContext(ctx, "UPDATE lgpd_requests SET subject_json = NULL WHERE subject_ref = ?", subjectRef); err != nil {
			return nil, fmt.Errorf("forget request identifiers: %w", err)
		}
	}
	return res, nil
}

// block records a held row in lgpd_blocks (idempotently: a second DELETE
// refreshes the record) and adds it to the entity's hold.
func (s *Store) block(ctx context.Context, tx *sql.Tx, e *datamap.Entity, r keyedRow, requestID, subjectRef string, now time.Time, holds map[string]*Hold) error {
	basis, reference, onDelete := heldByDependants, "registro referenciado por dados sob retenção legal", "block"
	var until *time.Time
	if e.Retention != nil {
		if t, ok := releaseAt(e.Retention, r.from); ok && t.After(now) {
			basis, reference, onDelete = e.Retention.Basis, e.Retention.Reference, e.Retention.OnDelete
			until = &t
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO lgpd_blocks
 (entity, table_name, row_key, subject_ref, request_id, basis, reference, on_delete, release_at, blocked_at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
 ON DUPLICATE KEY UPDATE entity = VALUES(entity), request_id = VALUES(request_id), basis = VALUES(basis),
 reference = VALUES(reference), on_delete = VALUES(on_delete), release_at = VALUES(release_at), released_at = NULL`,
		e.Name, e.Table, keyJSON(r.key), subjectRef, requestID, basis, truncate(reference, 500), onDelete, until, now)
	if err != nil {
		return fmt.Errorf("block %s row: %w", e.Name, err)
	}
	h := holds[e.Name]
	if h == nil {
		h = &Hold{Entity: e.Name, Basis: basis, Reference: reference}
		holds[e.Name] = h
	}
	h.Rows++
	if until != nil && (h.Until == nil || until.After(*h.Until)) {
		h.Basis, h.Reference, h.Until = basis, reference, until
	}
	return nil
}

func attachments(e *datamap.Entity, deleted [][]any, held []keyedRow) []Attachment {
	var out []Attachment
	for _, k := range deleted {
		out = append(out, Attachment{Entity: e.Name, Key: keyJSON(k), State: "deleted"})
	}
	for _, r := range held {
		out = append(out, Attachment{Entity: e.Name, Key: keyJSON(r.key), State: "blocked"})
	}
	return out
}

// dropSubjectExports removes the titular's earlier exports: they copy data
// that is now erased.
func (s *Store) dropSubjectExports(ctx context.Context, tx *sql.Tx, subjectRef string) error {
	if _, err := tx.ExecContext(ctx, `DELETE c FROM lgpd_export_chunks c
 JOIN lgpd_exports e ON e.id = c.export_id JOIN lgpd_requests r ON r.id = e.request_id
 WHERE r.subject_ref = ?`, subjectRef); err != nil {
		return fmt.Errorf("drop earlier export chunks: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE e FROM lgpd_exports e JOIN lgpd_requests r ON r.id = e.request_id
 WHERE r.subject_ref = ?`, subjectRef); err != nil {
		return fmt.Errorf("drop earlier exports: %w", err)
	}
	return nil
}
