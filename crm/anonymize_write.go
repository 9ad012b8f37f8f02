package crm

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

const (
	// writeBatch bounds the rows of one UPDATE: enough to amortize the round
	// trip, few enough that a CASE stays cheap to evaluate.
	writeBatch = 1000
	// maxParams stays under the server's 65,535 placeholders per statement.
	maxParams = 60_000
	// maxCollisionRounds bounds redraws on a UNIQUE column. Check refuses
	// anonymizers with small output spaces there, so a handful suffices.
	maxCollisionRounds = 64
)

// batchWriter collects one entity's changed rows and writes them with one
// multi-row UPDATE per batch, keyed by the entity's key:
//
//	UPDATE t SET c1 = CASE k WHEN ? THEN ? … ELSE c1 END, c2 = ? WHERE k IN (?, …)
//
// A column that gets one value in every row of the batch (nullify, redact,
// constant) is set with a single parameter. The slices are reused between
// batches, so memory does not grow with the titular's rows.
type batchWriter struct {
	e       *datamap.Entity
	fields  []boundField
	maxRows int
	n       int     // rows in the batch
	keys    [][]any // [row]
	old     [][]any // [field][row]
	val     [][]any // [field][row]
	att     [][]int // [field][row]
	chg     [][]bool
	// totals over the request: rows and values (row × column) changed, and
	// the rows the server reports it changed (RowsAffected)
	rowsChanged, valuesChanged, rowsAffected int64
}

func newBatchWriter(e *datamap.Entity, fields []boundField) *batchWriter {
	if len(fields) == 0 {
		return nil
	}
	kc := len(e.Key)
	w := &batchWriter{e: e, fields: fields, maxRows: min(writeBatch, maxParams/(kc+len(fields)*(kc+1)))}
	w.keys = make([][]any, w.maxRows)
	w.old, w.val = make([][]any, len(fields)), make([][]any, len(fields))
	w.att, w.chg = make([][]int, len(fields)), make([][]bool, len(fields))
	for i := range fields {
		w.old[i], w.val[i] = make([]any, w.maxRows), make([]any, w.maxRows)
		w.att[i], w.chg[i] = make([]int, w.maxRows), make([]bool, w.maxRows)
	}
	return w
}

// next is the index the row being computed will take.
func (w *batchWriter) next() int { return w.n }

func (w *batchWriter) set(row, field int, old, val any, attempt int, changed bool) {
	w.old[field][row], w.val[field][row], w.att[field][row], w.chg[field][row] = old, val, attempt, changed
}

// keep adds the row to the batch when any of its values changed.
func (w *batchWriter) keep(row int, key []any) {
	for i := range w.fields {
		if w.chg[i][row] {
			w.keys[row] = key
			w.n++
			return
		}
	}
}

func (w *batchWriter) full() bool { return w.n == w.maxRows }

// flush resolves UNIQUE collisions and writes the batch.
func (w *batchWriter) flush(ctx context.Context, tx Querier, k *anonymizeSink) error {
	if w.n == 0 {
		return nil
	}
	for i, bf := range w.fields {
		if bf.col.Unique {
			if err := w.resolve(ctx, tx, k, i); err != nil {
				return err
			}
		}
	}
	query, args := w.update()
	// present says which rows of the batch the UPDATE reached: all of them,
	// unless some went between the walk's snapshot and this write (a
	// concurrent erasure); then only those still in the table count.
	present := func(int) bool { return true }
	if query != "" {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("anonymize %s: %w", w.e.Table, err)
		}
		n, _ := res.RowsAffected()
		w.rowsAffected += n
		if n < int64(w.n) {
			if present, err = w.stillThere(ctx, tx); err != nil {
				return err
			}
		}
	}
	for j := range w.n {
		changed := false
		for i := range w.fields {
			if w.chg[i][j] && present(j) {
				w.valuesChanged++
				changed = true
			}
			w.old[i][j], w.val[i][j] = nil, nil // drop references to personal data
		}
		if changed {
			w.rowsChanged++
		}
		w.keys[j] = nil
	}
	w.n = 0
	return nil
}

// stillThere reads which of the batch's rows exist in tx, for the counts
// of a batch whose UPDATE reached fewer rows than it named.
func (w *batchWriter) stillThere(ctx context.Context, tx Querier) (func(int) bool, error) {
	cols := make([]string, len(w.e.Key))
	for i, k := range w.e.Key {
		cols[i] = sqlq.QuoteIdent(k)
	}
	in, args := sqlq.KeyIn(w.e.Key, w.keys[:w.n])
	//nolint:gosec // G202: only quoted, validated names are concatenated; every value is a bound parameter
	rows, err := tx.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+sqlq.QuoteIdent(w.e.Table)+" WHERE "+in, args...)
	if err != nil {
		return nil, fmt.Errorf("anonymize %s: count rows written: %w", w.e.Table, err)
	}
	found := map[string]bool{}
	if err := eachRow(rows, func(row []any) error {
		found[keyJSON(row)] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("anonymize %s: count rows written: %w", w.e.Table, err)
	}
	return func(j int) bool { return found[keyJSON(w.keys[j])] }, nil
}

