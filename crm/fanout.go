package crm

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// FanOutOptions bounds CheckFanOut.
type FanOutOptions struct {
	// Samples is how many titulares are sampled per root entity (default
	// DefaultFanOutSamples, at most MaxFanOutSamples).
	Samples int
}

// DefaultFanOutSamples and MaxFanOutSamples bound the titulares
// CheckFanOut samples per root entity.
const (
	DefaultFanOutSamples = 20
	MaxFanOutSamples     = 200
)

// sharedByMany is how many other sampled people must reach one titular's
// rows of an entity without identifiers before they count as shared
// context: a sale belongs to its buyer and spouse, a store to hundreds.
const sharedByMany = 3

// FanOut is an entity through which one titular's request reaches the rows
// of other people: it hangs off shared context (a store, a branch, a CRM
// user) instead of the person's own rows. An EXTRACT would disclose them, a
// DELETE would erase them.
type FanOut struct {
	// Entity holds the other people's rows; Through is its parent, the
	// entity many people share.
	Entity, Through string
	// Root is the root entity whose sampled titulares reached them, and
	// Sampled how many were sampled.
	Root    string
	Sampled int
	// Max is the most other people one sampled titular's request reaches
	// through Entity; Median is over the Sampled titulares. For an entity
	// with match columns Max is exact: the distinct people (linked by the
	// identifiers rows share) holding identifiers that are not the
	// titular's. For one without (Shared), it counts the other sampled
	// titulares who reach the same rows: a lower bound.
	Max, Median int
	Shared      bool
	// Mentions marks a warning rather than a breach: Entity has no
	// identifiers, and the rows one titular's request reaches point, through
	// NOT NULL foreign keys, at up to Max (at least sharedByMany) other
	// people's records in Person (a broker's notes on their leads, or an
	// employee's rentals to customers). Fine when the rows are the titular's too; a breach when
	// they are the other people's.
	Mentions bool
	Person   string
}

