package crm

import (
	"context"
	"fmt"
	"strings"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// identifierKinds are the identifiers a titular is indexed by, in the order
// they decide.
var identifierKinds = []string{"cpf", "email", "phone"}

// Linked returns the titular's other identifiers that the CRM holds beside
// those given: the match columns (cpf, email, phone) of every row the data
// map reaches from the given identifiers, roots and children alike (a CPF's
// pessoa row holds her e-mail and phone; a lead under that pessoa, the
// e-mail she typed on the site). titular indexes them under the titular's
// reference, so a consent granted by CPF and revoked by e-mail reaches one
// person.
//
// It links only what is unambiguous, and from the given identifiers only
// (not again from the ones they yield): when the rows disagree with an
// identifier given (a row reached by e-mail holds another CPF) or hold two
// values of one kind (a couple sharing an e-mail), they may be two people,
// and Linked returns nothing. Values that do not normalize (a malformed
// phone) are skipped. The result is personal data: callers only hash it
// into the subject index.
func Linked(ctx context.Context, q Querier, m *datamap.Map, ids Identifiers) (Identifiers, error) {
	var none Identifiers
	if ids.Empty() {
		return none, nil
	}
	// Most new identifiers (a consent from a landing page) are in no CRM
	// row yet: one statement says so, where the walk would ask every root.
	if reached, err := reachesAnyRoot(ctx, q, m, ids); err != nil || !reached {
		return none, err
	}
	sink := &identifierSink{found: map[string]map[string]bool{}}
	holds := holdsIdentifiers(m)
	_, err := WalkWith(ctx, q, m, ids, sink, WalkOptions{
		Extra: func(e *datamap.Entity) []string {
			cols := make([]string, len(e.Match))
			for i, mr := range e.Match {
				cols[i] = mr.Column
			}
			return cols
		},
		// Notes, attachments and the like hold no identifier column: a
		// titular with thousands of interactions costs no more than one
		// without.
		Skip: func(e *datamap.Entity) bool { return !holds[e.Name] },
	})
	if err != nil {
		return none, fmt.Errorf("linked identifiers: %w", err)
	}
	var out Identifiers
	for _, k := range identifierKinds {
		vals, given := sink.found[k], ids.Get(k)
		if given != "" {
			for v := range vals {
				if v != given {
					return none, nil // the rows may be two people's
				}
			}
			continue
		}
		if len(vals) > 1 {
			return none, nil
		}
		for v := range vals {
			out = out.With(k, v)
		}
	}
	return out, nil
}

// reachesAnyRoot reports, in one statement, whether a root entity of m
// holds one of ids in its match columns: without one the walk finds nothing.
func reachesAnyRoot(ctx context.Context, q Querier, m *datamap.Map, ids Identifiers) (bool, error) {
	var parts []string
	var args []any
	for _, e := range m.Order() {
		where, a, err := matchCondition(e, ids)
		if err != nil {
			return false, err
		}
		if where != "" {
			where, a = restrict(e, where, a)
			parts = append(parts, "EXISTS (SELECT 1 FROM "+sqlq.QuoteIdent(e.Table)+" WHERE "+where+")")
			args = append(args, a...)
		}
	}
	if len(parts) == 0 {
		return false, nil
	}
	var found bool
	//nolint:gosec // G202: only quoted, validated names are concatenated; every value is a bound parameter
	if err := q.QueryRowContext(ctx, "SELECT "+strings.Join(parts, " OR "), args...).Scan(&found); err != nil {
		return false, fmt.Errorf("linked identifiers: %w", err)
	}
	return found, nil
}

// holdsIdentifiers names the entities worth reading for identifiers: those
// with match columns and those through which the walk reaches one.
func holdsIdentifiers(m *datamap.Map) map[string]bool {
	holds := map[string]bool{}
	var visit func(e *datamap.Entity) bool
	visit = func(e *datamap.Entity) bool {
		if v, ok := holds[e.Name]; ok {
			return v
		}
		holds[e.Name] = false // no cycles in a valid map; this ends any
		found := len(e.Match) > 0
		for _, c := range m.Children(e.Name) {
			if visit(c) {
				found = true
			}
		}
		holds[e.Name] = found
		return found
	}
	for _, e := range m.Order() {
		visit(e)
	}
	return holds
}

// identifierSink keeps the normalized match-column values of the rows a
// walk reaches, and nothing else.
type identifierSink struct {
	match []datamap.MatchRule
	found map[string]map[string]bool
}

func (s *identifierSink) BeginEntity(e *datamap.Entity) error {
	s.match = e.Match
	return nil
}

func (s *identifierSink) Row([]any) error { return nil }

func (s *identifierSink) EndEntity(*datamap.Entity, int64) error { return nil }

func (s *identifierSink) KeyedRow(_, _, extra []any) error {
	for i, mr := range s.match {
		if v, ok := normalizeIdentifier(mr.Identifier, extra[i]); ok {
			if s.found[mr.Identifier] == nil {
				s.found[mr.Identifier] = map[string]bool{}
			}
			s.found[mr.Identifier][v] = true
		}
	}
	return nil
}

// With returns i with the identifier of kind set to v.
func (i Identifiers) With(kind, v string) Identifiers {
	switch kind {
	case "cpf":
		i.CPF = v
	case "email":
		i.Email = v
	case "phone":
		i.Phone = v
	}
	return i
}

// normalizeIdentifier reads a stored identifier in the normalized form
// titular indexes; false for an empty or malformed value.
func normalizeIdentifier(kind string, raw any) (string, bool) {
	var s string
	switch v := raw.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		return "", false
	}
	var norm func(string) (string, error)
	switch kind {
	case "cpf":
		norm = brdoc.NormalizeCPF
	case "email":
		norm = brdoc.NormalizeEmail
	case "phone":
		norm = brdoc.NormalizePhone
	default:
		return "", false
	}
	v, err := norm(s)
	if err != nil {
		return "", false
	}
	return v, true
}
