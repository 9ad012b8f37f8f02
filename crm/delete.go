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
// are among the Blocked ones: kept by their holds, they lost at once the
// fields no running hold needs (keep, or on_delete: anonymize).
type DeleteCount struct {
	Entity     string `json:"entity"`
	Deleted    int64  `json:"deleted"`
	Blocked    int64  `json:"blocked"`
	Anonymized int64  `json:"anonymized"`
}

// Hold is a retention hold that kept some of a titular's rows (Art. 16 I):
// one per hold of an entity that keeps any of them, so an entity under
// several (AML, tax, civil claims) lists each with its own release date; a
// row goes when the latest of its holds ends.
type Hold struct {
	Entity    string `json:"entity"`
	Basis     string `json:"basis"`
	Reference string `json:"reference"`
	// Until is when the last of the rows this hold keeps is released. For
	// rows kept only because held rows reference them (a buyer's record
	// under her held sale) it is the latest release among the titular's
	// held rows; nil when there is none.
	Until *time.Time `json:"until,omitempty"`
	Rows  int64      `json:"rows"`
	// Code, when set, says the rows are kept for another reason than a
	// retention hold (CodeFKActionOnHeldRows); Constraint names the CRM's
	// foreign key behind it.
	Code       string `json:"code,omitempty"`
	Constraint string `json:"constraint,omitempty"`
	// Keep lists the fields the hold keeps as they are; the held rows lose
	// the others at once. Empty when the hold does not say (the whole row,
	// or its fields without an irreversible anonymizer).
	Keep []string `json:"keep,omitempty"`
	// dependant marks the rows kept because held rows reference them: their
	// release date is known once every held row is.
	dependant bool
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
	// dependant: kept because held rows reference it (see Hold.dependant).
	dependant bool
}

// HeldByDependants is the basis recorded for a row kept only because held
// rows still reference it (a buyer's record under their held sale), when
// its entity states no hold while referenced.
const HeldByDependants = "dependencia_de_registro_retido"

// dependantReference explains HeldByDependants to the titular (pt-BR).
const dependantReference = "registro referenciado por dados sob retenção legal"

