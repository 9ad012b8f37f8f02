package datamap

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// node is one entity candidate: a table, or the rows of a polymorphic
// link table of one type (where).
type node struct {
	name  string
	t     *Table
	where []Condition
	base  *node // the table's node; itself for a table
	cols  []string
	det   map[string]detection
	key   []string
	ids   map[string][]string // identifier kind -> matchable columns
	// sharedIDs notes identifier-looking columns not matched on because one
	// value fills many sampled rows (a company's sender address).
	sharedIDs []string
	prefix    string  // person prefix of an organisation's row
	out       []*rel  // relations from this node's rows
	in        []*rel  // relations into this table's key
	virt      []*node // polymorphic split nodes of this table

	root     bool
	entity   bool
	rank     int // 0 for roots; a child's parent has a lower rank
	personal int // columns that look personal, for tie-breaks
	parent   *edge
	others   []string // other tables it links to, for the note
	up       bool     // hung from a row that references it
	shared   string   // why the table is shared context
}

// rel is a relation kept by discovery.
type rel struct {
	r        *Relation
	from, to *node
	conf     string
	why      string
}

// edge links a child to its parent.
type edge struct {
	parent  string
	on      []ColumnPair
	notNull bool
	up      bool // the parent's row references the child's
	rel     *rel
	rows    int
}

type graph struct {
	s       *Survey
	rels    []Relation
	nodes   map[string]*node
	order   []*node
	context []string // tables left out, and why
}

func newGraph(s *Survey) *graph {
	g := &graph{s: s, nodes: map[string]*node{}, rels: s.Relations}
	if g.rels == nil {
		g.rels = Relations(s)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Schema.Tables)) {
		if ownTable(name) {
			continue
		}
		t := s.Schema.Tables[name]
		n := &node{name: name, t: t, cols: columnOrder(s, t), det: map[string]detection{}, key: tableKey(t), ids: map[string][]string{}}
		n.base = n
		var idCols []string
		for _, c := range n.cols {
			col := t.Columns[c]
			d, ok := detect(col, s.Samples[name][c])
			if !ok {
				continue
			}
			if linkName(c) && d.kind != kindFreeText && d.confidence != "high" {
				continue // an id or link column is not an identifier, whatever its name says
			}
			n.det[c] = d
			if d.kind != kindCNPJ {
				n.personal++
			}
			switch d.kind {
			case kindCPF, kindEmail, kindPhone:
				if d.confidence != "low" && col.class() == classText && (col.MaxLength == 0 || col.MaxLength >= minMatchLength(d.kind)) {
					if why := sharedValue(s.Samples[name][c]); why != "" {
						n.sharedIDs = append(n.sharedIDs, c+" "+why+": a shared address (the company's), not a titular's, so not matched on")
						continue
					}
					n.ids[d.kind] = append(n.ids[d.kind], c)
					idCols = append(idCols, c)
				}
			}
		}
		if len(n.ids) >= 2 { // gerente_cpf and gerente_email; not phone_mobile and phone_work
			n.prefix = personPrefix(idCols)
		}
		n.root = len(n.ids) > 0 && len(n.key) > 0
		n.entity = n.root
		g.nodes[name] = n
		g.order = append(g.order, n)
	}
	for i := range g.rels {
		r := &g.rels[i]
		from, to := g.nodes[r.Table], g.nodes[r.RefTable]
		if from == nil || to == nil {
			continue
		}
		conf, why := r.confidence()
		if conf == "dropped" {
			g.context = append(g.context, fmt.Sprintf("%s.%s -> %s not used: %s", r.Table, strings.Join(r.Columns, ","), r.RefTable, why))
			continue
		}
		if len(r.Where) > 0 {
			name := r.Table + "_" + typeValueStem(r.Where[0].Value)
			v := g.nodes[name]
			if v == nil {
				v = &node{name: name, t: from.t, where: r.Where, base: from, cols: from.cols, det: from.det, key: from.key, ids: map[string][]string{}}
				g.nodes[name] = v
				g.order = append(g.order, v)
				from.virt = append(from.virt, v)
			}
			from = v
		}
		x := &rel{r: r, from: from, to: to, conf: conf, why: why}
		from.out = append(from.out, x)
		to.in = append(to.in, x)
	}
	// A split node also has its table's other relations.
	for _, n := range g.order {
		if n.base != n {
			for _, x := range n.base.out {
				y := *x
				y.from = n
				n.out = append(n.out, &y)
			}
		}
	}
	g.markShared()
	return g
}

