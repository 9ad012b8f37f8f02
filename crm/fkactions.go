package crm

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// CodeFKActionOnHeldRows is the code of a hold that keeps rows because the
// CRM's own foreign keys (ON DELETE SET NULL or CASCADE) would change, in
// deleting them, rows that must stay intact.
const CodeFKActionOnHeldRows = "FK_ACTION_WOULD_CHANGE_HELD_ROWS"

// heldByFKAction is the basis recorded for such rows.
const heldByFKAction = "acao_de_chave_estrangeira_sobre_registro_mantido"

// maxCascadeDepth bounds how far the guard follows CASCADE keys from row to
// row; a row whose deletion would cascade further is kept.
const maxCascadeDepth = 8

// fkGuard keeps a DELETE from changing rows it must not touch through the
// CRM's ON DELETE SET NULL and CASCADE foreign keys. Deleting a row makes the
// database empty the reference of (SET NULL), or delete (CASCADE), every
// row pointing at it: a held payment would lose its rental, or go. So a row
// is deleted only when no such key points at it from a row that is held (by
// its entity's running retention hold, or kept by this DELETE) or from a
// table the map does not reach at all (whose rows titular knows nothing
// about), directly or through rows a CASCADE would delete on the way.
// Otherwise it is kept, blocked, with a hold naming the constraint. RESTRICT
// and NO ACTION keys need none of this: the database refuses the deletion
// and deleteBatch keeps the row.
type fkGuard struct {
	m   *datamap.Map
	now time.Time
	// actions are the SET NULL and CASCADE keys by referenced table, read on
	// first use: a DELETE that deletes nothing reads no schema.
	actions map[string][]*fkAction
	// kept holds, per entity, the keys (keyJSON) of the rows this DELETE
	// keeps.
	kept map[string]map[string]bool
	// visiting holds the rows (entity and keyJSON) being deleted or already
	// followed by the current split, so cascades through cycles end.
	visiting map[string]bool
	holds    []Hold
}

func newFKGuard(m *datamap.Map, now time.Time) *fkGuard {
	return &fkGuard{m: m, now: now, kept: map[string]map[string]bool{}}
}