// CheckFanOut samples titulares from each root entity of m (the first rows
// by key, in a read-only snapshot), walks the map for each as a request
// would, and reports the entities whose rows belong to other people: rows
// holding identifiers none of which is the titular's (nor linked to them,
// Linked), and rows of entities without identifiers that many other sampled
// titulares reach too. It reports each entity once, from the root whose
// titular reaches the most people, and skips the descendants of a reported
// entity (they are reached through it). After those come the warnings
// (Mentions): entities whose rows point at many other people's records. It
// reads only; the result names entities and counts, never data.
func CheckFanOut(ctx context.Context, db *sql.DB, m *datamap.Map, opts FanOutOptions) ([]FanOut, error) {
	n := opts.Samples
	if n <= 0 {
		n = DefaultFanOutSamples
	}
	n = min(n, MaxFanOutSamples)
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("fan-out check: begin read-only transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	schema, err := LoadSchema(ctx, tx)
	if err != nil {
		return nil, err
	}
	refs, err := ownerRefs(ctx, tx, m, personRefs(m, schema))
	if err != nil {
		return nil, err
	}
	c := &fanOutCheck{
		m: m, refs: refs, personOf: map[string]int{},
		exposed: map[string]map[string][]int{}, shared: map[string]map[string][]int{},
		mentions: map[string]map[string][]int{}, hits: map[string]map[string]bool{},
	}
	for _, root := range m.Order() {
		if !root.IsRoot() {
			continue
		}
		sample, err := sampleTitulares(ctx, tx, root, n)
		if err != nil {
			return nil, err
		}
		c.sampled = append(c.sampled, rootSample{root: root.Name, n: len(sample)})
		for _, ids := range sample {
			if err := c.titular(ctx, tx, root.Name, ids); err != nil {
				return nil, err
			}
		}
	}
	return c.report(), nil
}

type sampled struct {
	root   string
	person int
}

type rootSample struct {
	root string
	n    int
}

// fanOutCheck accumulates what the sampled titulares' walks reached.
type fanOutCheck struct {
	m       *datamap.Map
	sampled []rootSample
	// people are the sampled persons' identifiers ("kind:value"); one
	// found in two roots (the same e-mail as staff and as customer) is one
	// person. personOf finds a person by identifier; samples records, per
	// sampled titular, its root and person.
	people   []map[string]bool
	personOf map[string]int
	samples  []sampled
	// exposed holds, per entity and root, how many other people each
	// sampled titular of the root reached through the entity's identifiers.
	exposed map[string]map[string][]int
	// shared holds, per entity without match columns, the sampled people
	// who reached each row (by key).
	shared map[string]map[string][]int
	// refs are the entities' references to people (personRefs), and
	// mentions, per entity and root, how many other people's records each
	// sampled titular's rows of the entity point at.
	refs     map[string][]personRef
	mentions map[string]map[string][]int
	// hits names, per entity, the person entities whose records other than
	// the sampled titulares' its rows point at.
	hits map[string]map[string]bool
}

// titular walks the map for one sampled titular and records whose rows it
// reached.
func (c *fanOutCheck) titular(ctx context.Context, tx Querier, root string, ids Identifiers) error {
	own := map[string]bool{}
	for _, k := range identifierKinds {
		if v := ids.Get(k); v != "" {
			own[k+":"+v] = true
		}
	}
	linked, err := Linked(ctx, tx, c.m, ids)
	if err != nil {
		return err
	}
	for _, k := range identifierKinds {
		if v := linked.Get(k); v != "" {
			own[k+":"+v] = true
		}
	}
	person := c.person(own)
	c.samples = append(c.samples, sampled{root: root, person: person})
	sink := &fanOutSink{own: own, others: map[string]*unionFind{}, rows: map[string][]string{}, refs: c.refs, refKeys: map[string][]map[string][]any{}}
	_, err = WalkWith(ctx, tx, c.m, ids, sink, WalkOptions{Extra: refColumns(c.refs)})
	if err != nil {
		return fmt.Errorf("fan-out check: walk a sampled titular of %s: %w", root, err)
	}
	counts, err := mentioned(ctx, tx, c.refs, sink.refKeys, own, c.hits)
	if err != nil {
		return err
	}
	for entity, n := range counts {
		if c.mentions[entity] == nil {
			c.mentions[entity] = map[string][]int{}
		}
		c.mentions[entity][root] = append(c.mentions[entity][root], n)
	}
	for _, e := range c.m.Order() {
		if e.IsRoot() {
			if c.exposed[e.Name] == nil {
				c.exposed[e.Name] = map[string][]int{}
			}
			count := 0
			if u := sink.others[e.Name]; u != nil {
				count = u.components()
			}
			c.exposed[e.Name][root] = append(c.exposed[e.Name][root], count)
			continue
		}
		if c.shared[e.Name] == nil {
			c.shared[e.Name] = map[string][]int{}
		}
		for _, k := range sink.rows[e.Name] {
			c.shared[e.Name][k] = append(c.shared[e.Name][k], person)
		}
	}
	return nil
}

// person returns the sampled person holding one of ids, or a new one.
func (c *fanOutCheck) person(ids map[string]bool) int {
	p := -1
	for id := range ids {
		if q, ok := c.personOf[id]; ok {
			p = q
			break
		}
	}
	if p < 0 {
		p = len(c.people)
		c.people = append(c.people, map[string]bool{})
	}
	for id := range ids {
		c.people[p][id] = true
		if _, ok := c.personOf[id]; !ok {
			c.personOf[id] = p
		}
	}
	return p
}

// matchColumns has the walk read an entity's match columns.
func matchColumns(e *datamap.Entity) []string {
	cols := make([]string, len(e.Match))
	for i, mr := range e.Match {
		cols[i] = mr.Column
	}
	return cols
}

// report turns what the walks reached into findings.
func (c *fanOutCheck) report() []FanOut {
	found := map[string]FanOut{}
	for _, e := range c.m.Order() {
		if e.Parent == nil {
			continue // a root's own rows are matched by the titular's identifiers
		}
		var best FanOut
		if e.IsRoot() {
			for _, rs := range c.sampled {
				counts := c.exposed[e.Name][rs.root]
				if len(counts) == 0 {
					continue
				}
				f := FanOut{Entity: e.Name, Through: e.Parent.Entity, Root: rs.root, Sampled: rs.n, Max: slices.Max(counts), Median: median(counts)}
				if worse(f, best) {
					best = f
				}
			}
		} else {
			best = c.sharedRows(e)
		}
		if best.Max > 0 {
			found[e.Name] = best
		}
	}
	var out, mentions []FanOut
	for _, e := range c.m.Order() {
		if c.underReported(e, found) {
			continue
		}
		if f, ok := found[e.Name]; ok {
			out = append(out, f)
		} else if f, ok := c.mentioned(e); ok {
			mentions = append(mentions, f)
		}
	}
	slices.SortStableFunc(out, func(a, b FanOut) int { return cmp.Compare(b.Max, a.Max) })
	slices.SortStableFunc(mentions, func(a, b FanOut) int { return cmp.Compare(b.Max, a.Max) })
	return append(out, mentions...)
}

// mentioned reports the sampled titular whose rows of e point at the most
// other people's records, when they are many.
func (c *fanOutCheck) mentioned(e *datamap.Entity) (FanOut, bool) {
	var best FanOut
	var people []string
	for _, r := range c.refs[e.Name] {
		if c.hits[e.Name][r.person.Name] && !slices.Contains(people, r.person.Name) {
			people = append(people, r.person.Name)
		}
	}
	for _, rs := range c.sampled {
		counts := c.mentions[e.Name][rs.root]
		if len(counts) == 0 {
			continue
		}
		f := FanOut{Entity: e.Name, Through: e.Parent.Entity, Root: rs.root, Sampled: rs.n, Max: slices.Max(counts), Median: median(counts),
			Mentions: true, Person: strings.Join(people, ", ")}
		if worse(f, best) {
			best = f
		}
	}
	// One or two (the buyer of a sale the titular co-signs) is a shared
	// record; many is someone else's activity.
	return best, best.Max >= sharedByMany
}

// underReported reports whether an ancestor of e is reported already: e's
// rows are reached through it.
func (c *fanOutCheck) underReported(e *datamap.Entity, found map[string]FanOut) bool {
	seen := map[string]bool{e.Name: true}
	for p := e.Parent; p != nil; {
		if seen[p.Entity] {
			return false
		}
		seen[p.Entity] = true
		if _, ok := found[p.Entity]; ok {
			return true
		}
		pe := c.m.Entity(p.Entity)
		if pe == nil {
			return false
		}
		p = pe.Parent
	}
	return false
}

// sharedRows finds, for an entity without identifiers, the sampled
// titular whose rows of it the most other sampled people reach too; it
// counts only when they are many (sharedByMany).
func (c *fanOutCheck) sharedRows(e *datamap.Entity) FanOut {
	others := make([]map[int]bool, len(c.people))
	for _, persons := range c.shared[e.Name] {
		for _, p := range persons {
			for _, q := range persons {
				if p != q {
					if others[p] == nil {
						others[p] = map[int]bool{}
					}
					others[p][q] = true
				}
			}
		}
	}
	var best FanOut
	for _, rs := range c.sampled {
		var counts []int
		for _, sm := range c.samples {
			if sm.root == rs.root {
				counts = append(counts, len(others[sm.person]))
			}
		}
		if len(counts) == 0 {
			continue
		}
		f := FanOut{Entity: e.Name, Through: e.Parent.Entity, Root: rs.root, Sampled: rs.n, Max: slices.Max(counts), Median: median(counts), Shared: true}
		if f.Max >= sharedByMany && worse(f, best) {
			best = f
		}
	}
	return best
}

// worse reports whether a exposes more people than b: the worst titular
// first, then the typical one.
func worse(a, b FanOut) bool {
	return cmp.Or(cmp.Compare(a.Max, b.Max), cmp.Compare(a.Median, b.Median)) > 0
}

func median(xs []int) int {
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}

// fanOutSink records, per entity, the keys of the rows a walk reaches and,
// for entities with match columns, the people other than the titular whose
// identifiers those rows hold.
type fanOutSink struct {
	cur    *datamap.Entity
	own    map[string]bool
	others map[string]*unionFind
	rows   map[string][]string
	// refKeys holds, per entity and reference to people (refs), the keys
	// of the person records the rows point at.
	refs    map[string][]personRef
	refKeys map[string][]map[string][]any
}

func (s *fanOutSink) BeginEntity(e *datamap.Entity) error { s.cur = e; return nil }
func (s *fanOutSink) Row([]any) error                     { return nil }
func (s *fanOutSink) EndEntity(*datamap.Entity, int64) error {
	return nil
}

func (s *fanOutSink) KeyedRow(key, _, extra []any) error {
	e := s.cur
	if !e.IsRoot() {
		s.rows[e.Name] = append(s.rows[e.Name], tupleKey(key))
		s.refRow(e, extra)
		return nil
	}
	var ids []string
	for i, mr := range e.Match {
		if v, ok := normalizeIdentifier(mr.Identifier, extra[i]); ok {
			id := mr.Identifier + ":" + v
			if s.own[id] {
				return nil // the titular's own row (or one they share, e.g. an e-mail)
			}
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil // no identifier to tell whose it is
	}
	u := s.others[e.Name]
	if u == nil {
		u = &unionFind{parent: map[string]string{}}
		s.others[e.Name] = u
	}
	for _, id := range ids[1:] {
		u.union(ids[0], id)
	}
	u.find(ids[0])
	return nil
}

// refRow records the person records a row of e points at.
func (s *fanOutSink) refRow(e *datamap.Entity, extra []any) {
	rs := s.refs[e.Name]
	if len(rs) == 0 {
		return
	}
	if s.refKeys[e.Name] == nil {
		s.refKeys[e.Name] = make([]map[string][]any, len(rs))
		for i := range rs {
			s.refKeys[e.Name][i] = map[string][]any{}
		}
	}
	for i, r := range rs {
		k := extra[r.pos : r.pos+len(r.fk.Columns)]
		if !slices.Contains(k, nil) {
			s.refKeys[e.Name][i][tupleKey(k)] = slices.Clone(k)
		}
	}
}

// unionFind groups identifiers found on the same rows into people.
type unionFind struct{ parent map[string]string }

func (u *unionFind) find(x string) string {
	p, ok := u.parent[x]
	if !ok {
		u.parent[x] = x
		return x
	}
	if p == x {
		return x
	}
	r := u.find(p)
	u.parent[x] = r
	return r
}

func (u *unionFind) union(a, b string) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		u.parent[ra] = rb
	}
}

