package service

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// entitySubjects reads the titulares with rows in the named root entities
// of t's map: each row's match columns (its CPF, e-mail, phone), normalized,
// one titular per distinct set, rows sharing an identifier with a titular
// already found joining it. A row with no valid identifier names no one and
// is skipped. More than limit titulares is refused, before anything is
// written: the incident must be split or scoped by identifiers instead.
//
// The identifiers stay in memory: the caller only hashes them into the
// subject index.
func entitySubjects(ctx context.Context, t *tenant.Tenant, entities []string, limit int) ([]store.Identifiers, error) {
	var out []store.Identifiers
	owner := map[string]int{} // "kind:value" -> index in out
	for _, name := range entities {
		e := t.Map.Entity(name)
		cols := make([]string, len(e.Match))
		notNull := make([]string, len(e.Match))
		for j, mr := range e.Match {
			cols[j] = mr.Column
			notNull[j] = sqlq.QuoteIdent(mr.Column) + " IS NOT NULL"
		}
		cond := "(" + strings.Join(notNull, " OR ") + ")"
		var args []any
		for _, w := range e.Where {
			cond += " AND " + sqlq.QuoteIdent(w.Column) + " = ?"
			args = append(args, w.Value)
		}
		// Identifiers and table are the validated map's, quoted; values bound.
		//nolint:gosec // G202: only quoted, validated names are concatenated; every value is a bound parameter
		q := "SELECT " + sqlq.JoinQuoted(cols) + " FROM " + sqlq.QuoteIdent(e.Table) + " WHERE " + cond +
			" ORDER BY " + sqlq.JoinQuoted(e.Key) + " LIMIT ?"
		// Distinct titulares are at most the rows; read one more row than
		// the bound allows titulares, times a margin for people with
		// several rows, and refuse past it.
		rowLimit := 4*limit + 1
		rows, err := t.Store.CRM().QueryContext(ctx, q, append(args, rowLimit)...)
		if err != nil {
			return nil, fmt.Errorf("titulares of entity %s: %w", name, err)
		}
		n := 0
		err = func() error {
			defer rows.Close()
			vals := make([]any, len(cols))
			for j := range vals {
				vals[j] = new(sql.RawBytes)
			}
			for rows.Next() {
				n++
				if err := rows.Scan(vals...); err != nil {
					return err
				}
				var ids store.Identifiers
				for j, mr := range e.Match {
					if v, ok := normalizeStored(mr.Identifier, string(*vals[j].(*sql.RawBytes))); ok && ids.Get(mr.Identifier) == "" {
						ids = ids.With(mr.Identifier, v)
					}
				}
				if ids.Empty() {
					continue
				}
				at := -1
				for _, k := range []string{"cpf", "email", "phone"} {
					if o, ok := owner[k+":"+ids.Get(k)]; ok && ids.Get(k) != "" {
						at = o
						break
					}
				}
				if at < 0 {
					at = len(out)
					out = append(out, store.Identifiers{})
				}
				for _, k := range []string{"cpf", "email", "phone"} {
					if v := ids.Get(k); v != "" && out[at].Get(k) == "" {
						out[at] = out[at].With(k, v)
						owner[k+":"+v] = at
					}
				}
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("titulares of entity %s: %w", name, err)
		}
		if len(out) > limit || n >= rowLimit {
			return nil, invalid("TOO_MANY_SUBJECTS", "the entities named hold more than %d titulares; register the incident in parts (by entity, or by identifiers)", limit)
		}
	}
	return out, nil
}

// normalizeStored normalizes an identifier as a CRM column holds it; a CPF
// stored as a number has lost its leading zeros.
func normalizeStored(kind, s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	var v string
	var err error
	switch kind {
	case "cpf":
		if _, nerr := strconv.ParseUint(s, 10, 64); nerr == nil && len(s) < 11 {
			s = strings.Repeat("0", 11-len(s)) + s
		}
		v, err = brdoc.NormalizeCPF(s)
	case "email":
		v, err = brdoc.NormalizeEmail(s)
	case "phone":
		v, err = brdoc.NormalizePhone(s)
	default:
		return "", false
	}
	return v, err == nil
}
