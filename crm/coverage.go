package crm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// CoverageOptions bounds what a coverage report reads.
type CoverageOptions struct {
	// Titulares is how many titulares are sampled (default 20, at most 200).
	Titulares int
	// ScanRows bounds, per table, the rows whose text columns are
	// searched for the sampled identifiers (default 100,000).
	// Whole-value matches are searched in every row.
	ScanRows int
	// Survey is the schema survey to judge unread columns by; nil surveys
	// the database.
	Survey *datamap.Survey
	// Subjects, when set, are the titulares to report on instead of a
	// sample (tests judging the report against known people, callers that
	// already hold identifiers). Titulares is then ignored.
	Subjects []Identifiers
}

// Coverage defaults and bounds.
const (
	defaultCoverageTitulares = 20
	maxCoverageTitulares     = 200
	defaultCoverageScanRows  = 100_000
	// maxCoveragePlaceholders keeps one search statement well under the
	// protocol's 65,535 placeholders.
	maxCoveragePlaceholders = 30_000
)

// ErrNoRoots is a map without root entities: no titular can be sampled.
var ErrNoRoots = errors.New("the data map has no root entity (an entity with match rules); add match: {cpf: <column>} to the entity of the people's table")

// ErrNoTitulares is a CRM whose root tables hold no row with a valid
// identifier.
var ErrNoTitulares = errors.New("no row of the map's root entities holds a valid identifier, so there is no titular to sample; check that the tenant's database is the CRM's and that its match columns hold CPFs, e-mails or phones")

// CoverageReport is what a data map reaches of a sample of titulares and
// what it leaves behind. It holds counts and names only, never a value.
type CoverageReport struct {
	// Requested is the sample size asked for; Titulares how many distinct
	// titulares the CRM yielded (fewer on a small CRM).
	Requested int `json:"requested"`
	Titulares int `json:"titulares"`
	// Reached totals the rows the map reaches for the sample (a row shared
	// by two sampled titulares counts once) and the tables they are in.
	Reached CoverageTotal `json:"reached"`
	// Unreached totals the rows that hold a sampled titular's identifier
	// but that the map does not reach for that titular.
	Unreached CoverageUnreached `json:"unreached"`
	// Tables are the mapped tables and the tables holding a sampled
	// titular's identifier, by name.
	Tables []TableCoverage `json:"tables"`
	// UnreadColumns are the personal-looking columns that no entity reads
	// (datamap.Coverage), by table and column.
	UnreadColumns []UnreadColumn `json:"unread_columns"`
}

// CoverageTotal is a number of rows in a number of tables.
type CoverageTotal struct {
	Rows   int64 `json:"rows"`
	Tables int   `json:"tables"`
}

// CoverageUnreached totals the unreached rows; UnmappedTables counts the
// tables among them that no entity reads (the headline: the map misses
// them entirely).
type CoverageUnreached struct {
	Rows           int64 `json:"rows"`
	Tables         int   `json:"tables"`
	UnmappedTables int   `json:"unmapped_tables"`
}

// TableCoverage is one table's line of the report.
type TableCoverage struct {
	Table string `json:"table"`
	// Entities read the table, in map order; empty for an unmapped table.
	Entities []string `json:"entities"`
	// ReachedRows is how many distinct rows the map reaches for the sample;
	// MedianPerTitular and MaxPerTitular are over the sampled titulares
	// (those with none count as 0); TitularesReached is how many have at
	// least one.
	ReachedRows      int64   `json:"reached_rows"`
	MedianPerTitular float64 `json:"median_per_titular"`
	MaxPerTitular    int64   `json:"max_per_titular"`
	TitularesReached int     `json:"titulares_reached"`
	// IdentifierRows is how many rows hold a sampled titular's CPF, e-mail
	// or phone (as a whole value or, within ScanRows, inside text);
	// UnreachedRows how many of those the map does not reach for the
	// titular whose identifier they hold.
	IdentifierRows int64 `json:"identifier_rows"`
	UnreachedRows  int64 `json:"unreached_rows"`
	// UnreachedColumns counts, per column, the unreached rows holding an
	// identifier in it (a row can count in several columns).
	UnreachedColumns []ColumnCount `json:"unreached_columns"`
	// Partial is set when the table has more rows than ScanRows: its free
	// text was searched in the first ScanRows rows only.
	Partial bool `json:"partial"`
}