// update renders the batch's UPDATE and its arguments.
func (w *batchWriter) update() (string, []any) {
	var b strings.Builder
	var args []any
	one := len(w.e.Key) == 1
	sets := 0
	for i, bf := range w.fields {
		changed, first, uniform := 0, 0, true
		for j := range w.n {
			if !w.chg[i][j] {
				continue
			}
			if changed == 0 {
				first = j
			} else if !sameValue(w.val[i][j], w.val[i][first]) {
				uniform = false
			}
			changed++
		}
		if changed == 0 {
			continue
		}
		if sets > 0 {
			b.WriteString(", ")
		}
		sets++
		col := sqlq.QuoteIdent(bf.f.Column)
		if changed == w.n && uniform {
			b.WriteString(col + " = ?")
			args = append(args, bindValue(w.val[i][first]))
			continue
		}
		b.WriteString(col + " = CASE")
		if one {
			b.WriteString(" " + sqlq.QuoteIdent(w.e.Key[0]))
		}
		for j := range w.n {
			if !w.chg[i][j] {
				continue
			}
			if one {
				b.WriteString(" WHEN ? THEN ?")
				args = append(args, w.keys[j][0])
			} else {
				b.WriteString(" WHEN " + keyMatch(w.e.Key) + " THEN ?")
				args = append(args, w.keys[j]...)
			}
			args = append(args, bindValue(w.val[i][j]))
		}
		b.WriteString(" ELSE " + col + " END")
	}
	if sets == 0 {
		return "", nil
	}
	in, keyArgs := sqlq.KeyIn(w.e.Key, w.keys[:w.n])
	return "UPDATE " + sqlq.QuoteIdent(w.e.Table) + " SET " + b.String() + " WHERE " + in, append(args, keyArgs...)
}

// keyMatch is "`k1` = ? AND `k2` = ?" for a composite key.
func keyMatch(key []string) string {
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = sqlq.QuoteIdent(k) + " = ?"
	}
	return strings.Join(parts, " AND ")
}

// resolve redraws the values of a UNIQUE field that repeat within the batch
// or already exist in the table (another titular's value, or one this
// request wrote earlier): each collision moves to the next attempt, which
// the anonymizer draws from another HMAC subkey. A collision never fails the
// request; only an exhausted output space would, and Check rules that out.
func (w *batchWriter) resolve(ctx context.Context, tx Querier, k *anonymizeSink, i int) error {
	bf := w.fields[i]
	col := sqlq.QuoteIdent(bf.f.Column)
	for round := 0; ; round++ {
		seen := map[string]int{}
		var collide []int
		var cands []any
		for j := range w.n {
			if !w.chg[i][j] || w.val[i][j] == nil {
				continue
			}
			c := collationKey(w.val[i][j])
			if _, dup := seen[c]; dup {
				collide = append(collide, j)
				continue
			}
			seen[c] = j
			cands = append(cands, bindValue(w.val[i][j]))
		}
		if len(cands) > 0 {
			taken, err := existing(ctx, tx, "SELECT "+col+" FROM "+sqlq.QuoteIdent(w.e.Table)+" WHERE "+col+" IN ("+sqlq.Placeholders(len(cands))+")", cands)
			if err != nil {
				return fmt.Errorf("anonymize %s: check unique %s: %w", w.e.Table, bf.f.Column, err)
			}
			for _, t := range taken {
				if j, ok := seen[t]; ok {
					collide = append(collide, j)
				}
			}
		}
		if len(collide) == 0 {
			return nil
		}
		if round == maxCollisionRounds {
			return fmt.Errorf("anonymize %s: %s keeps colliding on UNIQUE column %s; widen its output (length, charset)",
				w.e.Table, bf.anon.Name(), bf.f.Column)
		}
		for _, j := range collide {
			in := anonymizeInput(w.old[i][j])
			a := w.att[i][j] + 1
			out, err := bf.anon.Apply(k.key, bf.col, in, a)
			if err != nil {
				return fmt.Errorf("field %s: %w", bf.f.Column, err)
			}
			out = storeValue(out, bf.col)
			w.val[i][j], w.att[i][j], w.chg[i][j] = out, a, !sameValue(w.old[i][j], out)
			k.bump(bf.anon, in, a)
		}
	}
}

// collationKey approximates the default collations' equality (case- and
// trailing-space-insensitive) for finding duplicates in Go.
func collationKey(v any) string {
	return strings.ToLower(strings.TrimRight(valueText(v), " "))
}

// existing returns the collation keys of the values a query finds.
func existing(ctx context.Context, tx Querier, query string, args []any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v sql.RawBytes
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, collationKey(string(v)))
		}
	}
	return out, rows.Err()
}
