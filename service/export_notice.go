package service

import (
	"context"
	"slices"

	"github.com/titular/titular/inventory"

	"github.com/titular/titular/config"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/export"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// exportNotice fills Meta.Notice of the titular's copy of r (see
// exportMeta): what LGPD Art. 9 says the titular must be told beside their
// data. The controller and the encarregado come from the tenant config; the
// purposes, bases, retention and recipients from the data map's entities
// that hold the titular's rows, the consent receipt that follows them and
// the consents the titular has granted now (a consent to share names its recipients too). Every name is
// in words: a purpose code neither the data map nor the consent catalog
// names reads config.NotInformed, never the code.
func exportNotice(ctx context.Context, read *store.Snapshot, t *tenant.Tenant, r *store.Request) (*export.Notice, error) {
	// In the snapshot, not the pool: the worker calls this holding its
	// read-write transaction, and a pool read then may wait for a connection
	// held by another writer waiting for that transaction (on the demo's
	// engine, for 30 s).
	catalog, err := read.Purposes(ctx)
	if err != nil {
		return nil, err
	}
	_, history, err := read.ConsentHistoryFor(ctx, r.Subject)
	if err != nil {
		return nil, err
	}
	b := noticeBuilder{m: t.Map, catalog: map[string]*store.Purpose{}}
	for _, p := range catalog {
		b.catalog[p.ID] = p
	}
	b.n.Controller = party(t.Config.Controller, t.Config.Name)
	b.n.DPO = party(t.Config.DPO, "")
	// Art. 9 is about the titular's own data: only the entities that hold
	// rows of theirs say why, how long and to whom. Knowing which costs a
	// walk before the export's own (the header is written first); it reads
	// the same few rows of one titular, in the same snapshot.
	held := &confirmSink{}
	if _, err := crm.Walk(ctx, read.CRM(), t.Map, r.Subject, held); err != nil {
		return nil, err
	}
	for _, e := range t.Map.Entities {
		if slices.Contains(held.entities, e.Name) {
			b.entity(exportEntity(t.Map, e))
		}
	}
	b.entity(consentReceiptDescription(t.Map, false))
	b.n.Retention[len(b.n.Retention)-1].Rule = inventory.ConsentRetention(t.Map.ConsentEvidence)
	for _, c := range store.CurrentConsents(history) {
		if c.Action == store.ConsentGrant {
			b.consent(c.PurposeID)
		}
	}
	b.n.Rights = rights(b.n.DPO, b.n.Controller, t.Config.Policy)
	return &b.n, nil
}

// noticeBuilder gathers the notice's lists, each entry once.
type noticeBuilder struct {
	m       *datamap.Map
	catalog map[string]*store.Purpose // the consent catalog by id
	n       export.Notice
}

// party names a controller or an encarregado, NotInformed for what the
// tenant config leaves out; fallback stands for a missing name.
func party(c config.Contact, fallback string) export.Party {
	f := c.Filled(fallback)
	return export.Party{Name: f.Name, Contact: f.Contact}
}

// purposeName is the name and description of a purpose code: the data
// map's purposes section first, then the consent catalog.
func (b *noticeBuilder) purposeName(code string) (name, description string) {
	if p, ok := b.m.Purpose(code); ok {
		return p.Name, p.Description
	}
	if p, ok := b.catalog[code]; ok && p.Name != "" && p.Name != code {
		d := p.Description
		if d == "" {
			d = config.NotInformed
		}
		if p.ConsentRequired && p.RefusalConsequences != "" {
			// Art. 18 VIII: what not consenting means, beside the purpose.
			d += " Se você não consentir: " + p.RefusalConsequences
		}
		return p.Name, d
	}
	return config.NotInformed, config.NotInformed
}

// entity adds an entity's purpose and basis, its retention and the
// recipients it is shared with.
func (b *noticeBuilder) entity(e export.Entity) {
	name := ""
	if e.Purpose != "" {
		name = b.purpose(e.Purpose, e.LegalBasis)
	}
	b.n.Retention = append(b.n.Retention, export.RetentionNotice{What: e.Label, Rule: export.RetentionRule(e)})
	why := name
	if why == "" || why == config.NotInformed {
		why = e.Label
	}
	for _, to := range e.SharedWith {
		b.recipient(to, e.Label, why)
	}
}

// purpose adds code under basis once and returns its name.
func (b *noticeBuilder) purpose(code, basis string) string {
	name, desc := b.purposeName(code)
	if slices.ContainsFunc(b.n.Purposes, func(p export.PurposeNotice) bool { return p.Code == code && p.LegalBasis == basis }) {
		return name
	}
	p := export.PurposeNotice{Code: code, Name: name, Description: desc, LegalBasis: basis}
	if basis == "" {
		p.LegalBasisLabel = config.NotInformed
	} else {
		p.LegalBasisLabel, p.LegalBasisArticle = datamap.LegalBasisLabel(basis)
	}
	b.n.Purposes = append(b.n.Purposes, p)
	return name
}

// consent adds a purpose the titular consented to and, for a consent to
// share, its recipients (Art. 9 V, 18 VII).
func (b *noticeBuilder) consent(id string) {
	basis := "consentimento"
	p := b.catalog[id]
	if p != nil && p.LegalBasis != "" {
		basis = p.LegalBasis
	}
	name := b.purpose(id, basis)
	if p == nil {
		return
	}
	what := p.Description
	if what == "" {
		what = "Dados descritos no termo de consentimento"
	}
	for _, to := range p.SharedWith {
		b.recipient(to, what, "Consentimento concedido: "+name)
	}
}

// recipient adds what to the entry of (name, why), creating it.
func (b *noticeBuilder) recipient(name, what, why string) {
	for i := range b.n.Recipients {
		r := &b.n.Recipients[i]
		if r.Name == name && r.Purpose == why {
			if !slices.Contains(r.What, what) {
				r.What = append(r.What, what)
			}
			return
		}
	}
	b.n.Recipients = append(b.n.Recipients, export.RecipientNotice{Name: name, What: []string{what}, Purpose: why})
}
