package service

import (
	"context"

	"github.com/titular/titular/export"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// exportMinor fills Meta.Minor of the titular's copy of r (see exportMeta).
func exportMinor(_ context.Context, _ *store.Snapshot, _ *tenant.Tenant, _ *store.Request) (*export.Minor, error) {
	return nil, nil
}
