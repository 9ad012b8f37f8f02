package crm

import (
	"context"
	"fmt"
	"strings"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// linkedRowLimit bounds the rows per root entity Linked reads: a person's
// own rows are a handful; more means an identifier many share.
const linkedRowLimit = 100

// identifierKinds are the identifiers a titular is indexed by, in the order
// they decide.
var identifierKinds = []string{"cpf", "email", "phone"}

// Linked returns the titular's other identifiers that the CRM holds beside
// those given: the match columns of the root rows the given identifiers
// find (a CPF's pessoa row holds her e-mail and phone). titular indexes them
// under the titular's reference, so a consent granted by CPF and revoked by
// e-mail reaches one person.
//
// It links only what is unambiguous, and one step only (rows found by the
// given identifiers, not by the ones they yield): when the rows disagree
// with an identifier given (a row found by e-mail holds another CPF) or
// hold two values of one kind (a couple sharing an e-mail), they may be two
// people, and Linked returns nothing. Values that do not normalize (a
// malformed phone) are skipped. The result is personal data: callers only
// hash it into the subject index.
func Linked(ctx context.Context, q Querier, m *datamap.Map, ids Identifiers) (Identifiers, error) {
	var none Identifiers
	if ids.Empty() {
		return none, nil
	}
	found := map[string]map[string]bool{}
	for _, e := range m.Order() {
		if len(e.Match) == 0 {
			continue
		}
		var conds, cols []string
		var args []any
		for _, mr := range e.Match {
			cols = append(cols, mr.Column)
			v := ids.Get(mr.Identifier)
			if v == "" {
				continue
			}
			shapes := LookupValues(mr.Identifier, v)
			if len(shapes) == 0 {
				return none, fmt.Errorf("identifier %s is not in normalized form", mr.Identifier)
			}
			for _, s := range shapes {
				args = append(args, s)
			}
			conds = append(conds, sqlq.QuoteIdent(mr.Column)+" IN ("+sqlq.Placeholders(len(shapes))+")")
		}
		if len(conds) == 0 {
			continue
		}
		query := "SELECT " + sqlq.JoinQuoted(cols) + " FROM " + sqlq.QuoteIdent(e.Table) + " WHERE " + strings.Join(conds, " OR ") + fmt.Sprintf(" LIMIT %d", linkedRowLimit)
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return none, fmt.Errorf("entity %s: linked identifiers: %w", e.Name, err)
		}
		err = eachRow(rows, func(row []any) error {
			for i, mr := range e.Match {
				if v, ok := normalizeIdentifier(mr.Identifier, row[i]); ok {
					if found[mr.Identifier] == nil {
						found[mr.Identifier] = map[string]bool{}
					}
					found[mr.Identifier][v] = true
				}
			}
			return nil
		})
		if err != nil {
			return none, fmt.Errorf("entity %s: linked identifiers: %w", e.Name, err)
		}
	}
	var out Identifiers
	for _, k := range identifierKinds {
		vals, given := found[k], ids.Get(k)
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
