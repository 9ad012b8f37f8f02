package crm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/datamap"
)

// AnonymizeCount is what an ANONYMIZE did to one entity's rows.
type AnonymizeCount struct {
	Entity string `json:"entity"`
	// Rows is how many rows changed; Fields how many values (row × column).
	Rows   int64 `json:"rows"`
	Fields int64 `json:"fields"`
	// Held is how many rows a retention hold kept as they were.
	Held int64 `json:"held"`
}

// AnonymizeResult is an ANONYMIZE's outcome: per entity, in map order, what
// changed, and the holds that kept rows (Art. 16 I, 18 §4 II).
type AnonymizeResult struct {
	Entities  []AnonymizeCount `json:"entities"`
	Holds     []Hold           `json:"holds"`
	TotalRows int64            `json:"total_rows"`
	// Blocks are the rows a hold kept as they were, for the caller to
	// record (lgpd_blocks) so the sweep anonymizes them when the hold ends.
	// Not part of the stored result.
	Blocks []Block `json:"-"`
}

// Anonymize anonymizes the titular's rows. The rows are found by a
// walk over read, which must be a consistent snapshot taken for this call (a
// REPEATABLE READ transaction on another connection): the titular's rows are
// streamed from it while the new values are written to tx in multi-row
// UPDATEs, so memory stays flat however many rows the titular has, and
// everything commits or nothing does with the caller's tx. Rows of an entity
// whose retention hold is running and blocks them are left as they are and
// reported as holds. Running it again finds only those rows: it is harmless.
// A map that no longer fits the live schema is refused (*RefusedError).
// It writes none of titular's own records: the caller records what it did.
func (x *Executor) Anonymize(ctx context.Context, read Querier, tx Querier, p *AnonymizePlan, key *anonymize.Key, ids Identifiers) (*AnonymizeResult, error) {
	if p == nil || key == nil {
		return nil, errors.New("anonymize: a plan and a key are required")
	}
	schema, err := LoadSchema(ctx, tx)
	if err != nil {
		return nil, err
	}
	run, err := bindPlan(p, schema)
	if err != nil {
		return nil, err
	}
	sink := newAnonymizeSink(ctx, tx, key, x.now(), run)
	if _, err := WalkWith(ctx, read, p.m, ids, sink, WalkOptions{Extra: retentionColumn}); err != nil {
		return nil, err
	}
	res := &AnonymizeResult{Entities: sink.counts, Holds: sink.holds.list(p.m), Blocks: sink.blocks}
	for _, c := range sink.counts {
		res.TotalRows += c.Rows
	}
	return res, nil
}

// boundEntity is an entity plan bound to the live schema for one request.
type boundEntity struct {
	plan   *entityPlan
	fields []boundField
	writer *batchWriter
}

type boundField struct {
	fieldPlan
	col anonymize.Column
}

// bindPlan describes each field's live column to its anonymizer and checks
// that it still fits: the schema may have changed since the map was checked.
func bindPlan(p *AnonymizePlan, s *datamap.Schema) (map[string]*boundEntity, error) {
	out := map[string]*boundEntity{}
	refused := &RefusedError{}
	for _, e := range p.m.Entities {
		name, ep := e.Name, p.entities[e.Name]
		be := &boundEntity{plan: ep}
		out[name] = be
		if len(ep.fields) == 0 {
			continue
		}
		t := s.Tables[ep.e.Table]
		if t == nil {
			return nil, fmt.Errorf("entity %s: table %s does not exist; run titular datamap check", name, ep.e.Table)
		}
		for _, fp := range ep.fields {
			c, ok := t.Columns[fp.f.Column]
			if !ok {
				return nil, fmt.Errorf("entity %s: column %s does not exist; run titular datamap check", name, fp.f.Column)
			}
			col := AnonymizeColumn(c, datamap.UniqueColumn(t, fp.f.Column))
			if err := fp.anon.Check(col); err != nil {
				refused.add(ReasonAnonymizerNotFit, name, fp.f.Column, err.Error(),
					fmt.Sprintf("O anonimizador %q do campo %s.%s não cabe na coluna atual da tabela %s; o mapa de dados precisa ser corrigido.",
						fp.anon.Name(), name, fp.f.Column, ep.e.Table))
				continue
			}
			be.fields = append(be.fields, boundField{fieldPlan: fp, col: col})
		}
		be.writer = newBatchWriter(ep.e, be.fields)
	}
	if len(refused.Reasons) > 0 {
		return nil, refused
	}
	return out, nil
}

// anonymizeSink receives the titular's rows from the walk, computes the new
// values and hands them to the entity's batch writer.
type anonymizeSink struct {
	ctx    context.Context
	tx     Querier
	key    *anonymize.Key
	now    time.Time
	run    map[string]*boundEntity
	cur    *boundEntity
	held   int64
	counts []AnonymizeCount
	holds  holdTally
	// rowKeep, set by anonymizeRows for a held row, names the fields its
	// holds keep; nil for a row anonymized in full.
	rowKeep map[string]bool
	blocks  []Block
	// bumps remembers values whose output moved to a later attempt after a
	// UNIQUE collision, so later copies of the value follow (joins hold).
	bumps map[string]int
}

var _ KeyedSink = (*anonymizeSink)(nil)

func newAnonymizeSink(ctx context.Context, tx Querier, key *anonymize.Key, now time.Time, run map[string]*boundEntity) *anonymizeSink {
	return &anonymizeSink{ctx: ctx, tx: tx, key: key, now: now, run: run, holds: holdTally{}}
}