func (u *unionFind) components() int {
	n := 0
	for x, p := range u.parent {
		if x == p {
			n++
		}
	}
	return n
}

// sampleTitulares reads up to n titulares from root: the identifiers of its
// first rows by key that hold one in a normalized form, one person once.
func sampleTitulares(ctx context.Context, q Querier, root *datamap.Entity, n int) ([]Identifiers, error) {
	cols := matchColumns(root)
	notNull := make([]string, len(cols))
	for i, c := range cols {
		notNull[i] = sqlq.QuoteIdent(c) + " IS NOT NULL"
	}
	where, args := restrict(root, strings.Join(notNull, " OR "), nil)
	// Rows with malformed identifiers are skipped: read a few more.
	query := "SELECT " + sqlq.JoinQuoted(cols) + " FROM " + sqlq.QuoteIdent(root.Table) + //nolint:gosec // G202: only quoted names from a checked map are concatenated
		" WHERE " + where + " ORDER BY " + sqlq.JoinQuoted(root.Key) + " LIMIT ?"
	rows, err := q.QueryContext(ctx, query, append(args, 4*n)...)
	if err != nil {
		return nil, fmt.Errorf("fan-out check: sample titulares of %s: %w", root.Name, err)
	}
	var out []Identifiers
	seen := map[string]bool{}
	err = eachRow(rows, func(row []any) error {
		if len(out) == n {
			return nil
		}
		var ids Identifiers
		dup := false
		for i, mr := range root.Match {
			if v, ok := normalizeIdentifier(mr.Identifier, row[i]); ok && ids.Get(mr.Identifier) == "" {
				ids = ids.With(mr.Identifier, v)
				dup = dup || seen[mr.Identifier+":"+v]
			}
		}
		if ids.Empty() || dup {
			return nil
		}
		for _, k := range identifierKinds {
			if v := ids.Get(k); v != "" {
				seen[k+":"+v] = true
			}
		}
		out = append(out, ids)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fan-out check: sample titulares of %s: %w", root.Name, err)
	}
	return out, nil
}
