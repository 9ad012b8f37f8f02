package crm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// ErrTooLong is returned when a corrected value does not fit its column.
var ErrTooLong = errors.New("value too long for the column")

// ErrBadValue is returned when a corrected value is not of its column's
// type (text for a number or a date) or out of its range.
var ErrBadValue = errors.New("value of the wrong type for the column")

// MySQL errors of a value the column's type refuses (in strict mode).
const (
	errOutOfRange       = 1264 // ER_WARN_DATA_OUT_OF_RANGE
	errDataTruncated    = 1265 // WARN_DATA_TRUNCATED
	errWrongValue       = 1292 // ER_TRUNCATED_WRONG_VALUE
	errWrongValueForCol = 1366 // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
)

const errDataTooLong = 1406

// CorrectionTarget is one column that holds a copy of a logical field.
type CorrectionTarget struct {
	Entity *datamap.Entity
	Column string
}

// CorrectionTargets maps each logical field name to every column the data
// map marks as holding it (`correctable: true` under its own name, or
// `correctable: <name>` for a snapshot copy).
func CorrectionTargets(m *datamap.Map) map[string][]CorrectionTarget {
	out := map[string][]CorrectionTarget{}
	for _, e := range m.Order() {
		for _, f := range e.Fields {
			if f.Correctable != "" {
				out[f.Correctable] = append(out[f.Correctable], CorrectionTarget{Entity: e, Column: f.Column})
			}
		}
	}
	return out
}

// Correct writes the new values (logical field -> normalized value) to
// every row of the titular holding those fields, snapshot copies included,
// in tx. It returns how many rows changed per entity. A value that would
// duplicate a UNIQUE key is ErrDuplicate, one too long ErrTooLong, one the
// column's type refuses ErrBadValue, each naming the table and never the
// value; the caller rolls back, so nothing changes.
func Correct(ctx context.Context, tx Querier, m *datamap.Map, ids Identifiers, values map[string]string) ([]EntityCount, error) {
	rows, err := collectRows(ctx, tx, m, ids)
	if err != nil {
		return nil, err
	}
	targets := CorrectionTargets(m)
	var counts []EntityCount
	for _, e := range m.Order() {
		var cols, colNames []string
		var args []any
		for name, v := range values {
			for _, t := range targets[name] {
				if t.Entity == e {
					cols = append(cols, sqlq.QuoteIdent(t.Column)+" = ?")
					colNames = append(colNames, t.Column)
					args = append(args, v)
				}
			}
		}
		keys := rows.rows[e.Name]
		if len(cols) == 0 || len(keys) == 0 {
			continue
		}
		if err := checkDocumentOwner(ctx, tx, e, targets, values, keys); err != nil {
			return nil, err
		}
		// One UPDATE per batch of keys: the rows are already locked by the walk.
		set := "UPDATE " + sqlq.QuoteIdent(e.Table) + " SET " + strings.Join(cols, ", ") + " WHERE "
		var changed int64
		for start := 0; start < len(keys); start += parentBatch {
			batch := make([][]any, 0, min(parentBatch, len(keys)-start))
			for _, r := range keys[start:min(start+parentBatch, len(keys))] {
				batch = append(batch, r.key)
			}
			in, keyArgs := sqlq.KeyIn(e.Key, batch)
			res, err := tx.ExecContext(ctx, set+in, append(append([]any{}, args...), keyArgs...)...)
			switch {
			case sqlq.IsDuplicate(err):
				return nil, fmt.Errorf("%w: the new value is already used by another record in %s", ErrDuplicate, e.Table)
			case sqlq.Number(err) == errDataTooLong:
				return nil, fmt.Errorf("%w in %s", ErrTooLong, e.Table)
			case slices.Contains([]uint16{errOutOfRange, errDataTruncated, errWrongValue, errWrongValueForCol}, sqlq.Number(err)):
				return nil, fmt.Errorf("%w in %s (columns %s)", ErrBadValue, e.Table, strings.Join(colNames, ", "))
			case err != nil:
				return nil, fmt.Errorf("correct %s: %w", e.Name, err)
			}
			n, _ := res.RowsAffected()
			changed += n
		}
		counts = append(counts, EntityCount{Entity: e.Name, Rows: changed})
	}
	return counts, nil
}

// checkDocumentOwner refuses a CPF or CNPJ that another record of the table
// already holds in any stored shape: a UNIQUE index compares strings, so
// "123.456.789-09" and "12345678909" would both pass it.
func checkDocumentOwner(ctx context.Context, tx Querier, e *datamap.Entity, targets map[string][]CorrectionTarget, values map[string]string, own []keyedRow) error {
	mine := map[string]bool{}
	for _, r := range own {
		mine[keyJSON(r.key)] = true
	}
	for name, v := range values {
		for _, t := range targets[name] {
			f, _ := e.Field(t.Column)
			if t.Entity != e || (f.Validate != "cpf" && f.Validate != "cnpj") {
				continue
			}
			shapes := []string{v}
			if sh := LookupValues(f.Validate, v); f.Validate == "cpf" && len(sh) > 0 {
				shapes = sh
			}
			args := make([]any, len(shapes))
			for i, sh := range shapes {
				args[i] = sh
			}
			rows, err := tx.QueryContext(ctx, "SELECT "+sqlq.JoinQuoted(e.Key)+" FROM "+sqlq.QuoteIdent(e.Table)+" WHERE "+
				sqlq.QuoteIdent(t.Column)+" IN ("+sqlq.Placeholders(len(args))+") LIMIT 100", args...)
			if err != nil {
				return fmt.Errorf("check %s owner: %w", f.Validate, err)
			}
			other, err := anyForeignKey(rows, mine)
			if err != nil {
				return fmt.Errorf("check %s owner: %w", f.Validate, err)
			}
			if other {
				return fmt.Errorf("%w: the new %s already belongs to another record in %s", ErrDuplicate, f.Validate, e.Table)
			}
		}
	}
	return nil
}

// errForeignKey stops eachRow at the first key outside the caller's own.
var errForeignKey = errors.New("key held by another record")

// anyForeignKey reports whether rows hold a key outside mine.
func anyForeignKey(rows *sql.Rows, mine map[string]bool) (bool, error) {
	err := eachRow(rows, func(key []any) error {
		if !mine[keyJSON(key)] {
			return errForeignKey
		}
		return nil
	})
	if errors.Is(err, errForeignKey) {
		return true, nil
	}
	return false, err
}
