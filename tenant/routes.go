package tenant

import (
	"fmt"
	"slices"
	"strings"

	"github.com/titular/titular/store"
)

// Subscribers names the tenant's endpoints that receive an event of type
// event about entities (store.EventRoutes). An endpoint tied to a recipient
// receives only events about an entity the data map shares with that
// recipient; an event about no entity in particular (a consent revoked, an
// incident) goes only to the endpoints tied to no recipient.
func (t *Tenant) Subscribers(event string, entities []string) []string {
	var out []string
	for _, w := range t.Config.Webhooks {
		if !w.Wants(event) {
			continue
		}
		if w.Recipient != "" && !t.sharesWith(w.Recipient, entities) {
			continue
		}
		out = append(out, w.Name)
	}
	return out
}

// sharesWith reports whether one of entities is shared with recipient.
func (t *Tenant) sharesWith(recipient string, entities []string) bool {
	for _, name := range entities {
		if e := t.Map.Entity(name); e != nil && slices.Contains(e.SharedWith, recipient) {
			return true
		}
	}
	return false
}

// Policy is what endpoint is told beyond the subject reference: the
// recipient it stands for and the identifier kinds it opted in to.
func (t *Tenant) Policy(endpoint string) store.EndpointPolicy {
	for _, w := range t.Config.Webhooks {
		if w.Name == endpoint {
			return store.EndpointPolicy{Recipient: w.Recipient, Identifiers: w.Identifiers}
		}
	}
	return store.EndpointPolicy{}
}

var _ store.EventRoutes = (*Tenant)(nil)

// checkRecipients checks that each webhook's recipient is one the data map
// shares an entity with, so a misspelt recipient is caught when the tenant
// opens rather than by a recipient never told.
func (t *Tenant) checkRecipients() error {
	known := map[string]bool{}
	for _, e := range t.Map.Entities {
		for _, r := range e.SharedWith {
			known[r] = true
		}
	}
	for _, w := range t.Config.Webhooks {
		if w.Recipient == "" || known[w.Recipient] {
			continue
		}
		names := make([]string, 0, len(known))
		for r := range known {
			names = append(names, fmt.Sprintf("%q", r))
		}
		slices.Sort(names)
		if len(names) == 0 {
			return fmt.Errorf("webhook %s: recipient %q is not shared_with by any entity of the data map, which names no recipient; add it to an entity's shared_with or remove recipient", w.Name, w.Recipient)
		}
		return fmt.Errorf("webhook %s: recipient %q is not shared_with by any entity of the data map; use one of %s", w.Name, w.Recipient, strings.Join(names, ", "))
	}
	return nil
}
