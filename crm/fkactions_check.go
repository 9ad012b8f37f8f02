package crm

import (
	"cmp"
	"context"
	"slices"

	"github.com/titular/titular/datamap"
)

// FKActionWarning is a foreign key of the CRM that will keep rows a DELETE
// would otherwise erase: ON DELETE SET NULL or CASCADE into a mapped table
// from a table whose rows must stay intact when they point at a deleted
// row (see fkGuard). `titular datamap check` lists them, so the DPO knows
// before a titular asks why such rows end up blocked.
type FKActionWarning struct {
	Constraint, Table, RefTable, Rule string
	// Entity is the mapped entity of Table whose held rows protect the rows
	// they point at; empty when Table is not in the map at all.
	Entity string
	// Referenced is the mapped entity of RefTable whose DELETE would fire
	// the key into Entity's held rows without declaring that it stays for
	// them (a hold `while: referenced`); set only when Refused.
	Referenced string
	// Refused marks a key from a held entity into an entity that does not
	// declare a hold while referenced: DELETE would keep that entity's rows
	// with no basis the map states, so datamap check fails until the map
	// states one or the key becomes ON DELETE RESTRICT. Keys from unmapped
	// tables and into entities that declare the hold are warnings.
	Refused bool
}

// FKActionWarnings lists the SET NULL and CASCADE keys into the tables of m
// from a table m does not list, or from an entity with a retention hold.
// Keys from other mapped tables are left out: their rows are deleted with
// the titular's, or their reference emptied, which the map accepts. A key
// from a held entity into an entity without a hold `while: referenced` is
// Refused.
func FKActionWarnings(ctx context.Context, db Querier, m *datamap.Map) ([]FKActionWarning, error) {
	tables := map[string]bool{}
	for _, e := range m.Order() {
		tables[e.Table] = true
	}
	actions, err := loadFKActions(ctx, db, tables)
	if err != nil {
		return nil, err
	}
	var out []FKActionWarning
	for _, e := range m.Order() {
		for _, fk := range actions[e.Table] {
			w := FKActionWarning{Constraint: fk.Name, Table: fk.Table, RefTable: fk.RefTable, Rule: fk.Rule}
			mapped := false
			for _, ref := range m.Order() {
				if ref.Table != fk.Table {
					continue
				}
				mapped = true
				if len(ref.Holds) > 0 && w.Entity == "" && !dropsReference(ref, fk, e) {
					w.Entity = ref.Name
				}
			}
			if mapped && w.Entity == "" {
				continue
			}
			if w.Entity != "" {
				// Every entity of the referenced table is deleted by some
				// request: each must say it stays for the held rows.
				for _, target := range m.Order() {
					if _, h := whileHold(target); target.Table == fk.RefTable && h == nil {
						w.Referenced, w.Refused = target.Name, true
						break
					}
				}
			}
			out = append(out, w)
		}
		delete(actions, e.Table) // two entities on one table: listed once
	}
	slices.SortFunc(out, func(a, b FKActionWarning) int {
		return cmp.Or(cmp.Compare(a.Table, b.Table), cmp.Compare(a.Constraint, b.Constraint))
	})
	return out, nil
}

// dropsReference reports whether a DELETE empties held's reference through
// fk before it deletes the row fk points at, so the key never fires into a
// held row: held is the child of target along exactly fk's columns (every
// row pointing at the titular's target row is the titular's own), and its
// holds leave those columns to nullify (a broker's held notes lose the
// broker's id, then the broker goes).
func dropsReference(held *datamap.Entity, fk *fkAction, target *datamap.Entity) bool {
	if held.Parent == nil || held.Parent.Entity != target.Name || len(held.Parent.On) != len(fk.Columns) {
		return false
	}
	for i, c := range fk.Columns {
		if !slices.Contains(held.Parent.On, datamap.ColumnPair{Child: c, Parent: fk.RefColumns[i]}) {
			return false
		}
		f, ok := held.Field(c)
		if !ok || f.Anonymizer == nil || f.Anonymizer.Name != "nullify" {
			return false
		}
		minimized := slices.ContainsFunc(held.Holds, func(h *datamap.Retention) bool {
			return (h.Keep == nil && h.OnDelete == "anonymize") || (h.Keep != nil && !slices.Contains(h.Keep, c))
		})
		if !minimized {
			return false
		}
	}
	return true
}
