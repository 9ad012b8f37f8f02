package service

import (
	"context"

	"github.com/titular/titular/export"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// exportMeta is the header of the titular's copy of request r: the request
// itself and what LGPD asks the copy to say beside the data (Art. 9's
// notice, a minor's representative (Art. 14), reviews of automated
// decisions (Art. 20)). Each part is filled by its own function below.
func exportMeta(ctx context.Context, read *store.Snapshot, t *tenant.Tenant, r *store.Request) (export.Meta, error) {
	m := export.Meta{
		RequestID: r.ID, Tenant: t.Config.ID, TenantName: t.Config.Name, Kind: string(r.Kind),
		ReceivedAt: r.ReceivedAt, DueAt: r.DueAt, SubjectRef: r.SubjectRef,
	}
	var err error
	if m.Notice, err = exportNotice(ctx, read, t, r); err != nil {
		return m, err
	}
	if m.Minor, err = exportMinor(ctx, read, t, r); err != nil {
		return m, err
	}
	if m.Reviews, err = exportReviews(ctx, read, t, r); err != nil {
		return m, err
	}
	return m, nil
}
