package datamap

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// node is one table as discovery sees it.
type node struct {
	t      *Table
	cols   []string
	det    map[string]detection
	key    []string
	ids    map[string][]string // identifier kind -> matchable columns
	prefix string              // person prefix of an organisation's row
	out    []ForeignKey        // foreign keys from this table

	entity   bool
	rank     int // 0 for roots; a child's parent has a lower rank
	personal int // columns that look personal, for tie-breaks
	parent   *edge
	others   []string // other tables it links to, for the note
}

// edge links a child table to its parent.
type edge struct {
	parent  string
	on      []ColumnPair
	notNull bool
	reverse bool // reached backwards through a join table
}

type graph struct {
	s     *Survey
	nodes map[string]*node
	order []string // table names, sorted
}

func newGraph(s *Survey) *graph {
	g := &graph{s: s, nodes: map[string]*node{}}
	for _, name := range slices.Sorted(maps.Keys(s.Schema.Tables)) {
		if ownTable(name) {
			continue
		}
		t := s.Schema.Tables[name]
		n := &node{t: t, cols: columnOrder(s, t), det: map[string]detection{}, key: tableKey(t), ids: map[string][]string{}}
		var idCols []string
		for _, c := range n.cols {
			col := t.Columns[c]
			d, ok := detect(col, s.Samples[name][c])
			if !ok {
				continue
			}
			n.det[c] = d
			if d.kind != kindCNPJ {
				n.personal++
			}
			switch d.kind {
			case kindCPF, kindEmail, kindPhone:
				if d.confidence != "low" && col.class() == classText && (col.MaxLength == 0 || col.MaxLength >= minMatchLength(d.kind)) {
					n.ids[d.kind] = append(n.ids[d.kind], c)
					idCols = append(idCols, c)
				}
			}
		}
		n.prefix = personPrefix(idCols)
		n.entity = len(n.ids) > 0 && len(n.key) > 0
		g.nodes[name] = n
		g.order = append(g.order, name)
	}
	for _, fk := range s.ForeignKeys {
		if n := g.nodes[fk.Table]; n != nil && g.nodes[fk.RefTable] != nil {
			n.out = append(n.out, fk)
		}
	}
	return g
}

// ownsRows reports whether a table's rows belong to a person, so rows that
// point at them are that person's too. An organisation's row with a
// person's contact under a prefix does not, unless it hangs off a person.
func (g *graph) ownsRows(n *node) bool {
	if !n.entity {
		return false
	}
	if n.rank > 0 || n.prefix == "" {
		return true
	}
	for _, fk := range n.out {
		if p := g.nodes[fk.RefTable]; p != n && p.entity && p.rank == 0 && p.prefix == "" && g.notNull(fk) {
			return true
		}
	}
	return false
}

func (g *graph) notNull(fk ForeignKey) bool {
	t := g.nodes[fk.Table].t
	for _, c := range fk.Columns {
		if t.Columns[c].Nullable {
			return false
		}
	}
	return true
}

// isJoin reports a table whose key is made of the columns of two or more
// foreign keys: a link between rows of other tables.
func (g *graph) isJoin(n *node) bool {
	for _, key := range append([][]string{n.t.PrimaryKey}, n.t.Unique...) {
		if len(key) < 2 {
			continue
		}
		covered, fks := map[string]bool{}, 0
		for _, fk := range n.out {
			if len(fk.Columns) > 0 && !slices.ContainsFunc(fk.Columns, func(c string) bool { return !slices.Contains(key, c) }) {
				fks++
				for _, c := range fk.Columns {
					covered[c] = true
				}
			}
		}
		if fks >= 2 && len(covered) == len(key) {
			return true
		}
	}
	return false
}