// split returns the rows of e that may go, and those kept because an
// action key points at them from rows that must stay intact, with their
// blocks and one hold per constraint.
func (g *fkGuard) split(ctx context.Context, tx Querier, e *datamap.Entity, keys [][]any) (free, kept [][]any, blocks []Block, err error) {
	if len(keys) == 0 {
		return keys, nil, nil, nil
	}
	if g.actions == nil {
		tables := map[string]bool{}
		for _, en := range g.m.Order() {
			tables[en.Table] = true
		}
		if g.actions, err = loadFKActions(ctx, tx, tables); err != nil {
			return nil, nil, nil, err
		}
	}
	if len(g.actions) == 0 {
		return keys, nil, nil, nil
	}
	g.visiting = map[string]bool{}
	for _, k := range keys {
		g.visiting[e.Name+keyJSON(k)] = true
	}
	by, err := g.protectedBy(ctx, tx, e, keys, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(by) == 0 {
		return keys, nil, nil, nil
	}
	counts := map[*fkAction]int64{}
	var order []*fkAction
	for _, k := range keys {
		fk := by[keyJSON(k)]
		if fk == nil {
			free = append(free, k)
			continue
		}
		if counts[fk] == 0 {
			order = append(order, fk)
		}
		counts[fk]++
		kept = append(kept, k)
		blocks = append(blocks, Block{Entity: e.Name, Table: e.Table, RowKey: keyJSON(k), Basis: heldByFKAction,
			Reference: fkReference(fk), OnDelete: "block"})
	}
	for _, fk := range order {
		g.holds = append(g.holds, Hold{Entity: e.Name, Basis: heldByFKAction, Reference: fkReference(fk), Rows: counts[fk],
			Code: CodeFKActionOnHeldRows, Constraint: fk.Name})
	}
	return free, kept, blocks, nil
}

// fkReference says, in pt-BR and without values, which key keeps a row.
func fkReference(fk *fkAction) string {
	return fmt.Sprintf("chave estrangeira %s da tabela %s (ON DELETE %s)", fk.Name, fk.Table, fk.Rule)
}

// keep records rows of e this DELETE keeps: rows pointing at a parent from
// them protect it.
func (g *fkGuard) keep(e *datamap.Entity, keys [][]any) {
	if len(keys) == 0 {
		return
	}
	set := g.kept[e.Name]
	if set == nil {
		set = map[string]bool{}
		g.kept[e.Name] = set
	}
	for _, k := range keys {
		set[keyJSON(k)] = true
	}
}

// held reports whether a row of ref (its key, then its retention date when
// ref has holds: its retention columns) must stay intact.
func (g *fkGuard) held(ref *datamap.Entity, row []any) bool {
	if g.kept[ref.Name][keyJSON(row[:len(ref.Key)])] {
		return true
	}
	if len(ref.Holds) == 0 {
		return false
	}
	return len(runningHolds(ref, row[len(ref.Key):], g.now)) > 0
}

// protectedBy returns, by keyJSON, the rows of e among keys that must stay
// and the action key that keeps each. depth counts the cascades followed.
func (g *fkGuard) protectedBy(ctx context.Context, tx Querier, e *datamap.Entity, keys [][]any, depth int) (map[string]*fkAction, error) {
	by := map[string]*fkAction{}
	mark := func(parent []any, fk *fkAction) {
		if k := keyJSON(parent); by[k] == nil {
			by[k] = fk
		}
	}
	for _, fk := range g.actions[e.Table] {
		var referencing []*datamap.Entity
		for _, en := range g.m.Order() {
			if en.Table == fk.Table {
				referencing = append(referencing, en)
			}
		}
		for start := 0; start < len(keys); start += parentBatch {
			batch := keys[start:min(start+parentBatch, len(keys))]
			if len(referencing) == 0 {
				// Unmapped: any row pointing at it would be changed or
				// deleted unseen.
				pairs, err := readReferences(ctx, tx, e, fk, batch, nil)
				if err != nil {
					return nil, err
				}
				for _, p := range pairs {
					mark(p.parent, fk)
				}
				continue
			}
			for _, ref := range referencing {
				if err := g.protectedThrough(ctx, tx, e, fk, ref, batch, depth, mark); err != nil {
					return nil, err
				}
			}
		}
	}
	return by, nil
}

// protectedThrough marks the rows of e among keys that fk points at from a
// held row of ref, or from a row of ref that a CASCADE would delete and
// that must itself stay.
func (g *fkGuard) protectedThrough(ctx context.Context, tx Querier, e *datamap.Entity, fk *fkAction, ref *datamap.Entity,
	keys [][]any, depth int, mark func([]any, *fkAction)) error {
	cols := append([]string(nil), ref.Key...)
	cols = append(cols, ref.RetentionColumns()...)
	pairs, err := readReferences(ctx, tx, e, fk, keys, cols)
	if err != nil {
		return err
	}
	var cascaded [][]any
	parentsOf := map[string][][]any{}
	for _, p := range pairs {
		if g.held(ref, p.row) {
			mark(p.parent, fk)
			continue
		}
		// SET NULL on a row that is not held changes nothing that must
		// stay; CASCADE deletes it, so what it protects counts too.
		key := p.row[:len(ref.Key)]
		k := keyJSON(key)
		if fk.Rule != "CASCADE" || g.visiting[ref.Name+k] {
			continue
		}
		if _, ok := parentsOf[k]; !ok {
			cascaded = append(cascaded, key)
		}
		parentsOf[k] = append(parentsOf[k], p.parent)
	}
	if len(cascaded) == 0 {
		return nil
	}
	if depth >= maxCascadeDepth {
		for _, parents := range parentsOf {
			for _, p := range parents {
				mark(p, fk)
			}
		}
		return nil
	}
	for _, k := range cascaded {
		g.visiting[ref.Name+keyJSON(k)] = true
	}
	sub, err := g.protectedBy(ctx, tx, ref, cascaded, depth+1)
	if err != nil {
		return err
	}
	for k := range sub {
		for _, p := range parentsOf[k] {
			mark(p, fk)
		}
	}
	return nil
}

// reference is a row of e (its key) and a row pointing at it.
type reference struct{ parent, row []any }

// readReferences reads the rows of fk's table (their columns cols) that point
// at the rows of e with keys, locking them.
func readReferences(ctx context.Context, tx Querier, e *datamap.Entity, fk *fkAction, keys [][]any, cols []string) ([]reference, error) {
	sel := make([]string, 0, len(e.Key)+len(cols))
	for _, k := range e.Key {
		sel = append(sel, "p."+sqlq.QuoteIdent(k))
	}
	for _, c := range cols {
		sel = append(sel, "c."+sqlq.QuoteIdent(c))
	}
	on := make([]string, len(fk.Columns))
	for i, c := range fk.Columns {
		on[i] = "c." + sqlq.QuoteIdent(c) + " = p." + sqlq.QuoteIdent(fk.RefColumns[i])
	}
	in, args := keyInP(e.Key, keys)
	// FOR UPDATE: a referencing row changed after this read (a sale dated
	// into a hold) waits for the DELETE, which then acts on what it read.
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + sqlq.QuoteIdent(e.Table) + " p JOIN " + sqlq.QuoteIdent(fk.Table) + //nolint:gosec // G202: only quoted names from the map and the schema, and placeholders, are concatenated
		" c ON " + strings.Join(on, " AND ") + " WHERE " + in + " FOR UPDATE"
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read rows referencing %s through %s: %w", e.Table, fk.Name, err)
	}
	var out []reference
	err = eachRow(rows, func(row []any) error {
		out = append(out, reference{parent: row[:len(e.Key)], row: row[len(e.Key):]})
		return nil
	})
	return out, err
}

// KeptByFKAction reports whether the row of e with key must stay because
// deleting it would let the CRM's SET NULL or CASCADE keys change rows that
// must stay intact (held, or not in the map), as DELETE decides. The sweep
// asks before it deletes a blocked row and treats a kept one as still
// referenced, as it does a row a RESTRICT key refuses.
func KeptByFKAction(ctx context.Context, tx Querier, m *datamap.Map, e *datamap.Entity, key []any, now time.Time) (bool, error) {
	_, kept, _, err := newFKGuard(m, now).split(ctx, tx, e, [][]any{key})
	return len(kept) > 0, err
}

// keyInP is sqlq.KeyIn with the columns of the table aliased p.
func keyInP(cols []string, keys [][]any) (string, []any) {
	args := make([]any, 0, len(keys)*len(cols))
	for _, k := range keys {
		args = append(args, k...)
	}
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = "p." + sqlq.QuoteIdent(c)
	}
	if len(cols) == 1 {
		return q[0] + " IN (" + sqlq.Placeholders(len(keys)) + ")", args
	}
	return "(" + strings.Join(q, ", ") + ") IN (" + sqlq.RowsOf(len(keys), len(cols)) + ")", args
}
