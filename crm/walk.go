package crm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// Sink receives a titular's rows, entity by entity, parents before children.
// Values are aligned with the entity's Fields and are nil, string, int64,
// float64, []byte, time.Time (datetimes, UTC), Date or Decimal.
type Sink interface {
	BeginEntity(e *datamap.Entity) error
	Row(values []any) error
	EndEntity(e *datamap.Entity, rows int64) error
}

// parentBatch bounds how many parent keys go into one child query.
const parentBatch = 500

// LookupValues returns every stored shape of an identifier (CRMs keep CPFs
// and phones punctuated differently per table), so matching is an indexed
// IN over known shapes instead of a function wrapped around the column.
func LookupValues(kind, value string) []string {
	switch kind {
	case "cpf":
		return brdoc.CPFShapes(value)
	case "phone":
		return brdoc.PhoneShapes(value)
	default:
		// E-mail: normalized lower-case; the column's case-insensitive
		// collation matches stored mixed case.
		return []string{value}
	}
}

// Walk finds the titular's rows through the data map: every root entity
// whose match columns hold one of the identifiers, then children along
// parent edges. Rows reached by several paths (the same lead found by CPF
// and as a child of the pessoa) are delivered once. Only mapped fields reach
// the sink. It returns the row count per entity in map order.
func Walk(ctx context.Context, q Querier, m *datamap.Map, ids Identifiers, sink Sink) ([]EntityCount, error) {
	return WalkWith(ctx, q, m, ids, sink, WalkOptions{})
}

// WalkOptions extends a walk for the kinds that change rows.
type WalkOptions struct {
	// Extra names more columns of an entity to read (e.g. its retention
	// `from` column); a KeyedSink receives their values.
	Extra func(e *datamap.Entity) []string
	// ForUpdate locks every row read (SELECT … FOR UPDATE) inside the
	// caller's transaction, so concurrent changes to one titular serialize.
	ForUpdate bool
	// Skip, when set, leaves out the entities it returns true for: their
	// rows are not read and their children are reached only by their own
	// match rules (Linked reads only what can hold identifiers).
	Skip func(e *datamap.Entity) bool
}

// KeyedSink is a Sink that also wants each row's primary-key values and the
// WalkOptions.Extra columns. Row is not called for a KeyedSink.
type KeyedSink interface {
	Sink
	KeyedRow(key, values, extra []any) error
}

// WalkWith is Walk with options.
func WalkWith(ctx context.Context, q Querier, m *datamap.Map, ids Identifiers, sink Sink, opts WalkOptions) ([]EntityCount, error) {
	if ids.Empty() {
		return nil, errors.New("walk: no identifier given")
	}
	w := &walker{ctx: ctx, q: q, m: m, ids: ids, sink: sink, opts: opts, wanted: map[string]*tupleSet{}}
	var counts []EntityCount
	for _, e := range m.Order() {
		if opts.Skip != nil && opts.Skip(e) {
			counts = append(counts, EntityCount{Entity: e.Name})
			continue
		}
		n, err := w.entity(e)
		if err != nil {
			return nil, fmt.Errorf("entity %s: %w", e.Name, err)
		}
		counts = append(counts, EntityCount{Entity: e.Name, Rows: n})
	}
	return counts, nil
}

type walker struct {
	ctx  context.Context
	q    Querier
	m    *datamap.Map
	ids  Identifiers
	sink Sink
	opts WalkOptions
	// wanted holds, per child entity, the parent-key tuples its rows must match.
	wanted map[string]*tupleSet
}

// tupleSet is a set of key tuples, kept in insertion order.
type tupleSet struct {
	seen   map[string]bool
	tuples [][]any
}

func (s *tupleSet) add(t []any) {
	k := tupleKey(t)
	if s.seen[k] {
		return
	}
	s.seen[k] = true
	s.tuples = append(s.tuples, t)
}