// linkName reports an id or link column by its name (contact_id, idpessoa,
// uuid).
func linkName(c string) bool {
	return idStem(c) != "" || hasToken(tokens(c), "id", "uuid", "guid")
}

// persons is how many distinct people reference one row of x's referenced
// table through x, over the sample: the referencing rows themselves when
// they are people's rows (a root), else the distinct values of the
// referencing table's other references to people. ok is false when
// nothing measures it.
func (g *graph) persons(x *rel) (sp Spread, via string, ok bool) {
	f := x.r.Figures
	if f == nil || f.Rows == 0 {
		return Spread{}, "", false
	}
	if x.from.base.root {
		return f.PerValue, x.r.Table, true
	}
	for j, o := range f.Others {
		q := g.nodes[g.rels[j].RefTable]
		if q == nil || !q.root || q == x.to || (ok && o.Max <= sp.Max) {
			continue
		}
		sp, via, ok = o, g.rels[j].RefTable, true
	}
	return sp, via, ok
}

// orgNames are tables whose rows are an organisation's context, by name,
// used when no sample measures it.
var orgNames = []string{"store", "loja", "branch", "filial", "agencia", "agency", "office", "escritorio", "product", "produto",
	"user", "usuario", "employee", "funcionario", "staff", "company", "empresa", "category", "categoria", "country", "pais", "city", "cidade"}

// markShared marks the tables many people reference (a store, a branch, a
// CRM user): shared context, never a child, never followed downward.
func (g *graph) markShared() {
	for _, n := range g.order {
		if n.base != n || n.root {
			continue
		}
		measured := false
		for _, x := range n.in {
			sp, via, ok := g.persons(x)
			if !ok {
				continue
			}
			measured = true
			if x.from.base.root && sp.Max > fewPersons {
				n.shared = fmt.Sprintf("each row referenced by up to %d sampled %s rows (median %d): shared context, not followed", sp.Max, via, sp.Median)
				break
			}
		}
		if n.shared == "" && !measured && len(n.in) > 0 && hasStem([]string{singular(fold(n.t.Name))}, orgNames...) {
			n.shared = "the table's name says an organisation's context (no sample to measure): not followed"
		}
		if n.shared != "" {
			g.context = append(g.context, n.t.Name+": "+n.shared)
		}
	}
}

// ownsRows reports whether a node's rows belong to a person, so rows that
// point at them are that person's too. An organisation's row with a
// person's contact under a prefix does not, unless it hangs off a person.
func (g *graph) ownsRows(n *node) bool {
	if !n.entity {
		return false
	}
	if n.rank > 0 || n.prefix == "" {
		return true
	}
	for _, x := range n.out {
		if p := x.to; p != n && p.root && p.prefix == "" && g.notNull(x) {
			return true
		}
	}
	return false
}

func (g *graph) notNull(x *rel) bool {
	for _, c := range x.r.Columns {
		if x.from.t.Columns[c].Nullable {
			return false
		}
	}
	return true
}

// isJoin reports a table whose key is made of the columns of two or more
// relations, or whose columns are references to two tables and nothing
// else but dates and flags: a link between rows of other tables.
func (g *graph) isJoin(n *node) bool {
	refs, covered := map[string]bool{}, map[string]bool{}
	for _, x := range n.base.out {
		refs[x.r.RefTable] = true
		for _, c := range x.r.Columns {
			covered[c] = true
		}
	}
	if len(refs) < 2 {
		return false
	}
	rest := 0
	for _, c := range n.cols {
		if !covered[c] && !slices.Contains(n.key, c) && n.t.Columns[c].class() != classDate && !hasToken(tokens(c), "deleted", "active", "ativo") {
			rest++
		}
	}
	if rest == 0 && len(refs) == 2 {
		return true
	}
	key := n.t.PrimaryKey
	return len(key) >= 2 && !slices.ContainsFunc(key, func(c string) bool { return !covered[c] })
}

// downShared reports a reference to a person that is the other side of
// the row: one staff row referenced by payments of hundreds of customers,
// while each customer's payments reference few staff.
func (g *graph) downShared(x *rel) (string, bool) {
	sp, via, ok := g.persons(x)
	if !ok || sp.Max <= fewPersons {
		return "", false
	}
	for _, y := range x.from.out {
		if y == x || !y.to.root {
			continue
		}
		if o, _, ok := g.persons(y); ok && o.Median < sp.Median {
			return fmt.Sprintf("the %s rows of one %s reference up to %d distinct sampled %s (median %d)", x.r.Table, x.r.RefTable, sp.Max, via, sp.Median), true
		}
	}
	return "", false
}

