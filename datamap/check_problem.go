package datamap

import "strings"

// Problem builds a Problem at a document path of the map, for checks that
// run outside this package (against the live CRM's rows): its line is the
// path's, or the nearest enclosing one's (the entity's at worst).
func (m *Map) Problem(path, msg, fix string) Problem {
	return Problem{File: m.File, Path: path, Line: m.enclosingLine(path), Message: msg, Fix: fix}
}

func (m *Map) enclosingLine(path string) int {
	for p := path; p != ""; {
		if l, ok := m.lines[p]; ok {
			return l
		}
		if l := m.lines[p+".entity"]; l > 0 { // a parent: its entity name
			return l
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	if rest, ok := strings.CutPrefix(path, "entities."); ok {
		name, _, _ := strings.Cut(rest, ".")
		if e := m.Entity(name); e != nil {
			return e.Line
		}
	}
	return 0
}

// AsError returns nil for no problems, else the problems sorted by line.
func (ps Problems) AsError() error { return ps.asError() }
