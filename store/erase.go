package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/titular/titular/datamap"
)

// errRowReferenced is MySQL's 1451: a foreign key still points at the row.
const errRowReferenced = 1451

// keyedRow is one of a titular's rows: its key and its retention date.
type keyedRow struct {
	key  []any
	from any
}

// rowCollector gathers, per entity, the keys of a titular's rows (and the
// retention `from` value) without keeping any personal value.
type rowCollector struct {
	rows map[string][]keyedRow
	cur  string
}

func newRowCollector() *rowCollector { return &rowCollector{rows: map[string][]keyedRow{}} }

func (c *rowCollector) BeginEntity(e *datamap.Entity) error { c.cur = e.Name; return nil }
func (c *rowCollector) Row([]any) error                   { return errors.New("rowCollector needs keyed rows") }
func (c *rowCollector) EndEntity(*datamap.Entity, int64) error {
	return nil
}

func (c *rowCollector) KeyedRow(key, _, extra []any) error {
	r := keyedRow{key: key}
	if len(extra) > 0 {
		r.from = extra[0]
	}
	c.rows[c.cur] = append(c.rows[c.cur], r)
	return nil
}

// retentionColumn asks the walk for an entity's retention date column.
func retentionColumn(e *datamap.Entity) []string {
	if e.Retention != nil {
		return []string{e.Retention.From}
	}
	return nil
}

// collectRows walks the titular's rows, locking them, and returns their keys.
func collectRows(ctx context.Context, tx *sql.Tx, m *datamap.Map, ids Identifiers) (*rowCollector, error) {
	c := newRowCollector()
	if _, err := WalkWith(ctx, tx, m, ids, c, WalkOptions{Extra: retentionColumn, ForUpdate: true}); err != nil {
		return nil, err
	}
	return c, nil
}

// releaseAt is when a row's hold ends: its `from` date plus keep_years. A
// row without a date (a reservation never sold) is under no hold.
func releaseAt(r *datamap.Retention, from any) (time.Time, bool) {
	var t time.Time
	switch v := from.(type) {
	case Date:
		t = time.Date(v.Year, v.Month, v.Day, 0, 0, 0, 0, time.UTC)
	case time.Time:
		t = v.UTC()
	default:
		return time.Time{}, false
	}
	return t.AddDate(r.KeepYears, 0, 0), true
}

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
		return quoteIdent(e.Key[0]) + " = ?"
	}
	return "(" + joinQuoted(e.Key) + ") = (" + placeholders(len(e.Key)) + ")"
}

// deleteRow deletes one row under a savepoint, so a row still referenced by
// a foreign key (a held sale pointing at its buyer) is kept without
// aborting the transaction. It reports whether the row went.
func deleteRow(ctx context.Context, tx *sql.Tx, e *datamap.Entity, key []any) (bool, error) {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT titular_row"); err != nil {
		return false, fmt.Errorf("savepoint: %w", err)
	}
	_, err := tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(e.Table)+" WHERE "+keyWhere(e), key...)
	if mysqlNumber(err) == errRowReferenced {
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT titular_row"); rerr != nil {
			return false, fmt.Errorf("rollback to savepoint: %w", rerr)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delete from %s: %w", e.Table, err)
	}
	return true, nil
}

// deleteBatch deletes many rows in one statement, falling back to row by
// row when a foreign key keeps some of them.
func deleteBatch(ctx context.Context, tx *sql.Tx, e *datamap.Entity, keys [][]any) (deleted int64, kept [][]any, err error) {
	for start := 0; start < len(keys); start += parentBatch {
		batch := keys[start:min(start+parentBatch, len(keys))]
		lhs, one := joinQuoted(e.Key), "?"
		if len(e.Key) > 1 {
			lhs, one = "("+lhs+")", "("+placeholders(len(e.Key))+")"
		}
		marks := make([]string, len(batch))
		var args []any
		for i, k := range batch {
			marks[i] = one
			args = append(args, k...)
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT titular_batch"); err != nil {
			return 0, nil, fmt.Errorf("savepoint: %w", err)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(e.Table)+" WHERE "+lhs+" IN ("+strings.Join(marks, ", ")+")", args...)
		if err == nil {
			n, _ := res.RowsAffected()
			deleted += n
			continue
		}
		if mysqlNumber(err) != errRowReferenced {
			return 0, nil, fmt.Errorf("delete from %s: %w", e.Table, err)
		}
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT titular_batch"); err != nil {
			return 0, nil, fmt.Errorf("rollback to savepoint: %w", err)
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