// upOK reports whether a row the person's row references is the person's
// too: few people share it, and it holds personal data (an address), or it
// is reached through a join table.
func (g *graph) upOK(x *rel, n *node) bool {
	if n.shared != "" {
		return false
	}
	join := g.isJoin(x.from)
	if !join && n.personal == 0 && !g.columnsContext(n).address {
		return false
	}
	sp, _, ok := g.persons(x)
	if !ok && x.r.Figures != nil && x.r.Figures.Rows > 0 {
		sp, ok = x.r.Figures.PerValue, true
	}
	if ok {
		return sp.Max <= fewPersons
	}
	return join || (len(x.r.Columns) == 1 && UniqueColumn(x.from.t, x.r.Columns[0]))
}

// candidates lists the edges that could make n a child, best first.
func (g *graph) candidates(n *node) []edge {
	if n.shared != "" || (n.base == n && len(n.virt) > 0 && !n.root) {
		return nil
	}
	var out []edge
	for _, x := range n.out {
		targets := []*node{x.to}
		if len(x.to.virt) > 0 {
			targets = x.to.virt
		}
		for _, p := range targets {
			if p == n || p == n.base || !g.ownsRows(p) || (n.rank > 0 && p.rank >= n.rank) || (n.root && p.up) {
				continue
			}
			if _, shared := g.downShared(x); shared {
				continue
			}
			if n.base != n && len(x.r.Where) == 0 && slices.ContainsFunc(n.out, func(y *rel) bool { return len(y.r.Where) > 0 && y.to == x.to }) {
				continue // the typed link (parent_id) says whose row it is, not a side column to the same table
			}
			e := edge{parent: p.name, notNull: g.notNull(x), rel: x}
			for i, c := range x.r.Columns {
				e.on = append(e.on, ColumnPair{Child: c, Parent: x.r.RefColumns[i]})
			}
			out = append(out, e)
		}
	}
	if n.base == n {
		for _, x := range n.in {
			o := x.from
			if o.base == n || !g.ownsRows(o) || o.up || (n.rank > 0 && o.rank >= n.rank) || !g.upOK(x, n) {
				continue
			}
			e := edge{parent: o.name, notNull: true, up: true, rel: x}
			if x.r.Figures != nil {
				e.rows = x.r.Figures.Rows
			}
			for i, c := range x.r.RefColumns {
				e.on = append(e.on, ColumnPair{Child: c, Parent: x.r.Columns[i]})
			}
			out = append(out, e)
		}
	}
	// A typed row (notes of type Leads) that also names a person in a side
	// column (contact_id) belongs to the row its type names: the side
	// column names who else it concerns. A link row whose other reference
	// is no person's record (an e-mail address) hangs off that instead.
	person := func(e edge) bool { return !e.up && g.hasNames(g.nodes[e.parent]) }
	typed := func(e edge) bool {
		return n.base != n && len(e.rel.r.Where) > 0 && person(e) &&
			slices.ContainsFunc(out, func(o edge) bool { return len(o.rel.r.Where) == 0 && person(o) })
	}
	slices.SortStableFunc(out, func(a, b edge) int {
		pa, pb := g.nodes[a.parent], g.nodes[b.parent]
		return cmp.Or(
			boolFirst(!a.up, !b.up),
			boolFirst(typed(a), typed(b)),
			// A polymorphic link row hangs off the row it links from (the
			// e-mail address) so the typed row (the contact) can hang off it.
			boolFirst(len(a.rel.r.Where) == 0 || a.up, len(b.rel.r.Where) == 0 || b.up),
			boolFirst(len(a.rel.r.Where) > 0, len(b.rel.r.Where) > 0),
			boolFirst(a.notNull, b.notNull),
			boolFirst(pa.rank == 0, pb.rank == 0),
			cmp.Compare(b.rows, a.rows),
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

// grow adds, rank by rank, the nodes linked to the entities found so far.
func (g *graph) grow() {
	for rank := 1; ; rank++ {
		var added []*node
		for _, n := range g.order {
			if n.entity || len(n.key) == 0 {
				continue
			}
			n.rank = rank // candidates only accept parents of a lower rank
			if c := g.candidates(n); len(c) > 0 {
				added = append(added, n)
			}
		}
		if len(added) == 0 {
			return
		}
		for _, n := range added {
			n.entity = true
			n.up = g.candidates(n)[0].up
		}
	}
}

// chooseParents gives every child its best edge, then lets roots hang off
// another person's rows where that makes no cycle (a lead converted into a
// contact, an address a customer references), detail tables first (fewer
// names and identifiers), and drops polymorphic links whose typed rows are
// not followed (an e-mail's link to a CRM user).
func (g *graph) chooseParents() {
	var roots []*node
	kids := slices.Clone(g.order)
	slices.SortStableFunc(kids, func(a, b *node) int { return cmp.Compare(a.rank, b.rank) })
	for _, n := range kids {
		if !n.entity {
			continue
		}
		if n.root {
			roots = append(roots, n)
			continue
		}
		c := g.candidates(n)
		if len(c) == 0 {
			n.entity = false
			continue
		}
		n.parent = &c[0]
		n.up = c[0].up
		n.others = otherParents(c[1:])
	}
	slices.SortStableFunc(roots, func(a, b *node) int {
		return cmp.Or(boolFirst(!g.hasNames(a), !g.hasNames(b)), cmp.Compare(len(a.ids), len(b.ids)), cmp.Compare(a.personal, b.personal))
	})
	for _, n := range roots {
		c := g.candidates(n)
		for i, e := range c {
			if !g.reaches(e.parent, n.name) {
				n.parent = &c[i]
				n.up = e.up
				n.others = otherParents(append(slices.Clone(c[:i]), c[i+1:]...))
				break
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, n := range g.order {
			if !n.entity || n.base == n || n.parent == nil || len(n.parent.rel.r.Where) > 0 ||
				slices.ContainsFunc(n.out, func(x *rel) bool { return len(x.r.Where) > 0 && x.to.entity }) {
				continue
			}
			if !slices.ContainsFunc(g.order, func(k *node) bool { return k.entity && k.parent != nil && k.parent.parent == n.name }) {
				n.entity, changed = false, true
			}
		}
	}
}

// hasNames reports a table with columns of people's names.
func (g *graph) hasNames(n *node) bool {
	for _, c := range n.cols {
		if d, ok := n.det[c]; (ok && d.kind == kindName) || personName(tokens(c)) {
			return true
		}
	}
	return false
}

// reaches reports whether following parents from node from arrives at to.
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
	d := &Draft{Map: &Map{Version: 1}, Notes: map[string]string{}, Context: g.context}
	used := map[string]bool{}
	var ents []*node
	for _, n := range g.order {
		if n.entity {
			ents = append(ents, n)
		} else if n.base == n && !slices.ContainsFunc(n.virt, func(v *node) bool { return v.entity }) {
			d.Unplaced = append(d.Unplaced, g.unplaced(n)...)
		}
	}
	slices.SortStableFunc(ents, func(a, b *node) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(b.personal, a.personal), cmp.Compare(a.name, b.name))
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

// linkColumns are the columns of n's table that join rows: every
// relation's columns and polymorphic type columns.
func (g *graph) linkColumns(n *node) map[string]string {
	out := map[string]string{}
	for _, x := range n.base.out {
		for _, c := range x.r.Columns {
			out[c] = "refers to " + x.r.RefTable
		}
		for _, w := range x.r.Where {
			out[w.Column] = "the type column of a polymorphic link"
		}
	}
	for _, v := range n.base.virt {
		for _, x := range v.out {
			for _, c := range x.r.Columns {
				out[c] = "refers to " + x.r.RefTable
			}
			for _, w := range x.r.Where {
				out[w.Column] = "the type column of a polymorphic link"
			}
		}
	}
	for _, x := range n.base.in {
		for _, c := range x.r.RefColumns {
			out[c] = "referenced by " + x.r.Table
		}
	}
	return out
}

func (g *graph) entity(n *node, d *Draft) *Entity {
	e := &Entity{Name: n.name, Table: n.t.Name, Key: n.key, Where: n.where}
	var notes []string
	notes = append(notes, n.sharedIDs...)
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
		x := p.rel
		how := fmt.Sprintf("%s.%s -> %s (%s: %s)", x.r.Table, strings.Join(x.r.Columns, ","), x.r.RefTable, x.conf, x.why)
		if p.up {
			notes = append(notes, "a row the titular's "+p.parent+" row references, that few people share: "+how+g.personsNote(x))
		} else {
			notes = append(notes, "rows reference the titular's "+p.parent+" row: "+how+g.personsNote(x))
		}
		if g.isJoin(p.rel.from) && p.up {
			notes = append(notes, p.parent+" is a join table")
		}
	}
	if g.isJoin(n) {
		notes = append(notes, "a join table (two references, little else)")
	}
	if len(n.others) > 0 {
		notes = append(notes, "also linked to "+strings.Join(n.others, ", ")+"; add an entity per link whose rows are also that person's data")
	}
	if n.prefix != "" && n.parent == nil {
		notes = append(notes, "an organisation's row: only the "+n.prefix+"* columns are the person's")
	}
	for _, x := range n.out {
		if why, shared := g.downShared(x); shared {
			notes = append(notes, x.r.RefTable+" not followed: "+why+", shared context")
		}
	}
	d.Notes[e.Name] = strings.Join(notes, "; ")
	links := g.linkColumns(n)
	cc := g.columnsContext(n)
	for _, c := range n.cols {
		if skip[c] {
			continue
		}
		col := n.t.Columns[c]
		if ref := g.personRef(n, c); ref != nil && !slices.ContainsFunc(n.where, func(w Condition) bool { return w.Column == c }) {
			f := Field{Column: c, Label: humanize(c), Category: "identificacao", Anonymizer: &AnonymizerRef{Name: "nullify"}}
			note := "low: identifies another person (" + ref.RefTable + "); make it contexto if it only names who was in charge"
			if ref.RefTable == n.t.Name {
				f.Category, note = "familiar", "medium: links the row to another row of the same table, another titular (a spouse?); mapped, not followed"
			}
			e.Fields = append(e.Fields, f)
			d.Notes[e.Name+"."+c] = note
			continue
		}
		if why, ok := links[c]; ok || slices.ContainsFunc(n.where, func(w Condition) bool { return w.Column == c }) {
			if why == "" {
				why = "the entity's where condition"
			}
			e.Fields = append(e.Fields, Field{Column: c, Label: humanize(c), Category: CategoryContext})
			d.Notes[e.Name+"."+c] = "context: a link column, " + why
			continue
		}
		cctx := cc
		cctx.outside = n.prefix != "" && n.parent == nil && !strings.HasPrefix(c, n.prefix)
		cctx.unique = UniqueConstrained(n.t, c)
		det, ok := n.det[c]
		f, note := suggest(col, g.s.Samples[n.t.Name][c], det, ok, cctx)
		e.Fields = append(e.Fields, f)
		d.Notes[e.Name+"."+c] = note
	}
	return e
}

// personRef is the declared foreign key column c of n belongs to when it
// points at a person's table (a root, or the table itself) and may be
// NULL (so nullify keeps the key valid), else nil.
func (g *graph) personRef(n *node, c string) *Relation {
	for _, x := range n.base.out {
		if x.r.Source == SourceForeignKey && len(x.r.Columns) == 1 && x.r.Columns[0] == c && n.t.Columns[c].Nullable &&
			(x.to == n.base || (x.to.root && x.to.prefix == "" && x.to.shared == "")) {
			return x.r
		}
	}
	return nil
}

// personsNote is the figures behind a relation, for the note.
func (g *graph) personsNote(x *rel) string {
	sp, via, ok := g.persons(x)
	if !ok {
		return ""
	}
	if x.from.base.root {
		return fmt.Sprintf("; each %s row referenced by up to %d sampled %s rows (median %d)", x.r.RefTable, sp.Max, via, sp.Median)
	}
	return fmt.Sprintf("; the %s rows of one %s reference up to %d distinct sampled %s (median %d)", x.r.Table, x.r.RefTable, sp.Max, via, sp.Median)
}

// context is what holds for every column of the table.
func (g *graph) columnsContext(n *node) columnContext {
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

// sharedValue says why a column's sampled values are no person's
// identifier: one value fills a quarter or more of at least 8 sampled rows
// (a company's sender address on every e-mail it sent, an office phone).
// A person's own e-mail repeats only across that person's rows, which are
// few among the sample.
func sharedValue(values []string) string {
	if len(values) < 8 {
		return ""
	}
	counts := map[string]int{}
	top := 0
	for _, v := range values {
		k := strings.ToLower(strings.TrimSpace(v))
		counts[k]++
		top = max(top, counts[k])
	}
	if top*4 < len(values) {
		return ""
	}
	return fmt.Sprintf("holds one value in %d of %d sampled rows", top, len(values))
}
