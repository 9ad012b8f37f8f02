package tenant

import (
	"slices"
	"strings"
	"testing"

	"github.com/titular/titular/config"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store"
)

func routesTenant(hooks ...config.Webhook) *Tenant {
	return &Tenant{
		Config: config.Tenant{ID: "demo", Webhooks: hooks},
		Map: &datamap.Map{Entities: []*datamap.Entity{
			{Name: "pessoa", SharedWith: []string{"Banco X"}},
			{Name: "lead", SharedWith: []string{"Imobiliária parceira"}},
			{Name: "documento"},
		}},
	}
}

// TestRecipientMustBeSharedWith: a recipient the data map shares nothing
// with is refused when the tenant opens, naming the recipients it knows.
func TestRecipientMustBeSharedWith(t *testing.T) {
	ok := routesTenant(config.Webhook{Name: "banco", Recipient: "Banco X"}, config.Webhook{Name: "crm"})
	if err := ok.checkRecipients(); err != nil {
		t.Fatalf("a recipient of the map: %v", err)
	}
	bad := routesTenant(config.Webhook{Name: "banco", Recipient: "Banco Y"})
	err := bad.checkRecipients()
	if err == nil || !strings.Contains(err.Error(), `webhook banco: recipient "Banco Y" is not shared_with by any entity of the data map; use one of "Banco X", "Imobiliária parceira"`) {
		t.Fatalf("unknown recipient: %v", err)
	}
}

// TestSubscribersByRecipient: an endpoint tied to a recipient receives the
// events about an entity shared with it, and none about other entities or
// about no entity; an endpoint tied to none receives what it subscribes to.
func TestSubscribersByRecipient(t *testing.T) {
	tn := routesTenant(
		config.Webhook{Name: "banco", Recipient: "Banco X", Identifiers: []string{"cpf"}, Events: []string{"subject.deleted", "subject.corrected"}},
		config.Webhook{Name: "crm"},
		config.Webhook{Name: "parceira", Recipient: "Imobiliária parceira", Events: []string{"*"}},
	)
	for _, tc := range []struct {
		event    string
		entities []string
		want     []string
	}{
		{"subject.deleted", []string{"pessoa", "documento"}, []string{"banco", "crm"}},
		{"subject.deleted", []string{"lead"}, []string{"crm", "parceira"}},
		{"subject.deleted", []string{"documento"}, []string{"crm"}},
		{"subject.anonymized", []string{"pessoa"}, []string{"crm"}},
		{"consent.revoked", nil, []string{"crm"}},
	} {
		if got := tn.Subscribers(tc.event, tc.entities); !slices.Equal(got, tc.want) {
			t.Errorf("Subscribers(%s, %v) = %v, want %v", tc.event, tc.entities, got, tc.want)
		}
	}
	if p := tn.Policy("banco"); p.Recipient != "Banco X" || !slices.Equal(p.Identifiers, []string{"cpf"}) {
		t.Errorf("Policy(banco) = %+v", p)
	}
	if p := tn.Policy("gone"); p.Recipient != "" || p.Identifiers != nil {
		t.Errorf("Policy of an unknown endpoint = %+v, want nothing", p)
	}
	var _ store.EventRoutes = tn
}
