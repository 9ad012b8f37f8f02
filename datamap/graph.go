package datamap

import (
	"fmt"
	"strings"
)

// graph checks the parent edges: at least one root, parents that exist, no
// cycles, and every entity reachable from a root.
func (p *parser) graph(m *Map) {
	names := make([]string, len(m.Entities))
	for i, e := range m.Entities {
		names[i] = e.Name
	}
	hasRoot := false
	for _, e := range m.Entities {
		if e.IsRoot() || p.brokenMatch[e.Name] {
			hasRoot = true
		}
		if e.Parent == nil {
			continue
		}
		if m.Entity(e.Parent.Entity) == nil {
			path := "entities." + e.Name + ".parent.entity"
			p.add(m.line(path, e.Line), path, fmt.Sprintf("parent entity %q does not exist", e.Parent.Entity),
				nameFix(e.Parent.Entity, names, "entity"))
			p.broken[e.Name] = true
		}
	}
	if !hasRoot {
		p.add(m.line("entities", 0), "entities", "no entity has match, so no titular can ever be found",
			"add match: {cpf: <column>} (or email/phone) to the entity that holds the titular's identifiers")
	}
	onCycle := p.cycles(m)
	for _, e := range m.Entities {
		if e.IsRoot() || onCycle[e.Name] || p.broken[e.Name] {
			continue
		}
		p.reach(m, e, onCycle)
	}
}

// cycles reports each parent cycle once, at its first entity in document
// order, and returns the entities on a cycle.
func (p *parser) cycles(m *Map) map[string]bool {
	onCycle := map[string]bool{}
	for _, start := range m.Entities {
		if onCycle[start.Name] {
			continue
		}
		// Follow parents from start; each entity has at most one parent, so a
		// walk either ends or loops back to an entity seen in this walk.
		pos := map[string]int{}
		var walk []string
		for e := start; e != nil; {
			if i, seen := pos[e.Name]; seen {
				cycle := walk[i:]
				if !anyOn(onCycle, cycle) {
					p.reportCycle(m, cycle)
				}
				for _, n := range cycle {
					onCycle[n] = true
				}
				break
			}
			pos[e.Name] = len(walk)
			walk = append(walk, e.Name)
			if e.Parent == nil {
				break
			}
			e = m.Entity(e.Parent.Entity)
		}
	}
	return onCycle
}

func anyOn(set map[string]bool, names []string) bool {
	for _, n := range names {
		if set[n] {
			return true
		}
	}
	return false
}

// reportCycle names the cycle starting at its earliest entity in the document.
func (p *parser) reportCycle(m *Map, cycle []string) {
	first := 0
	for i, n := range cycle {
		if indexOf(m, n) < indexOf(m, cycle[first]) {
			first = i
		}
	}
	ordered := append(append([]string{}, cycle[first:]...), cycle[:first]...)
	e := m.Entity(ordered[0])
	path := "entities." + e.Name + ".parent.entity"
	p.add(m.line(path, e.Line), path,
		fmt.Sprintf("parent cycle: %s -> %s", strings.Join(ordered, " -> "), ordered[0]),
		"parents must form a tree: remove parent from one entity of the cycle and give it match instead")
}

func indexOf(m *Map, name string) int {
	for i, e := range m.Entities {
		if e.Name == name {
			return i
		}
	}
	return -1
}

// reach reports a non-root entity whose parent chain ends without a root.
func (p *parser) reach(m *Map, e *Entity, onCycle map[string]bool) {
	chain := []string{e.Name}
	cur := e
	for cur.Parent != nil {
		next := m.Entity(cur.Parent.Entity)
		if next == nil || onCycle[next.Name] || p.broken[next.Name] {
			return // already reported
		}
		if next.IsRoot() {
			return
		}
		chain = append(chain, next.Name)
		cur = next
	}
	if cur == e {
		p.add(e.Line, "entities."+e.Name, "entity has neither match nor parent, so its rows can never be reached",
			"add parent: {entity: <parent>, on: {<column>: <parent column>}} or match: {<identifier>: <column>}")
		return
	}
	p.add(m.line("entities."+e.Name+".parent.entity", e.Line), "entities."+e.Name+".parent.entity",
		fmt.Sprintf("parent chain %s ends at %q, which has neither match nor parent", strings.Join(chain, " -> "), cur.Name),
		fmt.Sprintf("give %q a parent or match", cur.Name))
}

// correctables checks that columns sharing a logical correctable field agree
// on its validation, since one corrected value is written to all of them.
func (p *parser) correctables(m *Map) {
	type first struct{ validate, path string }
	seen := map[string]first{}
	for _, e := range m.Entities {
		for _, f := range e.Fields {
			if f.Correctable == "" || f.Validate == "" {
				continue
			}
			path := "entities." + e.Name + ".fields." + f.Column + ".validate"
			prev, ok := seen[f.Correctable]
			if !ok {
				seen[f.Correctable] = first{f.Validate, path}
				continue
			}
			if prev.validate != f.Validate {
				p.add(m.line(path, f.Line), path,
					fmt.Sprintf("correctable field %q is validated as %s here but as %s at %s", f.Correctable, f.Validate, prev.validate, prev.path),
					"use the same validate for every column that copies this field, or give this column another correctable name")
			}
		}
	}
}