// Delete erases a titular's rows in tx, children before parents, through
// the map of p (a PlanDelete plan). Rows under a running retention hold are
// kept instead, until the latest of their holds ends, and so are rows that
// held rows still reference, until the titular's last held row is
// released; the result lists every hold with its release date, and the
// rows (Blocks) for the caller to record. Kept rows lose at once, with the
// anonymize executor and key, the personal fields their holds do not need
// (keep, on_delete: anonymize, or the entity's hold while referenced): the
// row stays for the law, the rest of the person in it does not. All of it
// commits or none of it does: the caller's transaction decides.
func (x *Executor) Delete(ctx context.Context, tx Querier, p *AnonymizePlan, key *anonymize.Key, ids Identifiers) (*DeleteResult, error) {
	if p == nil || key == nil {
		return nil, errors.New("delete: a plan and an anonymize key are required")
	}
	m, now := p.m, x.now()
	rows, err := collectErasable(ctx, tx, p, ids, now)
	if err != nil {
		return nil, err
	}
	anon := &heldAnonymizer{p: p, key: key, now: now}
	res := &DeleteResult{Complete: true}
	order, err := eraseOrder(ctx, tx, m, rows.rows)
	if err != nil {
		return nil, err
	}
	holds := holdTally{}
	fk := newFKGuard(m, now)
	var blocked []blockedRows
	var last *time.Time // the latest release among held rows
	for _, e := range order {
		var free [][]any
		var held, toMinimize []keyedRow
		values := map[string]*keyedRow{} // free rows to minimize should they be kept
		for i, r := range rows.rows[e.Name] {
			if hs := runningHolds(e, r.extra, now); len(hs) > 0 {
				held = append(held, r)
				if r.values != nil {
					toMinimize = append(toMinimize, r)
				}
				continue
			}
			if r.values != nil {
				values[keyJSON(r.key)] = &rows.rows[e.Name][i]
			}
			free = append(free, r.key)
		}
		// Minimized first: a held row that no longer names the titular no
		// longer keeps their parent rows either.
		anonymized, err := anon.rows(ctx, tx, e, toMinimize)
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
		// Rows held rows still reference stay, and keep only what the
		// entity's hold while referenced needs (the buyer's record: what
		// identifies the client).
		var referenced []keyedRow
		for _, k := range kept {
			r := keyedRow{key: k, dependant: true}
			if v := values[keyJSON(k)]; v != nil {
				r.values, r.keep = v.values, v.keep
				referenced = append(referenced, r)
			}
			held = append(held, r)
		}
		// Rows kept only as anchors of the CRM's foreign keys lose their
		// personal fields too: the held rows need the row, not the person
		// in it. Those of an entity with a hold while referenced keep what
		// that hold needs; the others are anonymized in place as the sweep
		// anonymizes a row others still reference (an entity the map
		// cannot anonymize keeps them as they are).
		var rel *Releaser
		for _, k := range fkKept {
			if v := values[keyJSON(k)]; v != nil {
				referenced = append(referenced, keyedRow{key: k, values: v.values, keep: v.keep, dependant: true})
				continue
			}
			if p.release == nil {
				continue
			}
			if rel == nil {
				rel = x.Releaser(ctx, tx, p.release)
			}
			_, n, err := rel.AnonymizeRow(e, k, key)
			if err != nil && !errors.Is(err, ErrCannotAnonymize) {
				return nil, err
			}
			anonymized += n
		}
		n, err := anon.rows(ctx, tx, e, referenced)
		if err != nil {
			return nil, err
		}
		anonymized += n
		keys := make([][]any, len(held))
		for i, r := range held {
			b := block(e, r, now, holds)
			if b.Until != nil && (last == nil || b.Until.After(*last)) {
				last = b.Until
			}
			res.Blocks = append(res.Blocks, b)
			keys[i] = r.key
		}
		for i := range fkBlocks {
			fkBlocks[i].dependant = true
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
	// The result lists entities in map order, whatever order erased them.
	pos := map[string]int{}
	for i, e := range m.Order() {
		pos[e.Name] = i
	}
	slices.SortStableFunc(res.Entities, func(a, b DeleteCount) int { return pos[a.Entity] - pos[b.Entity] })
	// Rows kept because held rows reference them (the buyer's own record)
	// go when the last of the titular's held rows does: that is their
	// release date, for the result and for the sweep.
	if last != nil {
		for i := range res.Blocks {
			if res.Blocks[i].dependant {
				res.Blocks[i].Until = last
			}
		}
		for _, h := range holds {
			if h.dependant {
				h.Until = last
			}
		}
		// Rows kept for the CRM's foreign keys are looked at again when the
		// titular's last held row goes; the sweep's guard decides then.
		for i := range fk.holds {
			fk.holds[i].Until = last
		}
	}
	res.Holds = append(holds.list(m), fk.holds...)
	res.Complete = len(res.Holds) == 0
	return res, nil
}

// block describes a held row for lgpd_blocks and counts it under its
// holds. A row under several holds is recorded with the one that ends last.
func block(e *datamap.Entity, r keyedRow, now time.Time, holds holdTally) Block {
	hs := runningHolds(e, r.extra, now)
	if r.dependant || len(hs) == 0 {
		basis, reference := holds.dependant(e)
		return Block{Entity: e.Name, Table: e.Table, RowKey: keyJSON(r.key), Basis: basis, Reference: reference, OnDelete: "block", dependant: true}
	}
	holds.add(e, hs)
	l := latest(hs)
	until := l.until
	return Block{Entity: e.Name, Table: e.Table, RowKey: keyJSON(r.key), Basis: l.h.Basis, Reference: l.h.Reference, OnDelete: l.h.OnDelete, Until: &until}
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
