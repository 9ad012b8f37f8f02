package service

import "context"

// ConsoleDeliveryCounts counts the tenant's webhook deliveries per
// endpoint and state (PENDING, DELIVERED, FAILED) for the console. It is
// no RPC: the console authorizes the caller for ListDeliveries first
// (Authenticator.As), as the same rows are behind it.
func (c *Consent) ConsoleDeliveryCounts(ctx context.Context, tenantID string) (map[string]map[string]int64, error) {
	t, err := c.tenants.Get(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return t.Store.ConsoleDeliveryCounts(ctx)
}

// ConsoleConsentCounts counts, per purpose and action (GRANT, REFUSE,
// REVOKE), the titulares whose current record is that action. No RPC: the
// console authorizes the caller for ListConsentSubjects first, whose
// pages these counts sum.
func (c *Consent) ConsoleConsentCounts(ctx context.Context, tenantID string) (map[string]map[string]int64, error) {
	t, err := c.tenants.Get(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return t.Store.ConsoleConsentCounts(ctx)
}
