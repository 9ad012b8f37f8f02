package tenant

import "github.com/titular/titular/config"

// TenantConfig returns the configuration the catalog holds for tenant id
// now (the tenants_dir's changes and reloads applied), without opening the
// tenant: authentication reads a tenant's trusted token issuers from it.
func (r *Registry) TenantConfig(id string) (config.Tenant, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[id]
	if e == nil {
		return config.Tenant{}, false
	}
	return e.cfg, true
}

// Configs returns the configuration of every tenant in the catalog, in
// id order, under one lock: the console lists them on every page.
func (r *Registry) Configs() []config.Tenant {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]config.Tenant, 0, len(r.ids))
	for _, id := range r.ids {
		if e := r.entries[id]; e != nil {
			out = append(out, e.cfg)
		}
	}
	return out
}
