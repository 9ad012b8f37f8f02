package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/datamap"
)

// DeleteCount is what a DELETE did to one entity's rows. Anonymized rows
// are among the Blocked ones: a hold with on_delete: anonymize keeps them,
// with their non-retained fields anonymized.
type DeleteCount struct {
	Entity     string `json:"entity"`
	Deleted    int64  `json:"deleted"`
	Blocked    int64  `json:"blocked"`
	Anonymized int64  `json:"anonymized"`
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
	// EvidenceKept is the consent evidence a complete erasure keeps as proof
	// (the map's consent_evidence retention); nil when none is kept.
	EvidenceKept *EvidenceHold `json:"evidence_kept,omitempty"`
}

// heldByDependants is the basis recorded for a row kept only because held
// rows still reference it (a buyer's record under their held sale).
const heldByDependants = "dependencia_de_registro_retido"

// DeleteSubject erases a titular's rows in tx, children before parents,
// through the map of p (a PlanDelete plan). Rows under a running retention
// hold are blocked instead (recorded in lgpd_blocks for the sweep), and so
// are rows that held rows still reference. Held rows of an entity whose
// hold says on_delete: anonymize also lose their non-retained fields, with
// the anonymize executor and key: the row stays for the law, the person in
// it does not. All of it commits or none of it does: the caller's
// transaction decides. On a complete erasure the titular's own request
// records lose their identifiers and exports.
func (s *Store) DeleteSubject(ctx context.Context, tx *sql.Tx, p *AnonymizePlan, key *anonymize.Key, ids Identifiers, requestID, subjectRef string) (*DeleteResult, error) {
	if p == nil || key == nil {
		return nil, errors.New("delete: a plan and an anonymize key are required")
	}
	m, now := p.m, s.now()
	rows, err := collectErasable(ctx, tx, m, ids, now)
	if err != nil {
		return nil, err
	}
	anon := &heldAnonymizer{p: p, key: key, now: now}
	res := &DeleteResult{Complete: true}
	order := m.Order()
	slices.Reverse(order)
	holds := map[string]*Hold{}
	var blocked []blockedRows
	for _, e := range order {
		var free [][]any
		var held, toAnonymize []keyedRow
		for _, r := range rows.rows[e.Name] {
			if _, ok := heldUntil(e, r.from, now); ok {
				held = append(held, r)
				if r.values != nil {
					toAnonymize = append(toAnonymize, r)
				}
				continue
			}
			free = append(free, r.key)
		}
		// Anonymized first: a held row that no longer names the titular no
		// longer keeps their parent rows either.
		anonymized, err := anon.rows(ctx, tx, e, toAnonymize)
		if err != nil {
			return nil, err
		}
		if err := s.fail("anonymized:" + e.Name); err != nil {
			return nil, err
		}
		deleted, kept, err := deleteBatch(ctx, tx, e, free)
		if err != nil {
			return nil, err
		}
		for _, k := range kept {
			held = append(held, keyedRow{key: k})
		}
		keys := make([][]any, len(held))
		for i, r := range held {
			if err := s.block(ctx, tx, e, r, requestID, subjectRef, now, holds); err != nil {
				return nil, err
			}
			keys[i] = r.key
		}
		blocked = append(blocked, blockedRows{e: e, keys: keys})
		res.Entities = append(res.Entities, DeleteCount{Entity: e.Name, Deleted: deleted, Blocked: int64(len(held)), Anonymized: anonymized})
		if err := s.fail("delete:" + e.Name); err != nil {
			return nil, err
		}
		if e.AttachmentPath != "" {
			res.Attachments = append(res.Attachments, attachments(e, free, held)...)
		}
		delete(rows.rows, e.Name) // drop the keys and held values
	}
	for _, b := range blocked {
		if err := assertPresent(ctx, tx, b.e, b.keys); err != nil {
			return nil, err
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
		// On a partial erasure all of it waits for the held data to go
		// (Art. 8 §2, 16); the sweep then finishes it (CompleteErasures).
		if res.EvidenceKept, err = s.forgetTitular(ctx, tx, subjectRef, m.ConsentEvidence); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// forgetTitular is what erasing the last of a titular's data does to what
// titular itself keeps of them: their requests lose their identifiers, the
// ledger's subject reference is unlinked from them (the subject index), and
// their consent evidence (IP, user agent) goes, or stays as proof under the
// map's consent_evidence retention (keep). The consent records stay as
// proof of what was agreed, linked to no one. It returns the evidence kept.
func (s *Store) forgetTitular(ctx context.Context, tx *sql.Tx, ref string, keep *datamap.Retention) (*EvidenceHold, error) {
	if _, err := tx.ExecContext(ctx, "UPDATE lgpd_requests SET subject_json = NULL WHERE subject_ref = ?", ref); err != nil {
		return nil, fmt.Errorf("forget request identifiers: %w", err)
	}
	if _, err := s.ForgetSubject(ctx, tx, ref); err != nil {
		return nil, err
	}
	return s.ReleaseConsentEvidence(ctx, tx, ref, keep)
}

// block records a held row in lgpd_blocks (idempotently: a second DELETE
// refreshes the record) and adds it to the entity's hold.
func (s *Store) block(ctx context.Context, tx *sql.Tx, e *datamap.Entity, r keyedRow, requestID, subjectRef string, now time.Time, holds map[string]*Hold) error {
	basis, reference, onDelete := heldByDependants, "registro referenciado por dados sob retenção legal", "block"
	var until *time.Time
	if t, ok := heldUntil(e, r.from, now); ok {
		basis, reference, onDelete = e.Retention.Basis, e.Retention.Reference, e.Retention.OnDelete
		until = &t
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

// heldAnonymizer applies the anonymize executor to the held rows of a
// DELETE. It binds the plan to the live schema on first use, so a DELETE
// that anonymizes nothing never reads the schema, and shares one sink over
// the request, so a value's collision redraws follow it across entities.
type heldAnonymizer struct {
	p    *AnonymizePlan
	key  *anonymize.Key
	now  time.Time
	sink *anonymizeSink
}

// rows anonymizes rows of e in tx and reports how many changed.
func (h *heldAnonymizer) rows(ctx context.Context, tx *sql.Tx, e *datamap.Entity, rows []keyedRow) (int64, error) {
	if len(rows) == 0 || len(h.p.entities[e.Name].fields) == 0 {
		return 0, nil
	}
	if h.sink == nil {
		schema, err := LoadSchema(ctx, tx)
		if err != nil {
			return 0, err
		}
		run, err := bindPlan(h.p, schema)
		if err != nil {
			return 0, err
		}
		h.sink = newAnonymizeSink(ctx, tx, h.key, h.now, run)
	}
	c, err := h.sink.anonymizeRows(e, rows)
	if err != nil {
		return 0, fmt.Errorf("anonymize held %s rows: %w", e.Name, err)
	}
	return c.Rows, nil
}

// blockedRows are one entity's rows a DELETE kept.
type blockedRows struct {
	e    *datamap.Entity
	keys [][]any
}

// ErrCascadedHold is returned when deleting a titular's free rows made the
// database delete rows the law keeps: a foreign key with ON DELETE CASCADE
// from a deleted table into a held one. The transaction is rolled back.
var ErrCascadedHold = errors.New("a foreign key with ON DELETE CASCADE deleted rows under a retention hold; nothing was deleted. Change that foreign key to RESTRICT or SET NULL")

// assertPresent checks every kept row is still there once the deletions are
// done: titular never lets a cascade erase what a hold keeps.
func assertPresent(ctx context.Context, tx *sql.Tx, e *datamap.Entity, keys [][]any) error {
	for start := 0; start < len(keys); start += parentBatch {
		batch := keys[start:min(start+parentBatch, len(keys))]
		in, args := keyIn(e.Key, batch)
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(e.Table)+" WHERE "+in, args...).Scan(&n); err != nil {
			return fmt.Errorf("check held %s rows: %w", e.Name, err)
		}
		if n != len(batch) {
			return fmt.Errorf("%w (entity %s, table %s)", ErrCascadedHold, e.Name, e.Table)
		}
	}
	return nil
}