// ColumnCount is how many unreached rows hold an identifier in Column, and
// of which kinds (cpf, email, phone).
type ColumnCount struct {
	Column string   `json:"column"`
	Kinds  []string `json:"kinds"`
	Rows   int64    `json:"rows"`
}

// UnreadColumn is a personal-looking column no entity reads.
type UnreadColumn struct {
	Table  string `json:"table"`
	Column string `json:"column"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// Coverage samples opts.Titulares titulares from the map's root entities
// (spread over each root's key range, deterministic), walks each through
// the map, and searches every table of the database for rows holding their
// identifiers in every stored shape that the walk did not reach. The walks
// and searches run in one read-only transaction. The identifiers stay in
// memory; the report holds counts and names only.
func Coverage(ctx context.Context, db *sql.DB, m *datamap.Map, opts CoverageOptions) (*CoverageReport, error) {
	n := opts.Titulares
	if n <= 0 {
		n = defaultCoverageTitulares
	}
	n = min(n, maxCoverageTitulares)
	scanRows := opts.ScanRows
	if scanRows <= 0 {
		scanRows = defaultCoverageScanRows
	}
	if !slices.ContainsFunc(m.Entities, (*datamap.Entity).IsRoot) {
		return nil, ErrNoRoots
	}
	s := opts.Survey
	if s == nil {
		var err error
		if s, err = Survey(ctx, db, SurveyOptions{}); err != nil {
			return nil, err
		}
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("coverage: begin read-only transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	c := &coverage{ctx: ctx, q: tx, m: m, s: s, scanRows: scanRows, reached: map[string]map[string][]int{}}
	subjects := opts.Subjects
	if slices.ContainsFunc(subjects, Identifiers.Empty) {
		return nil, errors.New("coverage: a titular without identifiers; give each a CPF, an e-mail or a phone")
	}
	if len(subjects) > 0 {
		n = len(subjects)
	} else if subjects, err = c.sample(n); err != nil {
		return nil, err
	}
	if len(subjects) == 0 {
		return nil, ErrNoTitulares
	}
	c.subjects = subjects
	c.nd = c.needles()
	c.perTitular = map[string][]int64{}
	for i, ids := range subjects {
		if err := c.walk(i, ids); err != nil {
			return nil, err
		}
	}
	rep := &CoverageReport{Requested: n, Titulares: len(subjects), Tables: []TableCoverage{}, UnreadColumns: []UnreadColumn{}}
	readers := map[string][]string{}
	for _, e := range m.Order() {
		readers[e.Table] = append(readers[e.Table], e.Name)
	}
	tables := map[string]bool{}
	for t := range readers {
		tables[t] = true
	}
	hits := map[string]*tableHits{}
	for _, name := range slices.Sorted(maps.Keys(s.Schema.Tables)) {
		if ownTable(name) {
			continue
		}
		h, err := c.search(s.Schema.Tables[name])
		if err != nil {
			return nil, err
		}
		hits[name] = h
		if len(h.rows) > 0 {
			tables[name] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		tc := c.table(name, readers[name], hits[name])
		rep.Tables = append(rep.Tables, tc)
		if tc.ReachedRows > 0 {
			rep.Reached.Rows += tc.ReachedRows
			rep.Reached.Tables++
		}
		if tc.UnreachedRows > 0 {
			rep.Unreached.Rows += tc.UnreachedRows
			rep.Unreached.Tables++
			if len(tc.Entities) == 0 {
				rep.Unreached.UnmappedTables++
			}
		}
	}
	for _, f := range datamap.Coverage(m, s) {
		rep.UnreadColumns = append(rep.UnreadColumns, UnreadColumn{Table: f.Table, Column: f.Column, Kind: f.Kind, Reason: f.Reason})
	}
	return rep, nil
}

// ownTable reports titular's own tables, never the CRM's data.
func ownTable(name string) bool { return strings.HasPrefix(name, "lgpd_") }

// coverage is one report's state.
type coverage struct {
	ctx      context.Context
	q        Querier
	m        *datamap.Map
	s        *datamap.Survey
	scanRows int
	subjects []Identifiers
	nd       *needles
	// reached holds, per table and row id (rowID's columns, tupleKey), the
	// sampled titulares whose walk reached the row, ascending.
	reached map[string]map[string][]int
	// perTitular counts, per table, the distinct rows each titular reaches.
	perTitular map[string][]int64
}

// rowID is the columns that identify a row of table for the report: the
// primary key, else the first unique key, else the key of the first entity
// that reads the table; nil when none is known.
func (c *coverage) rowID(table string) []string {
	if t := c.s.Schema.Tables[table]; t != nil {
		if len(t.PrimaryKey) > 0 {
			return t.PrimaryKey
		}
		if len(t.Unique) > 0 {
			return t.Unique[0]
		}
	}
	for _, e := range c.m.Order() {
		if e.Table == table {
			return e.Key
		}
	}
	return nil
}

// sample returns up to n titulares, each the identifiers of root rows and
// those the CRM links to them unambiguously (Linked): the roots take turns
// in map order, and a row sharing an identifier with a titular already
// sampled adds its other identifiers to that titular (the same person: a
// lead with a pessoa's e-mail), unless one of them differs (two people
// sharing an e-mail), when it is skipped.
func (c *coverage) sample(n int) ([]Identifiers, error) {
	// People's own tables first: roots that are no one's child (a
	// customer), then, for what they leave, roots under a parent (the
	// address a request by phone finds).
	var tops, under [][]Identifiers
	for _, e := range c.m.Order() {
		if !e.IsRoot() {
			continue
		}
		cands, err := c.candidates(e, n)
		if err != nil {
			return nil, fmt.Errorf("coverage: sample entity %s: %w", e.Name, err)
		}
		if e.Parent == nil {
			tops = append(tops, cands)
		} else {
			under = append(under, cands)
		}
	}
	sp := &sampler{c: c, n: n, owner: map[string]int{}}
	for _, perRoot := range [][][]Identifiers{tops, under} {
		if err := sp.takeTurns(perRoot); err != nil {
			return nil, err
		}
	}
	return sp.out, nil
}

// sampler gathers distinct titulares.
type sampler struct {
	c     *coverage
	n     int
	out   []Identifiers
	owner map[string]int // "kind:value" -> index in out
}

// find returns the titular holding one of ids, or -1.
func (sp *sampler) find(ids Identifiers) int {
	for _, k := range identifierKinds {
		if o, ok := sp.owner[k+":"+ids.Get(k)]; ok && ids.Get(k) != "" {
			return o
		}
	}
	return -1
}

// takeTurns adds titulares from the roots' candidates, the roots taking
// turns, until the sample holds n.
func (sp *sampler) takeTurns(perRoot [][]Identifiers) error {
	for i := 0; len(sp.out) < sp.n; i++ {
		more := false
		for _, cands := range perRoot {
			if i >= len(cands) || len(sp.out) >= sp.n {
				continue
			}
			more = true
			if err := sp.add(cands[i]); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
	return nil
}

// add adds ids to the titular holding one of them, or as a new titular
// with every identifier the CRM links to them (a customer's phone on the
// address she references), so another root's row of the same person joins
// her; ids that share one identifier with a titular and differ in another
// (two people sharing an e-mail) are skipped.
func (sp *sampler) add(ids Identifiers) error {
	j := sp.find(ids)
	if j < 0 {
		linked, err := Linked(sp.c.ctx, sp.c.q, sp.c.m, ids)
		if err != nil {
			return fmt.Errorf("coverage: link a sampled titular's identifiers: %w", err)
		}
		for _, k := range identifierKinds {
			if ids.Get(k) == "" && linked.Get(k) != "" {
				ids = ids.With(k, linked.Get(k))
			}
		}
		j = sp.find(ids)
	}
	if j < 0 {
		j = len(sp.out)
		sp.out = append(sp.out, Identifiers{})
	} else if conflicts(sp.out[j], ids) {
		return nil
	}
	for _, k := range identifierKinds {
		if v := ids.Get(k); v != "" {
			sp.out[j] = sp.out[j].With(k, v)
			sp.owner[k+":"+v] = j
		}
	}
	return nil
}

// conflicts reports whether a and b hold different values of one kind.
func conflicts(a, b Identifiers) bool {
	for _, k := range identifierKinds {
		if x, y := a.Get(k), b.Get(k); x != "" && y != "" && x != y {
			return true
		}
	}
	return false
}

// candidates reads the identifiers of up to about 2n rows of root e: n
// rows spread over the key range in halving order when the key is one
// integer column (each an indexed probe, cheap on a big table), then the
// first rows in key order. Rows without a valid identifier are skipped.
func (c *coverage) candidates(e *datamap.Entity, n int) ([]Identifiers, error) {
	var cols, notNull []string
	for _, mr := range e.Match {
		cols = append(cols, mr.Column)
		notNull = append(notNull, sqlq.QuoteIdent(mr.Column)+" IS NOT NULL")
	}
	cond, args := restrict(e, strings.Join(notNull, " OR "), nil)
	from := " FROM " + sqlq.QuoteIdent(e.Table) + " WHERE "
	order := " ORDER BY " + sqlq.JoinQuoted(e.Key)
	sel := "SELECT " + sqlq.JoinQuoted(append(slices.Clone(e.Key), cols...)) + from
	var out []Identifiers
	seenKey := map[string]bool{}
	take := func(row []any) error {
		k := tupleKey(row[:len(e.Key)])
		if seenKey[k] {
			return nil
		}
		seenKey[k] = true
		var ids Identifiers
		for i, mr := range e.Match {
			if ids.Get(mr.Identifier) != "" {
				continue
			}
			if v, ok := normalizeIdentifier(mr.Identifier, storedText(mr.Identifier, row[len(e.Key)+i])); ok {
				ids = ids.With(mr.Identifier, v)
			}
		}
		if !ids.Empty() {
			out = append(out, ids)
		}
		return nil
	}
	if c.integerKey(e) {
		var lo, hi sql.NullInt64
		//nolint:gosec // G202: only quoted, validated names are concatenated; every value is a bound parameter
		q := "SELECT MIN(" + sqlq.QuoteIdent(e.Key[0]) + "), MAX(" + sqlq.QuoteIdent(e.Key[0]) + ")" + from + cond
		if err := c.q.QueryRowContext(c.ctx, q, args...).Scan(&lo, &hi); err != nil {
			return nil, fmt.Errorf("key range: %w", err)
		}
		if lo.Valid && hi.Valid {
			probe := sel + sqlq.QuoteIdent(e.Key[0]) + " >= ? AND (" + cond + ")" + order + " LIMIT 1"
			probed := map[int64]bool{}
			for i := range n {
				// Halving order (0, 1/2, 1/4, 3/4, …): the few rows a root
				// contributes when several share the sample are spread
				// over its whole range too.
				at := lo.Int64 + int64(halving(i)*float64(hi.Int64-lo.Int64))
				if probed[at] {
					continue
				}
				probed[at] = true
				rows, err := c.q.QueryContext(c.ctx, probe, append([]any{at}, args...)...)
				if err != nil {
					return nil, fmt.Errorf("probe: %w", err)
				}
				if err := eachRow(rows, take); err != nil {
					return nil, err
				}
			}
		}
	}
	//nolint:gosec // G202: only quoted, validated names are concatenated; every value is a bound parameter
	rows, err := c.q.QueryContext(c.ctx, sel+cond+order+" LIMIT ?", append(args, 2*n)...)
	if err != nil {
		return nil, fmt.Errorf("first rows: %w", err)
	}
	if err := eachRow(rows, take); err != nil {
		return nil, err
	}
	return out, nil
}

// storedText turns an identifier kept in a number column into the text it
// stands for: a CPF in a BIGINT lost its leading zeros.
func storedText(kind string, v any) any {
	var s string
	switch x := v.(type) {
	case int64:
		s = strconv.FormatInt(x, 10)
	case Decimal:
		s = string(x)
	default:
		return v
	}
	if kind == "cpf" && len(s) < 11 {
		s = strings.Repeat("0", 11-len(s)) + s
	}
	return s
}

// halving is the i-th fraction of [0, 1) in halving order (the van der
// Corput sequence): 0, 1/2, 1/4, 3/4, 1/8, 3/8, …; every prefix is spread
// over the whole interval.
func halving(i int) float64 {
	f, scale := 0.0, 0.5
	for ; i > 0; i >>= 1 {
		if i&1 == 1 {
			f += scale
		}
		scale /= 2
	}
	return f
}

// integerKey reports whether e's key is one integer column.
func (c *coverage) integerKey(e *datamap.Entity) bool {
	t := c.s.Schema.Tables[e.Table]
	if len(e.Key) != 1 || t == nil {
		return false
	}
	switch t.Columns[e.Key[0]].DataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		return true
	}
	return false
}

// reachSink records the row ids a walk reaches, per table.
type reachSink struct {
	c    *coverage
	i    int
	cur  *datamap.Entity
	seen map[string]map[string]bool
}

func (r *reachSink) BeginEntity(e *datamap.Entity) error { r.cur = e; return nil }
func (r *reachSink) Row([]any) error                     { return errors.New("coverage: keyed rows expected") }
func (r *reachSink) EndEntity(*datamap.Entity, int64) error {
	return nil
}

func (r *reachSink) KeyedRow(key, _, extra []any) error {
	id := key
	if len(extra) > 0 {
		id = extra
	}
	t := r.cur.Table
	k := tupleKey(id)
	if r.seen[t] == nil {
		r.seen[t] = map[string]bool{}
	}
	if r.seen[t][k] {
		return nil // reached through two entities of one table
	}
	r.seen[t][k] = true
	if r.c.reached[t] == nil {
		r.c.reached[t] = map[string][]int{}
	}
	r.c.reached[t][k] = append(r.c.reached[t][k], r.i)
	return nil
}

// walk walks titular i through the map and records the rows it reaches.
func (c *coverage) walk(i int, ids Identifiers) error {
	sink := &reachSink{c: c, i: i, seen: map[string]map[string]bool{}}
	_, err := WalkWith(c.ctx, c.q, c.m, ids, sink, WalkOptions{Extra: func(e *datamap.Entity) []string {
		if id := c.rowID(e.Table); !slices.Equal(id, e.Key) {
			return id
		}
		return nil
	}})
	if err != nil {
		return fmt.Errorf("coverage: walk sampled titular %d: %w", i+1, err)
	}
	for t, rows := range sink.seen {
		if c.perTitular[t] == nil {
			c.perTitular[t] = make([]int64, len(c.subjects))
		}
		c.perTitular[t][i] = int64(len(rows))
	}
	return nil
}

// needle is one stored shape of a sampled titular's identifier.
type needle struct {
	titular int
	kind    string
}

// needles indexes every shape of the sampled identifiers: whole values
// (lower case, for the case-insensitive match e-mails get) and the shortest
// shapes to look for inside text (a shape containing another is left out).
type needles struct {
	exact  map[string][]needle
	digits map[string][]needle // all-digit shapes, leading zeros trimmed
	// inText indexes the shapes to look for inside text by their first
	// three bytes (every shape has at least three).
	inText  map[string][]textNeedle
	exArgs  []any
	numArgs []any
}

type textNeedle struct {
	shape string
	needle
}

func (c *coverage) needles() *needles {
	nd := &needles{exact: map[string][]needle{}, digits: map[string][]needle{}, inText: map[string][]textNeedle{}}
	for i, ids := range c.subjects {
		for _, k := range identifierKinds {
			v := ids.Get(k)
			if v == "" {
				continue
			}
			shapes := LookupValues(k, v)
			for _, sh := range shapes {
				l := strings.ToLower(sh)
				if _, dup := nd.exact[l]; !dup {
					nd.exArgs = append(nd.exArgs, sh)
				}
				nd.exact[l] = append(nd.exact[l], needle{i, k})
				if k != "email" && isDigits(sh) {
					d := strings.TrimLeft(sh, "0")
					if n, err := strconv.ParseInt(d, 10, 64); err == nil {
						if _, dup := nd.digits[d]; !dup {
							nd.numArgs = append(nd.numArgs, n)
						}
						nd.digits[d] = append(nd.digits[d], needle{i, k})
					}
				}
			}
			for _, sh := range shapes {
				if slices.ContainsFunc(shapes, func(o string) bool { return o != sh && strings.Contains(sh, o) }) {
					continue
				}
				l := strings.ToLower(sh)
				if len(l) >= textKey {
					nd.inText[l[:textKey]] = append(nd.inText[l[:textKey]], textNeedle{l, needle{i, k}})
				}
			}
		}
	}
	return nd
}

// union is a followed by the names of b not in a.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// textKey is how many leading bytes index a shape searched inside text.
const textKey = 3

// tableHits are the rows of one table that hold a sampled identifier: per
// row id, per column, the titulares and kinds whose identifier it holds.
type tableHits struct {
	rows    map[string]map[string][]needle
	partial bool
}

// searchable sorts a table's columns into text (compared whole and
// searched inside) and integers (compared whole).
func searchable(t *datamap.Table, order []string) (text, number []string) {
	for _, name := range order {
		switch t.Columns[name].DataType {
		case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
			text = append(text, name)
		case "int", "integer", "bigint", "decimal":
			number = append(number, name)
		}
	}
	return text, number
}

// search finds the rows of t holding a sampled identifier: as the whole
// value of a text or integer column (every row), or inside a text column
// (the first scanRows rows in key order).
func (c *coverage) search(t *datamap.Table) (*tableHits, error) {
	h := &tableHits{rows: map[string]map[string][]needle{}}
	order := c.s.Columns[t.Name]
	if len(order) == 0 {
		order = slices.Sorted(maps.Keys(t.Columns))
	}
	text, number := searchable(t, order)
	free := text
	nd := c.nd
	id := c.rowID(t.Name)
	// Whole values, in chunks of columns that keep each statement's
	// placeholders bounded.
	type colSearch struct {
		col  string
		args []any
	}
	var whole []colSearch
	for _, col := range text {
		whole = append(whole, colSearch{col, nd.exArgs})
	}
	if len(nd.numArgs) > 0 {
		for _, col := range number {
			whole = append(whole, colSearch{col, nd.numArgs})
		}
	}
	for start := 0; start < len(whole); {
		var cols, conds []string
		var args []any
		for ; start < len(whole) && (len(args) == 0 || len(args)+len(whole[start].args) <= maxCoveragePlaceholders); start++ {
			w := whole[start]
			cols = append(cols, w.col)
			conds = append(conds, sqlq.QuoteIdent(w.col)+" IN ("+sqlq.Placeholders(len(w.args))+")")
			args = append(args, w.args...)
		}
		//nolint:gosec // G202: only quoted, surveyed names are concatenated; every value is a bound parameter
		q := "SELECT " + sqlq.JoinQuoted(append(slices.Clone(id), cols...)) + " FROM " + sqlq.QuoteIdent(t.Name) + " WHERE " + strings.Join(conds, " OR ")
		if err := c.collect(h, q, args, id, cols, nd, false); err != nil {
			return nil, fmt.Errorf("coverage: search table %s: %w", t.Name, err)
		}
	}
	if len(free) == 0 || len(nd.inText) == 0 {
		return h, nil
	}
	// Inside free text, bounded by scanRows. The database only passes on
	// the values that could hold an identifier (an '@' or three digits in
	// a row: every shape has one); they are searched here, each against
	// every shape at once, where LIKE would take one pass per shape.
	var more int
	//nolint:gosec // G202: a quoted, surveyed name
	if err := c.q.QueryRowContext(c.ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM "+sqlq.QuoteIdent(t.Name)+" LIMIT ?) AS bounded", c.scanRows+1).Scan(&more); err != nil {
		return nil, fmt.Errorf("coverage: count table %s: %w", t.Name, err)
	}
	h.partial = more > c.scanRows
	var conds []string
	for _, col := range free {
		q := sqlq.QuoteIdent(col)
		conds = append(conds, q+" LIKE '%@%' OR "+q+" REGEXP '[0-9]{3}'")
	}
	sel := sqlq.JoinQuoted(append(slices.Clone(id), free...))
	src := sqlq.QuoteIdent(t.Name)
	where := "(" + strings.Join(conds, " OR ") + ")"
	var args []any
	switch {
	case h.partial && len(id) == 1:
		// The first scanRows rows in key order, bounded by the key of the
		// last: an index range, nothing materialized.
		var last any
		//nolint:gosec // G202: quoted, surveyed names
		err := c.q.QueryRowContext(c.ctx, "SELECT "+sqlq.QuoteIdent(id[0])+" FROM "+src+" ORDER BY "+sqlq.QuoteIdent(id[0])+" LIMIT 1 OFFSET ?", c.scanRows-1).Scan(&last)
		if err != nil {
			return nil, fmt.Errorf("coverage: bound table %s: %w", t.Name, err)
		}
		where += " AND " + sqlq.QuoteIdent(id[0]) + " <= ?"
		args = append(args, last)
	case h.partial:
		// The first scanRows rows: a derived table, in row-id order when
		// there is one.
		inner := "SELECT " + sqlq.JoinQuoted(union(id, free)) + " FROM " + src
		if len(id) > 0 {
			inner += " ORDER BY " + sqlq.JoinQuoted(id)
		}
		src = "(" + inner + " LIMIT " + strconv.Itoa(c.scanRows) + ") AS bounded"
	}
	//nolint:gosec // G202: only quoted, surveyed names are concatenated; every value is a bound parameter
	q := "SELECT " + sel + " FROM " + src + " WHERE " + where
	if err := c.collect(h, q, args, id, free, nd, true); err != nil {
		return nil, fmt.Errorf("coverage: search free text of table %s: %w", t.Name, err)
	}
	return h, nil
}

// collect runs a search and attributes each row's columns to the sampled
// titulares whose identifier they hold; inText also looks inside values.
func (c *coverage) collect(h *tableHits, q string, args []any, id, cols []string, nd *needles, inText bool) error {
	rows, err := c.q.QueryContext(c.ctx, q, args...)
	if err != nil {
		return err
	}
	return eachRow(rows, func(row []any) error {
		var k string
		if len(id) > 0 {
			k = tupleKey(row[:len(id)])
		} else {
			k = tupleKey(row) // no key: identical rows count once
		}
		for j, col := range cols {
			found := nd.match(row[len(id)+j], inText)
			if len(found) == 0 {
				continue
			}
			if h.rows[k] == nil {
				h.rows[k] = map[string][]needle{}
			}
			for _, f := range found {
				if !slices.Contains(h.rows[k][col], f) {
					h.rows[k][col] = append(h.rows[k][col], f)
				}
			}
		}
		return nil
	})
}

// match returns whose identifiers v holds: as its whole value (text
// compared without case and trailing spaces, as the column's collation
// does; integers by digits) or, when inText, anywhere inside it.
func (nd *needles) match(v any, inText bool) []needle {
	switch x := v.(type) {
	case int64:
		return nd.digits[strconv.FormatInt(x, 10)]
	case Decimal:
		return nd.digits[strings.TrimLeft(string(x), "0")]
	case []byte:
		v = string(x)
	}
	s, ok := v.(string)
	if !ok {
		return nil
	}
	l := strings.ToLower(strings.TrimRight(s, " "))
	out := slices.Clone(nd.exact[l])
	if inText {
		for i := 0; i+textKey <= len(l); i++ {
			for _, t := range nd.inText[l[i:i+textKey]] {
				if strings.HasPrefix(l[i:], t.shape) && !slices.Contains(out, t.needle) {
					out = append(out, t.needle)
				}
			}
		}
	}
	return out
}

// table builds one table's line from the walks and the search.
func (c *coverage) table(name string, entities []string, h *tableHits) TableCoverage {
	tc := TableCoverage{Table: name, Entities: entities, UnreachedColumns: []ColumnCount{}}
	if tc.Entities == nil {
		tc.Entities = []string{}
	}
	reached := c.reached[name]
	tc.ReachedRows = int64(len(reached))
	per := slices.Clone(c.perTitular[name])
	if per == nil {
		per = make([]int64, len(c.subjects))
	}
	for _, n := range per {
		if n > 0 {
			tc.TitularesReached++
		}
	}
	slices.Sort(per)
	tc.MaxPerTitular = per[len(per)-1]
	if mid := len(per) / 2; len(per)%2 == 1 {
		tc.MedianPerTitular = float64(per[mid])
	} else {
		tc.MedianPerTitular = float64(per[mid-1]+per[mid]) / 2
	}
	if h == nil {
		return tc
	}
	tc.Partial = h.partial
	tc.IdentifierRows = int64(len(h.rows))
	type colAcc struct {
		rows  int64
		kinds map[string]bool
	}
	cols := map[string]*colAcc{}
	for k, byCol := range h.rows {
		by := reached[k]
		rowUnreached := false
		for col, found := range byCol {
			var kinds []string
			for _, f := range found {
				if !slices.Contains(by, f.titular) {
					kinds = append(kinds, f.kind)
				}
			}
			if len(kinds) == 0 {
				continue
			}
			rowUnreached = true
			a := cols[col]
			if a == nil {
				a = &colAcc{kinds: map[string]bool{}}
				cols[col] = a
			}
			a.rows++
			for _, kd := range kinds {
				a.kinds[kd] = true
			}
		}
		if rowUnreached {
			tc.UnreachedRows++
		}
	}
	for _, col := range slices.Sorted(maps.Keys(cols)) {
		var kinds []string
		for _, k := range identifierKinds {
			if cols[col].kinds[k] {
				kinds = append(kinds, k)
			}
		}
		tc.UnreachedColumns = append(tc.UnreachedColumns, ColumnCount{Column: col, Kinds: kinds, Rows: cols[col].rows})
	}
	sort.SliceStable(tc.UnreachedColumns, func(a, b int) bool {
		return tc.UnreachedColumns[a].Rows > tc.UnreachedColumns[b].Rows
	})
	return tc
}

// Summary is the report in one paragraph a DPO can sign: how many
// titulares, what the map reaches, what holds their identifiers unreached
// (unmapped tables first) and how many personal-looking columns no entity
// reads. Counts and names only.
func (r *CoverageReport) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the map reaches %s in %s; ", count(int64(r.Titulares), "sampled titular", "sampled titulares"),
		count(r.Reached.Rows, "row", "rows"), count(int64(r.Reached.Tables), "table", "tables"))
	if r.Unreached.Rows == 0 {
		b.WriteString("no other row holds their identifiers")
	} else {
		fmt.Fprintf(&b, "%s in %s %s their identifiers but %s not reached: ", count(r.Unreached.Rows, "row", "rows"),
			count(int64(r.Unreached.Tables), "table", "tables"), plural(r.Unreached.Rows, "holds", "hold"), plural(r.Unreached.Rows, "is", "are"))
		var parts []string
		for _, unmapped := range []bool{true, false} {
			for _, t := range r.unreachedTables() {
				if (len(t.Entities) == 0) != unmapped {
					continue
				}
				cols := make([]string, len(t.UnreachedColumns))
				for i, cc := range t.UnreachedColumns {
					cols[i] = cc.Column
				}
				what := "table " + t.Table
				if unmapped {
					what = "unmapped table " + t.Table
				}
				parts = append(parts, fmt.Sprintf("%s in %s (%s)", thousands(t.UnreachedRows), what, strings.Join(cols, ", ")))
			}
		}
		b.WriteString(strings.Join(parts, "; "))
	}
	switch len(r.UnreadColumns) {
	case 0:
		b.WriteString(". Every personal-looking column is read by the map.")
	case 1:
		b.WriteString(". 1 personal-looking column is read by no entity.")
	default:
		fmt.Fprintf(&b, ". %s personal-looking columns are read by no entity.", thousands(int64(len(r.UnreadColumns))))
	}
	return b.String()
}

// unreachedTables are the tables with unreached rows, most first.
func (r *CoverageReport) unreachedTables() []TableCoverage {
	var out []TableCoverage
	for _, t := range r.Tables {
		if t.UnreachedRows > 0 {
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].UnreachedRows > out[b].UnreachedRows })
	return out
}

// count is n and the noun that fits it: "1 row", "1,234 rows".
func count(n int64, one, many string) string { return thousands(n) + " " + plural(n, one, many) }

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands renders n with comma thousands separators (1,234).
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