// candidates lists the edges that could make n a child, best first.
func (g *graph) candidates(n *node) []edge {
	var out []edge
	for _, fk := range n.out {
		p := g.nodes[fk.RefTable]
		if p == n || !g.ownsRows(p) || (n.rank > 0 && p.rank >= n.rank) {
			continue
		}
		e := edge{parent: p.t.Name, notNull: g.notNull(fk)}
		for i, c := range fk.Columns {
			e.on = append(e.on, ColumnPair{Child: c, Parent: fk.RefColumns[i]})
		}
		out = append(out, e)
	}
	// Backwards through join tables that point at n.
	for _, name := range g.order {
		j := g.nodes[name]
		if !j.entity || j == n || !g.isJoin(j) || (n.rank > 0 && j.rank >= n.rank) {
			continue
		}
		for _, fk := range j.out {
			if fk.RefTable != n.t.Name {
				continue
			}
			e := edge{parent: name, notNull: true, reverse: true}
			for i, c := range fk.RefColumns {
				e.on = append(e.on, ColumnPair{Child: c, Parent: fk.Columns[i]})
			}
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b edge) int {
		pa, pb := g.nodes[a.parent], g.nodes[b.parent]
		return cmp.Or(
			boolFirst(a.notNull, b.notNull),
			boolFirst(pa.rank == 0, pb.rank == 0),
			cmp.Compare(pb.personal, pa.personal),
			cmp.Compare(a.parent, b.parent))
	})
	return out
}

func boolFirst(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// grow adds, rank by rank, the tables linked to the entities found so far.
func (g *graph) grow() {
	for rank := 1; ; rank++ {
		var added []*node
		for _, name := range g.order {
			n := g.nodes[name]
			if n.entity || len(n.key) == 0 {
				continue
			}
			n.rank = rank // candidates only accept parents of a lower rank
			if len(g.candidates(n)) > 0 {
				added = append(added, n)
			}
		}
		if len(added) == 0 {
			return
		}
		for _, n := range added {
			n.entity = true
		}
	}
}

// chooseParents gives every child its best edge, then lets roots hang off
// another person's table where that makes no cycle (a lead converted into a
// pessoa, a sale of a pessoa), people's own tables first.
func (g *graph) chooseParents() {
	var roots []*node
	for _, name := range g.order {
		n := g.nodes[name]
		if !n.entity {
			continue
		}
		if n.rank > 0 {
			c := g.candidates(n)
			n.parent = &c[0]
			n.others = otherParents(c[1:])
			continue
		}
		roots = append(roots, n)
	}
	slices.SortStableFunc(roots, func(a, b *node) int { return cmp.Compare(b.personal, a.personal) })
	for _, n := range roots {
		c := g.candidates(n)
		for i, e := range c {
			if !g.reaches(e.parent, n.t.Name) {
				n.parent = &c[i]
				n.others = otherParents(append(slices.Clone(c[:i]), c[i+1:]...))
				break
			}
		}
	}
}

// reaches reports whether following parents from table from arrives at to.
func (g *graph) reaches(from, to string) bool {
	for seen := 0; from != "" && seen <= len(g.nodes); seen++ {
		if from == to {
			return true
		}
		n := g.nodes[from]
		if n.parent == nil {
			return false
		}
		from = n.parent.parent
	}
	return true
}

func otherParents(es []edge) []string {
	var out []string
	for _, e := range es {
		if !slices.Contains(out, e.parent) {
			out = append(out, e.parent)
		}
	}
	return out
}

// draft turns the graph into a map, notes and unplaced findings.
func (g *graph) draft() *Draft {
	d := &Draft{Map: &Map{Version: 1}, Notes: map[string]string{}}
	used := map[string]bool{}
	var ents []*node
	for _, name := range g.order {
		if n := g.nodes[name]; n.entity {
			ents = append(ents, n)
		} else {
			d.Unplaced = append(d.Unplaced, g.unplaced(n)...)
		}
	}
	slices.SortStableFunc(ents, func(a, b *node) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(b.personal, a.personal), cmp.Compare(a.t.Name, b.t.Name))
	})
	for _, n := range ents {
		e := g.entity(n, d)
		for _, r := range e.Match {
			used[r.Identifier] = true
		}
		d.Map.Entities = append(d.Map.Entities, e)
	}
	for _, id := range identifierNames() {
		if used[id] {
			d.Map.Identifiers = append(d.Map.Identifiers, id)
		}
	}
	return d
}

