package service

import (
	"context"

	"github.com/titular/titular/config"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/export"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// consentReceiptEntity is the export section listing the titular's consent
// records: what they agreed to, refused or revoked, when, through which
// channel, and the SHA-256 of the exact term text (Art. 8 §2, 9, 18 II). It
// follows the data map's entities and is listed even when empty, so the
// export also states the absence of consents.
const consentReceiptEntity = "consentimentos_titular"

// exportsEvidence reports whether r's export carries the consent evidence
// (IP address, user agent): for a request the DPO or the titular's own
// portal made, or any when the tenant allows it. A request recorded before
// roles were has no role and gets none.
func exportsEvidence(t *tenant.Tenant, r *store.Request) bool {
	switch r.CreatedRole {
	case config.RoleDPO, config.RoleTitular:
		return true
	}
	return t.Config.Policy.BackendConsentEvidence
}

func consentReceiptDescription(m *datamap.Map, withEvidence bool) export.Entity {
	label, article := datamap.LegalBasisLabel("obrigacao_legal")
	field := func(name, label, category string) export.Field {
		return export.Field{Name: name, Label: label, Category: category, CategoryLabel: datamap.CategoryLabel(category)}
	}
	e := export.Entity{
		Name: consentReceiptEntity, Label: "Recibo de consentimentos", Table: "lgpd_consents",
		Purpose:    "prova_consentimento",
		LegalBasis: "obrigacao_legal", LegalBasisLabel: label, LegalBasisArticle: article,
		Origin: "Registrado pelo controlador a cada concessão, recusa ou revogação de consentimento do titular",
		Fields: []export.Field{
			field("purpose", "Finalidade", datamap.CategoryContext),
			field("purpose_name", "Nome da finalidade", datamap.CategoryContext),
			field("action", "Manifestação", "comportamental"),
			field("term_version", "Versão do termo", datamap.CategoryContext),
			field("term_sha256", "SHA-256 do texto do termo", datamap.CategoryContext),
			field("at", "Data e hora", datamap.CategoryContext),
			field("channel", "Canal", datamap.CategoryContext),
			field("request_id", "Protocolo", datamap.CategoryContext),
		},
	}
	if m != nil {
		if p, ok := m.Purpose(e.Purpose); ok {
			e.PurposeLabel = p.Name
		}
	}
	if withEvidence {
		e.Fields = append(e.Fields, field("ip", "Endereço IP", "identificacao"),
			field("user_agent", "Navegador ou aplicativo", "comportamental"))
	}
	return e
}

func consentActionLabel(action string) string {
	switch action {
	case store.ConsentGrant:
		return "Consentimento concedido"
	case store.ConsentRefuse:
		return "Consentimento recusado"
	case store.ConsentRevoke:
		return "Consentimento revogado"
	}
	return action
}

// writeConsentReceipt appends the consent receipt to an export, reading in
// read (the export's snapshot), and returns its row count.
func writeConsentReceipt(ctx context.Context, read store.Reads, t *tenant.Tenant, r *store.Request, w export.Writer, withEvidence bool) (store.EntityCount, error) {
	count := store.EntityCount{Entity: consentReceiptEntity}
	_, history, err := read.ConsentHistoryFor(ctx, r.Subject)
	if err != nil {
		return count, err
	}
	names := map[string]string{}
	if len(history) > 0 {
		ps, err := read.Purposes(ctx) // in the snapshot, as exportNotice does
		if err != nil {
			return count, err
		}
		for _, p := range ps {
			names[p.ID] = p.Name
		}
	}
	if err := w.BeginEntity(consentReceiptDescription(t.Map, withEvidence)); err != nil {
		return count, err
	}
	for _, c := range history {
		row := []any{c.PurposeID, names[c.PurposeID], consentActionLabel(c.Action),
			orNil(c.TermVersion), orNil(c.TermSHA256), c.At, c.Channel, c.RequestID}
		if withEvidence {
			row = append(row, orNil(c.Evidence.IP), orNil(c.Evidence.UserAgent))
		}
		if err := w.WriteRow(row); err != nil {
			return count, err
		}
		count.Rows++
	}
	return count, w.EndEntity()
}

// orNil writes an absent text as null rather than "".
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}
