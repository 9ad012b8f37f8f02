package datamap

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a data map: where it is and how to fix it.
type Problem struct {
	File string
	// Path locates the value in the document, e.g.
	// "entities.reserva.fields.cliente_cpf.validate".
	Path    string
	Line    int // 1-based; 0 when unknown
	Message string
	Fix     string
}

// String renders the problem as "file:line: path: message (fix: ...)".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	if p.File != "" || p.Line > 0 {
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	if p.Fix != "" {
		fmt.Fprintf(&b, " (fix: %s)", p.Fix)
	}
	return b.String()
}

// Problems is every problem found in one pass. It is the error returned by
// Parse, Load and CheckSchema, so a user sees all of them at once.
type Problems []Problem

// Error renders one problem per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sorted orders problems by line, keeping discovery order within a line, so
// they read top to bottom like the file.
func (ps Problems) sorted() Problems {
	slices.SortStableFunc(ps, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	return ps
}

// asError returns nil for no problems: a nil Problems inside an error
// interface would not compare equal to nil.
func (ps Problems) asError() error {
	if len(ps) == 0 {
		return nil
	}
	return ps.sorted()
}
