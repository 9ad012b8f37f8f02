package crm

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// AnonymizeWrites is what one ANONYMIZE of a titular wrote: per entity, each
// changed row's key and the new values of the planned fields. It is the
// baseline of the anonymize benchmarks (store's and `titular bench`'s):
// Replay writes exactly the same values with nothing else.
type AnonymizeWrites struct {
	tables []*tableWrites
	rows   int64
}

// tableWrites is what the executor wrote to one entity.
type tableWrites struct {
	e      *datamap.Entity
	fields []string
	keys   [][]any
	values [][]any // [row][field]
}

// Rows is the number of rows written.
func (w *AnonymizeWrites) Rows() int64 { return w.rows }

// CaptureAnonymizeWrites anonymizes ids once in a transaction on db, reads
// back in it what it wrote, and rolls it back.
func (x *Executor) CaptureAnonymizeWrites(ctx context.Context, db *sql.DB, p *AnonymizePlan, key *anonymize.Key, ids Identifiers) (*AnonymizeWrites, error) {
	before := &keyCollector{keys: map[string][][]any{}}
	if _, err := WalkWith(ctx, db, p.m, ids, before, WalkOptions{}); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	read, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	defer read.Rollback() //nolint:errcheck // read-only
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // captured, then undone
	if _, err := x.Anonymize(ctx, read, tx, p, key, ids); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	out := &AnonymizeWrites{}
	for _, e := range p.m.Order() {
		ep := p.entities[e.Name]
		if len(ep.fields) == 0 || len(before.keys[e.Name]) == 0 {
			continue
		}
		w := &tableWrites{e: e}
		for _, f := range ep.fields {
			w.fields = append(w.fields, f.f.Column)
		}
		for _, k := range before.keys[e.Name] {
			vals := make([]any, len(w.fields))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := tx.QueryRowContext(ctx, "SELECT "+sqlq.JoinQuoted(w.fields)+" FROM "+sqlq.QuoteIdent(e.Table)+" WHERE "+keyWhere(e), k...).Scan(ptrs...); err != nil {
				return nil, fmt.Errorf("capture %s: %w", e.Name, err)
			}
			w.keys, w.values = append(w.keys, k), append(w.values, vals)
		}
		out.rows += int64(len(w.keys))
		out.tables = append(out.tables, w)
	}
	return out, nil
}

// Replay reads the captured rows by key and writes the captured values with
// multi-row UPDATEs in batches of writeBatch (a column whose new value is
// the same for the batch as one assignment, otherwise a CASE on the key),
// all in tx.
func (w *AnonymizeWrites) Replay(ctx context.Context, tx Querier) error {
	for _, t := range w.tables {
		for start := 0; start < len(t.keys); start += writeBatch {
			end := min(start+writeBatch, len(t.keys))
			keys, vals := t.keys[start:end], t.values[start:end]
			in, keyArgs := sqlq.KeyIn(t.e.Key, keys)
			where := " WHERE " + in
			rows, err := tx.QueryContext(ctx, "SELECT "+sqlq.JoinQuoted(t.e.Key)+", "+sqlq.JoinQuoted(t.fields)+" FROM "+sqlq.QuoteIdent(t.e.Table)+where, keyArgs...)
			if err != nil {
				return fmt.Errorf("replay %s: %w", t.e.Name, err)
			}
			for rows.Next() { // the baseline reads the rows it rewrites, as titular does
			}
			err = rows.Err()
			rows.Close() //nolint:sqlclosecheck // closed at once: the loop runs many queries
			if err != nil {
				return fmt.Errorf("replay %s: %w", t.e.Name, err)
			}
			var sets []string
			var args []any
			for f, col := range t.fields {
				uniform := true
				for _, v := range vals {
					uniform = uniform && sameValue(v[f], vals[0][f])
				}
				if uniform {
					sets, args = append(sets, sqlq.QuoteIdent(col)+" = ?"), append(args, vals[0][f])
					continue
				}
				var c strings.Builder
				// CASE WHEN on every key column: composite keys sharing a
				// first column must not swap values.
				c.WriteString(sqlq.QuoteIdent(col) + " = CASE")
				match := keyMatch(t.e.Key)
				for i, k := range keys {
					c.WriteString(" WHEN " + match + " THEN ?")
					args = append(append(args, k...), vals[i][f])
				}
				c.WriteString(" ELSE " + sqlq.QuoteIdent(col) + " END")
				sets = append(sets, c.String())
			}
			if _, err := tx.ExecContext(ctx, "UPDATE "+sqlq.QuoteIdent(t.e.Table)+" SET "+strings.Join(sets, ", ")+where, append(args, keyArgs...)...); err != nil {
				return fmt.Errorf("replay %s: %w", t.e.Name, err)
			}
		}
	}
	return nil
}

// keyCollector collects the keys of a titular's rows per entity.
type keyCollector struct {
	cur  string
	keys map[string][][]any
}

func (k *keyCollector) BeginEntity(e *datamap.Entity) error    { k.cur = e.Name; return nil }
func (k *keyCollector) Row([]any) error                        { return nil }
func (k *keyCollector) EndEntity(*datamap.Entity, int64) error { return nil }
func (k *keyCollector) KeyedRow(key, _, _ []any) error {
	k.keys[k.cur] = append(k.keys[k.cur], key)
	return nil
}