// tupleKey encodes t as a map key. Keys are almost always integers or
// strings, which skip fmt: this runs once per row and child edge.
func tupleKey(t []any) string {
	b := make([]byte, 0, 16*len(t))
	for _, v := range t {
		switch v := v.(type) {
		case int64:
			b = strconv.AppendInt(append(b, 'i'), v, 10)
		case string:
			b = append(strconv.AppendInt(append(b, 's'), int64(len(v)), 10), ':')
			b = append(b, v...)
		default:
			b = fmt.Appendf(b, "%T:%v", v, v)
		}
		b = append(b, 0)
	}
	return string(b)
}

// plan is the columns one entity's queries select and where each lands.
type plan struct {
	cols     []string
	fieldIdx []int
	keyIdx   []int
	extraIdx []int
	children []childPlan
}

type childPlan struct {
	name string
	idx  []int // positions of the parent-side columns of the child's `on`
}

func (w *walker) plan(e *datamap.Entity) plan {
	var p plan
	pos := map[string]int{}
	col := func(c string) int {
		if i, ok := pos[c]; ok {
			return i
		}
		pos[c] = len(p.cols)
		p.cols = append(p.cols, c)
		return pos[c]
	}
	for _, f := range e.Fields {
		p.fieldIdx = append(p.fieldIdx, col(f.Column))
	}
	for _, k := range e.Key {
		p.keyIdx = append(p.keyIdx, col(k))
	}
	if w.opts.Extra != nil {
		for _, c := range w.opts.Extra(e) {
			p.extraIdx = append(p.extraIdx, col(c))
		}
	}
	for _, ch := range w.m.Children(e.Name) {
		cp := childPlan{name: ch.Name}
		for _, on := range ch.Parent.On {
			cp.idx = append(cp.idx, col(on.Parent))
		}
		p.children = append(p.children, cp)
		if w.wanted[ch.Name] == nil {
			w.wanted[ch.Name] = &tupleSet{seen: map[string]bool{}}
		}
	}
	return p
}

func (w *walker) entity(e *datamap.Entity) (int64, error) {
	p := w.plan(e)
	if err := w.sink.BeginEntity(e); err != nil {
		return 0, err
	}
	// Each query ORs the match rules (a row matching two identifiers comes
	// back once) with a batch of parent keys: the first batch rides along
	// with the match rules, so an entity reached both ways costs one round
	// trip, as hand-written SQL would. Rows can repeat only when the match
	// rules and a later parent batch both reach them; otherwise the walk
	// needs no memory of the rows seen, so a titular with 100,000 rows in
	// one entity costs none.
	queries, err := w.queries(e)
	if err != nil {
		return 0, err
	}
	dedupe := len(queries) > 1 && queries[0].match
	seen := map[string]bool{}
	ks, keyed := w.sink.(KeyedSink)
	var n int64
	emit := func(row []any) error {
		var key []any
		if keyed || dedupe {
			key = make([]any, len(p.keyIdx))
			for i, k := range p.keyIdx {
				key[i] = row[k]
			}
		}
		if dedupe {
			k := tupleKey(key)
			if seen[k] {
				return nil
			}
			seen[k] = true
		}
		vals := make([]any, len(p.fieldIdx))
		for i, f := range p.fieldIdx {
			vals[i] = row[f]
		}
		if keyed {
			extra := make([]any, len(p.extraIdx))
			for i, x := range p.extraIdx {
				extra[i] = row[x]
			}
			if err := ks.KeyedRow(key, vals, extra); err != nil {
				return err
			}
		} else if err := w.sink.Row(vals); err != nil {
			return err
		}
		n++
		for _, ch := range p.children {
			t := make([]any, len(ch.idx))
			for i, j := range ch.idx {
				if row[j] == nil {
					t = nil
					break
				}
				t[i] = row[j]
			}
			if t != nil {
				w.wanted[ch.name].add(t)
			}
		}
		return nil
	}
	base := "SELECT " + sqlq.JoinQuoted(p.cols) + " FROM " + sqlq.QuoteIdent(e.Table) + " WHERE "
	order := " ORDER BY " + sqlq.JoinQuoted(e.Key)
	if w.opts.ForUpdate {
		order += " FOR UPDATE"
	}
	for _, q := range queries {
		where, args := restrict(e, q.where, q.args)
		if err := w.query(base+where+order, args, emit); err != nil {
			return 0, err
		}
	}
	return n, w.sink.EndEntity(e, n)
}

