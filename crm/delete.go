package crm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
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
	// Code, when set, says the rows are kept for another reason than a
	// retention hold (CodeFKActionOnHeldRows); Constraint names the CRM's
	// foreign key behind it.
	Code       string `json:"code,omitempty"`
	Constraint string `json:"constraint,omitempty"`
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
	// Blocks are the held rows, for the caller to record (lgpd_blocks) so the
	// sweep releases them when their hold ends. Not part of the stored result.
	Blocks []Block `json:"-"`
}

// Block is one row a DELETE kept: by a running retention hold (Until set),
// or because held rows reference it.
type Block struct {
	Entity, Table string
	// RowKey is the row's key as a JSON array.
	RowKey    string
	Basis     string
	Reference string
	// OnDelete is what the hold does to the row: "block" or "anonymize".
	OnDelete string
	Until    *time.Time
}

// heldByDependants is the basis recorded for a row kept only because held
// rows still reference it (a buyer's record under their held sale).
const heldByDependants = "dependencia_de_registro_retido"

// Delete erases a titular's rows in tx, children before parents, through
// the map of p (a PlanDelete plan). Rows under a running retention hold are
// kept instead, and so are rows that held rows still reference; the result
// lists them (Blocks) for the caller to record. Held rows of an entity whose
// hold says on_delete: anonymize also lose their non-retained fields, with
// the anonymize executor and key: the row stays for the law, the person in
// it does not. All of it commits or none of it does: the caller's
// transaction decides.
func (x *Executor) Delete(ctx context.Context, tx Querier, p *AnonymizePlan, key *anonymize.Key, ids Identifiers) (*DeleteResult, error) {
	if p == nil || key == nil {
		return nil, errors.New("delete: a plan and an anonymize key are required")
	}
	m, now := p.m, x.now()
	rows, err := collectErasable(ctx, tx, m, ids, now)
	if err != nil {
		return nil, err
	}
	anon := &heldAnonymizer{p: p, key: key, now: now}
	res := &DeleteResult{Complete: true}
	order := m.Order()
	slices.Reverse(order)
	holds := map[string]*Hold{}
	fk := newFKGuard(m, now)
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
		if err := x.fail("anonymized:" + e.Name); err != nil {
			return nil, err
		}
		free, fkKept, fkBlocks, err := fk.split(ctx, tx, e, free)
		if err != nil {
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
			res.Blocks = append(res.Blocks, block(e, r, now, holds))
			keys[i] = r.key
		}
		res.Blocks = append(res.Blocks, fkBlocks...)
		for _, k := range fkKept {
			held, keys = append(held, keyedRow{key: k}), append(keys, k)
		}
		fk.keep(e, keys)
		blocked = append(blocked, blockedRows{e: e, keys: keys})
		res.Entities = append(res.Entities, DeleteCount{Entity: e.Name, Deleted: deleted, Blocked: int64(len(held)), Anonymized: anonymized})
		if err := x.fail("delete:" + e.Name); err != nil {
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
	res.Holds = append(res.Holds, fk.holds...)
	res.Complete = res.Complete && len(fk.holds) == 0
	return res, nil
}

// block describes a held row for lgpd_blocks and adds it to the entity's
// hold.
func block(e *datamap.Entity, r keyedRow, now time.Time, holds map[string]*Hold) Block {
	basis, reference, onDelete := heldByDependants, "registro referenciado por dados sob retenção legal", "block"
	var until *time.Time
	if t, ok := heldUntil(e, r.from, now); ok {
		basis, reference, onDelete = e.Retention.Basis, e.Retention.Reference, e.Retention.OnDelete
		until = &t
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
	return Block{Entity: e.Name, Table: e.Table, RowKey: keyJSON(r.key), Basis: basis, Reference: reference, OnDelete: onDelete, Until: until}
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
func (h *heldAnonymizer) rows(ctx context.Context, tx Querier, e *datamap.Entity, rows []keyedRow) (int64, error) {
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
func assertPresent(ctx context.Context, tx Querier, e *datamap.Entity, keys [][]any) error {
	for start := 0; start < len(keys); start += parentBatch {
		batch := keys[start:min(start+parentBatch, len(keys))]
		in, args := sqlq.KeyIn(e.Key, batch)
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+sqlq.QuoteIdent(e.Table)+" WHERE "+in, args...).Scan(&n); err != nil {
			return fmt.Errorf("check held %s rows: %w", e.Name, err)
		}
		if n != len(batch) {
			return fmt.Errorf("%w (entity %s, table %s)", ErrCascadedHold, e.Name, e.Table)
		}
	}
	return nil
}
