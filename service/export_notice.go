package service

import (
	"context"

	"github.com/titular/titular/export"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// exportNotice fills Meta.Notice of the titular's copy of r (see exportMeta).
func exportNotice(_ context.Context, _ *store.Snapshot, _ *tenant.Tenant, _ *store.Request) (*export.Notice, error) {
	return nil, nil
}