// condition is one query's WHERE and its arguments.
type condition struct {
	where string
	args  []any
	match bool // it includes the match rules
}

// queries returns the conditions that find e's rows: the match rules for
// the identifiers given, ORed as `c1 IN (…) OR c2 IN (…)`, and the parent
// keys collected so far, in batches of parentBatch with a row constructor
// for composite keys; the first batch is ORed into the match condition.
// An OR of indexed IN lists stays indexed: MySQL and MariaDB answer it with
// an index_merge union.
func (w *walker) queries(e *datamap.Entity) ([]condition, error) {
	where, args, err := matchCondition(e, w.ids)
	if err != nil {
		return nil, err
	}
	var out []condition
	if where != "" {
		out = append(out, condition{where: where, args: args, match: true})
	}
	set := w.wanted[e.Name]
	if e.Parent == nil || set == nil || len(set.tuples) == 0 {
		return out, nil
	}
	var childCols []string
	for _, on := range e.Parent.On {
		childCols = append(childCols, on.Child)
	}
	for start := 0; start < len(set.tuples); start += parentBatch {
		var c condition
		c.where, c.args = sqlq.KeyIn(childCols, set.tuples[start:min(start+parentBatch, len(set.tuples))])
		if start == 0 && len(out) == 1 {
			out[0].where += " OR " + c.where
			out[0].args = append(out[0].args, c.args...)
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// restrict adds the entity's `where` constants to a condition that finds its
// rows: the entity covers only the rows of its table that hold them.
func restrict(e *datamap.Entity, where string, args []any) (string, []any) {
	if len(e.Where) == 0 {
		return where, args
	}
	conds := make([]string, 0, len(e.Where)+1)
	conds = append(conds, "("+where+")")
	out := append(make([]any, 0, len(args)+len(e.Where)), args...)
	for _, c := range e.Where {
		conds = append(conds, sqlq.QuoteIdent(c.Column)+" = ?")
		out = append(out, c.Value)
	}
	return strings.Join(conds, " AND "), out
}

// matchCondition is the condition that finds e's rows holding one of ids
// in its match columns, `c1 IN (…) OR c2 IN (…)` over every stored shape;
// "" when ids give none of e's identifiers.
func matchCondition(e *datamap.Entity, ids Identifiers) (string, []any, error) {
	var conds []string
	var args []any
	for _, mr := range e.Match {
		v := ids.Get(mr.Identifier)
		if v == "" {
			continue
		}
		shapes := LookupValues(mr.Identifier, v)
		if len(shapes) == 0 {
			return "", nil, fmt.Errorf("identifier %s is not in normalized form", mr.Identifier)
		}
		for _, s := range shapes {
			args = append(args, s)
		}
		conds = append(conds, sqlq.QuoteIdent(mr.Column)+" IN ("+sqlq.Placeholders(len(shapes))+")")
	}
	return strings.Join(conds, " OR "), args, nil
}

func (w *walker) query(query string, args []any, emit func([]any) error) error {
	rows, err := w.q.QueryContext(w.ctx, query, args...)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	return eachRow(rows, emit)
}

// eachRow hands every row of rows, converted to the Sink's value kinds
// (convertValue), to fn, and closes rows. Each row is a fresh slice fn may keep.
func eachRow(rows *sql.Rows, fn func(row []any) error) error {
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return fmt.Errorf("column types: %w", err)
	}
	dbTypes := make([]string, len(types))
	for i, t := range types {
		dbTypes[i] = t.DatabaseTypeName()
	}
	raw := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		row := make([]any, len(raw))
		for i, v := range raw {
			if row[i], err = convertValue(v, dbTypes[i]); err != nil {
				return fmt.Errorf("column %d: %w", i+1, err)
			}
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return rows.Err()
}
