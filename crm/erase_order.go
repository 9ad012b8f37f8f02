package crm

import (
	"context"
	"fmt"
	"slices"

	"github.com/titular/titular/datamap"
)

// eraseOrder is the order a DELETE visits m's entities: rows that point at
// others go before the rows they point at, as the CRM's foreign keys say,
// so a customer goes before the address she references and a payment before
// the rental it names, and neither is kept only because the other was still
// there. Where no key orders two entities (a CRM without foreign keys),
// children go before parents (m.Order reversed), which is the direction a
// child's reference usually takes. Keys that form a cycle (a store whose
// manager is staff of that store) leave the entities on it in that fallback
// order.
//
// The schema is read only when the titular has rows in two entities or more.
func eraseOrder(ctx context.Context, q Querier, m *datamap.Map, rows map[string][]keyedRow) ([]*datamap.Entity, error) {
	base := m.Order()
	slices.Reverse(base)
	with := 0
	for _, r := range rows {
		if len(r) > 0 {
			with++
		}
	}
	if with < 2 {
		return base, nil
	}
	refs, err := tableReferences(ctx, q)
	if err != nil {
		return nil, err
	}
	return orderByReferences(base, refs), nil
}

// orderByReferences sorts entities so that an entity whose table references
// another's (refs[from][to]) comes first; among the entities free to go, the
// earliest in base goes, and a cycle releases its earliest entity in base.
func orderByReferences(base []*datamap.Entity, refs map[string]map[string]bool) []*datamap.Entity {
	// must[b] lists the entities that must go before b.
	must := map[*datamap.Entity][]*datamap.Entity{}
	for _, a := range base {
		for _, b := range base {
			if a != b && a.Table != b.Table && refs[a.Table][b.Table] {
				must[b] = append(must[b], a)
			}
		}
	}
	done := map[*datamap.Entity]bool{}
	out := make([]*datamap.Entity, 0, len(base))
	ready := func(e *datamap.Entity) bool {
		for _, a := range must[e] {
			if !done[a] {
				return false
			}
		}
		return true
	}
	for len(out) < len(base) {
		next := -1
		for i, e := range base {
			if !done[e] && ready(e) {
				next = i
				break
			}
		}
		if next < 0 { // a cycle: release its earliest entity
			next = slices.IndexFunc(base, func(e *datamap.Entity) bool { return !done[e] })
		}
		done[base[next]] = true
		out = append(out, base[next])
	}
	return out
}

// tableReferences reads the current database's foreign keys (foreignKeys,
// as the survey and LoadSchema read them) as table -> referenced tables,
// self-references left out.
func tableReferences(ctx context.Context, q Querier) (map[string]map[string]bool, error) {
	fks, err := foreignKeys(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("erase order: %w", err)
	}
	out := map[string]map[string]bool{}
	for _, fk := range fks {
		if fk.Table == fk.RefTable {
			continue
		}
		if out[fk.Table] == nil {
			out[fk.Table] = map[string]bool{}
		}
		out[fk.Table][fk.RefTable] = true
	}
	return out, nil
}
