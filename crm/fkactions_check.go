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
}

// FKActionWarnings lists the SET NULL and CASCADE keys into the tables of m
// from a table m does not list, or from an entity with a retention hold.
// Keys from other mapped tables are left out: their rows are deleted with
// the titular's, or their reference emptied, which the map accepts.
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
				if len(ref.Holds) > 0 && w.Entity == "" {
					w.Entity = ref.Name
				}
			}
			if !mapped || w.Entity != "" {
				out = append(out, w)
			}
		}
		delete(actions, e.Table) // two entities on one table: listed once
	}
	slices.SortFunc(out, func(a, b FKActionWarning) int {
		return cmp.Or(cmp.Compare(a.Table, b.Table), cmp.Compare(a.Constraint, b.Constraint))
	})
	return out, nil
}
