package service

import (
	"context"
	"slices"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// linkPerson prepares n for the subject index: the person's other
// identifiers the CRM holds (linkedIdentifiers), and the webhooks told when
// n teaches titular that two references are one person (subject.merged).
func linkPerson(ctx context.Context, t *tenant.Tenant, n *store.NewRequest) error {
	linked, err := linkedIdentifiers(ctx, t, *n)
	if err != nil {
		return err
	}
	n.Linked, n.MergeEndpoints = linked, t.Config.WebhooksFor(store.EventSubjectMerged)
	return nil
}

// linkedIdentifiers finds the titular's other identifiers in the CRM's rows
// (crm.Linked: the CPF's pessoa row holds her e-mail and phone), so the
// subject index keeps one reference per person whichever identifier a
// later request carries. Only kinds the tenant's map identifies titulares
// by are kept.
//
// A CONSENT, the hot path, looks only when one of its identifiers is new to
// the index: an identifier already indexed was linked when it was first
// seen. Other kinds always look, since their rows may have changed since.
func linkedIdentifiers(ctx context.Context, t *tenant.Tenant, n store.NewRequest) (store.Identifiers, error) {
	var none store.Identifiers
	if n.Kind == store.KindConsent {
		indexed, err := t.Store.Indexed(ctx, n.Subject)
		if err != nil || indexed {
			return none, err
		}
	}
	found, err := crm.Linked(ctx, t.Store.CRM(), t.Map, n.Subject)
	if err != nil {
		return none, err
	}
	var out store.Identifiers
	for _, k := range t.Map.Identifiers {
		if v := found.Get(k); v != "" && slices.Contains([]string{"cpf", "email", "phone"}, k) {
			out = out.With(k, v)
		}
	}
	return out, nil
}
