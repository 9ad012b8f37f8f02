package service

import (
	"context"

	"github.com/titular/titular/export"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// exportReviews fills Meta.Reviews of the titular's copy of r (see exportMeta).
func exportReviews(_ context.Context, _ *store.Snapshot, _ *tenant.Tenant, _ *store.Request) ([]export.DecisionReview, error) {
	return nil, nil
}