// anonymizeRows runs the executor over rows of e the caller already holds
// (keys, and values aligned with e.Fields), as if a walk delivered them:
// DELETE applies it to the rows a hold with on_delete: anonymize keeps. The
// rows are anonymized whatever their dates; the caller chose them.
func (k *anonymizeSink) anonymizeRows(e *datamap.Entity, rows []keyedRow) (AnonymizeCount, error) {
	if err := k.BeginEntity(e); err != nil {
		return AnonymizeCount{}, err
	}
	for _, r := range rows {
		k.rowKeep = r.keep
		err := k.KeyedRow(r.key, r.values, nil)
		k.rowKeep = nil
		if err != nil {
			return AnonymizeCount{}, err
		}
	}
	if err := k.EndEntity(e, int64(len(rows))); err != nil {
		return AnonymizeCount{}, err
	}
	return k.counts[len(k.counts)-1], nil
}

func (k *anonymizeSink) BeginEntity(e *datamap.Entity) error {
	k.cur, k.held = k.run[e.Name], 0
	if k.cur == nil {
		return fmt.Errorf("entity %s is not in the plan", e.Name)
	}
	return nil
}

func (k *anonymizeSink) Row([]any) error {
	return errors.New("anonymize: the walk must deliver keyed rows")
}

func (k *anonymizeSink) KeyedRow(key, values, extra []any) error {
	ep := k.cur.plan
	keep, held := k.rowKeep, k.rowKeep != nil
	if hs := runningHolds(ep.e, extra, k.now); len(hs) > 0 {
		// ANONYMIZE: a held row keeps what its holds need. One that needs
		// it whole stays as it is; holds that state keep minimize the
		// rest; holds with on_delete: anonymize alone (no keep) leave the
		// row to be anonymized like any other, as they always have.
		kept, whole, _ := ep.kept(hs)
		declared := slices.ContainsFunc(hs, func(r runningHold) bool { return r.h.Keep != nil })
		if whole || declared {
			k.hold(ep.e, key, hs)
		}
		if whole {
			return nil
		}
		if declared {
			keep, held = kept, true
		}
	}
	w := k.cur.writer
	if w == nil {
		return nil
	}
	row := w.next()
	for i, bf := range k.cur.fields {
		old := values[bf.idx]
		if keep[bf.f.Column] || (bf.minimizeOnly && !held) {
			w.set(row, i, old, old, 0, false)
			continue
		}
		in := anonymizeInput(old)
		attempt := 0
		if len(k.bumps) > 0 {
			attempt = k.bumps[bumpKey(bf.anon, in)]
		}
		out, err := bf.anon.Apply(k.key, bf.col, in, attempt)
		if err != nil {
			return fmt.Errorf("field %s: %w", bf.f.Column, err)
		}
		out = storeValue(out, bf.col)
		w.set(row, i, old, out, attempt, !sameValue(old, out))
	}
	w.keep(row, key)
	if w.full() {
		return k.flush()
	}
	return nil
}

func (k *anonymizeSink) flush() error {
	if k.cur.writer == nil {
		return nil
	}
	return k.cur.writer.flush(k.ctx, k.tx, k)
}

func (k *anonymizeSink) EndEntity(e *datamap.Entity, _ int64) error {
	if err := k.flush(); err != nil {
		return err
	}
	c := AnonymizeCount{Entity: e.Name, Held: k.held}
	if w := k.cur.writer; w != nil {
		c.Rows, c.Fields = w.rowsChanged, w.valuesChanged
	}
	k.counts = append(k.counts, c)
	return nil
}

// hold records a row kept by its running holds, and its block for the
// sweep (lgpd_blocks), under the hold that ends last.
func (k *anonymizeSink) hold(e *datamap.Entity, key []any, hs []runningHold) {
	k.held++
	k.holds.add(e, hs)
	l := latest(hs)
	u := l.until
	k.blocks = append(k.blocks, Block{Entity: e.Name, Table: e.Table, RowKey: keyJSON(key), Basis: l.h.Basis,
		Reference: l.h.Reference, OnDelete: l.h.OnDelete, Until: &u})
}

// bump records that in's output under a moved to attempt.
func (k *anonymizeSink) bump(a anonymize.Anonymizer, in any, attempt int) {
	if k.bumps == nil {
		k.bumps = map[string]int{}
	}
	k.bumps[bumpKey(a, in)] = attempt
}

// bumpKey names a value for an anonymizer: its canonical form when the
// anonymizer has one, so every spelling of a CPF moves together.
func bumpKey(a anonymize.Anonymizer, in any) string {
	if c, ok := a.(anonymize.Canonicalizer); ok {
		return a.Name() + "\x00" + c.Canonical(in)
	}
	return a.Name() + "\x00" + valueText(in)
}

// anonymizeInput turns a walked value into what anonymizers read: DATE as a
// time at midnight UTC, DECIMAL as its exact text.
func anonymizeInput(v any) any {
	switch x := v.(type) {
	case Date:
		return time.Date(x.Year, x.Month, x.Day, 0, 0, 0, 0, time.UTC)
	case Decimal:
		return string(x)
	}
	return v
}

// storeValue turns an anonymizer's output back into the walk's kinds, so it
// compares with the old value: a time in a DATE column is a Date.
func storeValue(v any, col anonymize.Column) any {
	if t, ok := v.(time.Time); ok && col.DataType == "date" {
		return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
	}
	return v
}

// sameValue reports whether an output leaves the stored value unchanged.
func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return valueText(a) == valueText(b)
}

// valueText renders a value for comparison and for collision lookups.
func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case Decimal:
		return string(x)
	case Date:
		return x.String()
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case nil:
		return "\x00null"
	}
	return fmt.Sprint(v)
}

// bindValue is how a value is sent as a statement parameter.
func bindValue(v any) any {
	switch x := v.(type) {
	case Date:
		return x.String()
	case Decimal:
		return string(x)
	}
	return v
}