func (g *graph) entity(n *node, d *Draft) *Entity {
	e := &Entity{Name: n.t.Name, Table: n.t.Name, Key: n.key}
	var notes []string
	for _, id := range identifierNames() {
		if cols := n.ids[id]; len(cols) > 0 {
			c := bestMatch(id, cols)
			e.Match = append(e.Match, MatchRule{Identifier: id, Column: c})
			notes = append(notes, fmt.Sprintf("matched by %s in %s (%s)", id, c, n.det[c].confidence))
		}
	}
	skip := map[string]bool{}
	for _, k := range n.key {
		skip[k] = true
	}
	if p := n.parent; p != nil {
		e.Parent = &Parent{Entity: p.parent, On: p.on}
		how := "a foreign key"
		if p.reverse {
			how = "the join table " + p.parent
		}
		notes = append(notes, "rows belong to the titular of "+p.parent+" through "+how)
		for _, on := range p.on {
			skip[on.Child] = true
		}
	}
	if len(n.others) > 0 {
		notes = append(notes, "also linked to "+strings.Join(n.others, ", ")+"; add an entity per link whose rows are also that person's data")
	}
	if n.prefix != "" && n.parent == nil {
		notes = append(notes, "an organisation's row: only the "+n.prefix+"* columns are the person's")
	}
	d.Notes[e.Name] = strings.Join(notes, "; ")
	cc := g.context(n)
	for _, c := range n.cols {
		if skip[c] {
			continue
		}
		cctx := cc
		cctx.outside = n.prefix != "" && n.parent == nil && !strings.HasPrefix(c, n.prefix)
		g.columnFK(n, c, &cctx)
		det, ok := n.det[c]
		f, note := suggest(n.t.Columns[c], g.s.Samples[n.t.Name][c], det, ok, cctx)
		e.Fields = append(e.Fields, f)
		d.Notes[e.Name+"."+c] = note
	}
	return e
}

// context is what holds for every column of the table.
func (g *graph) context(n *node) columnContext {
	var cc columnContext
	for _, c := range n.cols {
		toks := tokens(c)
		if hasStem(toks, "logradouro", "endereco", "address", "street", "bairro", "cep", "zip") {
			cc.address = true
		}
	}
	cc.documents = hasStem(tokens(n.t.Name), "documento", "document", "arquivo", "attachment", "anexo", "file")
	return cc
}

// columnFK fills in the foreign key column c belongs to.
func (g *graph) columnFK(n *node, c string, cc *columnContext) {
	for i, fk := range n.out {
		if slices.Contains(fk.Columns, c) {
			cc.fk = &n.out[i]
			p := g.nodes[fk.RefTable]
			cc.selfRef = p == n
			cc.fkPerson = !cc.selfRef && p.entity && p.rank == 0 && p.prefix == ""
			cc.personTable = fk.RefTable
			return
		}
	}
}

// bestMatch picks the column to match an identifier on: for phones the
// mobile one (celular, mobile, whatsapp), else the first.
func bestMatch(id string, cols []string) string {
	if id == kindPhone {
		for _, c := range cols {
			if hasStem(tokens(c), "celular", "mobile", "whatsapp", "cel") {
				return c
			}
		}
	}
	return cols[0]
}

// unplaced lists a table's personal-looking columns when the table did not
// become an entity.
func (g *graph) unplaced(n *node) []Finding {
	reason := "table " + n.t.Name + " has no identifier column and no foreign key to a titular's table"
	if len(n.ids) > 0 && len(n.key) == 0 {
		reason = "table " + n.t.Name + " holds identifiers but has no primary or unique key to tell rows apart"
	}
	var out []Finding
	for _, c := range n.cols {
		if det, ok := n.det[c]; ok && strong(det) {
			out = append(out, Finding{Table: n.t.Name, Column: c, Kind: det.kind, Reason: det.reason + "; " + reason})
		}
	}
	return out
}
