package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// errRowReferenced is MySQL's 1451: a foreign key still points at the row.
const errRowReferenced = 1451

// keyedRow is one of a titular's rows: its key, its retention dates (the
// entity's RetentionColumns) and, only for a held row a DELETE minimizes,
// its values (aligned with the entity's Fields) and the fields its running
// holds keep.
type keyedRow struct {
	key    []any
	extra  []any
	values []any
	keep   map[string]bool
	// dependant: no hold of its own runs; kept because held rows reference it.
	dependant bool
}

// rowCollector gathers, per entity, the keys of a titular's rows (and their
// retention dates). For DELETE (plan set) it keeps personal values only for
// the rows whose running holds keep less than the whole row: those DELETE
// minimizes.
type rowCollector struct {
	rows map[string][]keyedRow
	plan *AnonymizePlan
	now  time.Time
	cur  *datamap.Entity
}

func (c *rowCollector) BeginEntity(e *datamap.Entity) error { c.cur = e; return nil }
func (c *rowCollector) Row([]any) error                     { return errors.New("rowCollector needs keyed rows") }
func (c *rowCollector) EndEntity(*datamap.Entity, int64) error {
	return nil
}

func (c *rowCollector) KeyedRow(key, values, extra []any) error {
	r := keyedRow{key: key, extra: extra}
	if c.plan != nil {
		if hs := runningHolds(c.cur, extra, c.now); len(hs) > 0 {
			if keep, _, minimize := c.plan.entities[c.cur.Name].kept(hs); minimize {
				r.values, r.keep = values, keep
			}
		} else if _, w := whileHold(c.cur); w != nil && w.Keep != nil {
			// Deleted unless held rows reference it; then it keeps only what
			// the hold while referenced needs.
			r.values, r.keep = values, keepSet(w)
		}
	}
	c.rows[c.cur.Name] = append(c.rows[c.cur.Name], r)
	return nil
}

// collectRows walks the titular's rows, locking them, and returns their keys.
func collectRows(ctx context.Context, tx Querier, m *datamap.Map, ids Identifiers) (*rowCollector, error) {
	return collect(ctx, tx, m, ids, &rowCollector{rows: map[string][]keyedRow{}})
}

// collectErasable is collectRows for DELETE: it also keeps the values of
// the held rows that p minimizes at now.
func collectErasable(ctx context.Context, tx Querier, p *AnonymizePlan, ids Identifiers, now time.Time) (*rowCollector, error) {
	return collect(ctx, tx, p.m, ids, &rowCollector{rows: map[string][]keyedRow{}, plan: p, now: now})
}

func collect(ctx context.Context, tx Querier, m *datamap.Map, ids Identifiers, c *rowCollector) (*rowCollector, error) {
	if _, err := WalkWith(ctx, tx, m, ids, c, WalkOptions{Extra: retentionColumn, ForUpdate: true}); err != nil {
		return nil, err
	}
	return c, nil
}

// RowKeyJSON writes a row key as titular records it (lgpd_blocks.row_key,
// attachment keys): a JSON array of the key's values.
func RowKeyJSON(key []any) string { return keyJSON(key) }

func keyJSON(key []any) string {
	vals := make([]any, len(key))
	for i, k := range key {
		switch v := k.(type) {
		case Date:
			vals[i] = v.String()
		case Decimal:
			vals[i] = string(v)
		default:
			vals[i] = v
		}
	}
	b, _ := json.Marshal(vals)
	return string(b)
}

// keyWhere renders "(k1, k2) = (?, ?)" or "k = ?" for one row.
func keyWhere(e *datamap.Entity) string {
	if len(e.Key) == 1 {
		return sqlq.QuoteIdent(e.Key[0]) + " = ?"
	}
	return "(" + sqlq.JoinQuoted(e.Key) + ") = (" + sqlq.Placeholders(len(e.Key)) + ")"
}

// deleteRow deletes one row and reports whether it went. A row a foreign key
// still points at (a held sale referencing its buyer) fails with 1451;
// InnoDB rolls back only that statement, not the transaction, so the row is
// simply kept. (No SAVEPOINT: the demo's embedded engine has none, and
// MySQL and MariaDB do not need one here.)
func deleteRow(ctx context.Context, tx Querier, e *datamap.Entity, key []any) (bool, error) {
	_, err := tx.ExecContext(ctx, "DELETE FROM "+sqlq.QuoteIdent(e.Table)+" WHERE "+keyWhere(e), key...)
	if sqlq.Number(err) == errRowReferenced {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delete from %s: %w", e.Table, err)
	}
	return true, nil
}

// deleteBatch deletes many rows in one statement, falling back to row by
// row when a foreign key keeps some of them.
func deleteBatch(ctx context.Context, tx Querier, e *datamap.Entity, keys [][]any) (deleted int64, kept [][]any, err error) {
	for start := 0; start < len(keys); start += parentBatch {
		batch := keys[start:min(start+parentBatch, len(keys))]
		in, args := sqlq.KeyIn(e.Key, batch)
		res, err := tx.ExecContext(ctx, "DELETE FROM "+sqlq.QuoteIdent(e.Table)+" WHERE "+in, args...)
		if err == nil {
			n, _ := res.RowsAffected()
			deleted += n
			continue
		}
		if sqlq.Number(err) != errRowReferenced {
			return 0, nil, fmt.Errorf("delete from %s: %w", e.Table, err)
		}
		for _, k := range batch {
			ok, err := deleteRow(ctx, tx, e, k)
			if err != nil {
				return 0, nil, err
			}
			if ok {
				deleted++
			} else {
				kept = append(kept, k)
			}
		}
	}
	return deleted, kept, nil
}

// DeleteRow deletes the row of e with key, as the sweep does when its hold
// has ended. It reports how many rows the server deleted (RowsAffected: 0
// when the row had already gone) and whether a foreign key refused, the row
// being still referenced, in which case nothing was deleted.
func DeleteRow(ctx context.Context, tx Querier, e *datamap.Entity, key []any) (deleted int64, referenced bool, err error) {
	res, err := tx.ExecContext(ctx, "DELETE FROM "+sqlq.QuoteIdent(e.Table)+" WHERE "+keyWhere(e), key...)
	if sqlq.Number(err) == errRowReferenced {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("delete from %s: %w", e.Table, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, false, fmt.Errorf("delete from %s: %w", e.Table, err)
	}
	return n, false, nil
}

// Reaches reports whether the map reaches any row of ids, locking what it
// reads, so the answer holds until tx ends.
func Reaches(ctx context.Context, tx Querier, m *datamap.Map, ids Identifiers) (bool, error) {
	counts, err := WalkWith(ctx, tx, m, ids, discardSink{}, WalkOptions{ForUpdate: true})
	if err != nil {
		return false, err
	}
	for _, c := range counts {
		if c.Rows > 0 {
			return true, nil
		}
	}
	return false, nil
}

// ParseRowKey reads a row key written by a DELETE's Block (a JSON array),
// keeping ids beyond 2^53 exact.
func ParseRowKey(s string) ([]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var key []any
	if err := dec.Decode(&key); err != nil {
		return nil, err
	}
	return key, nil
}

// discardSink drops the rows of a walk whose counts (WalkWith's result)
// are all the caller wants.
type discardSink struct{}

func (discardSink) BeginEntity(*datamap.Entity) error      { return nil }
func (discardSink) Row([]any) error                        { return nil }
func (discardSink) EndEntity(*datamap.Entity, int64) error { return nil }
