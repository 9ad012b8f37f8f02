package service

import (
	"context"

	"github.com/titular/titular/export"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// exportMinor fills Meta.Minor of the titular's copy of r (see exportMeta):
// the band recorded when r arrived (Art. 14) and who acted for the titular,
// by relation and name. The document reference stays out: it points at
// where the proof is kept, which is the controller's, not the copy's. Nil
// for an adult, or when no date of birth was known.
//
//nolint:unparam // the hook signature exportMeta gives every part; this one never fails
func exportMinor(_ context.Context, _ *store.Snapshot, _ *tenant.Tenant, r *store.Request) (*export.Minor, error) {
	if r.MinorBand == "" {
		return nil, nil
	}
	m := &export.Minor{Band: r.MinorBand}
	if rp := r.Representative; rp != nil {
		m.Representative = &export.Representative{Relation: rp.Relation, Name: rp.Name}
	}
	return m, nil
}
