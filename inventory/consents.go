package inventory

import (
	"strconv"

	"github.com/titular/titular/datamap"
)

// consentPurpose is the purpose code of the consent records, as the
// titular's copy names it (service's consent receipt).
const consentPurpose = "prova_consentimento"

// consentEntry is titular's own processing beside the map's: the record
// of every grant, refusal and revocation of consent (lgpd_consents) with
// its evidence (IP, user agent), kept as the controller's proof (Art. 8
// §2). The words are those of the titular's consent receipt (service's
// consentReceiptDescription, and ConsentRetention below).
func consentEntry(m *datamap.Map) Entry {
	e := Entry{
		Name: "recibo_consentimentos", Label: "Recibo de consentimentos", Table: "lgpd_consents",
		Fields: []string{"Manifestação", "Endereço IP", "Navegador ou aplicativo"},
		Categories: []Category{
			{Code: "comportamental", Label: datamap.CategoryLabel("comportamental")},
			{Code: "identificacao", Label: datamap.CategoryLabel("identificacao")},
		},
		Purpose: consentPurpose, PurposeName: "Prova dos consentimentos", LegalBasis: "obrigacao_legal",
		Origin:    "Registrado pelo controlador a cada concessão, recusa ou revogação de consentimento do titular",
		Retention: ConsentRetention(m.ConsentEvidence),
	}
	if p, ok := m.Purpose(consentPurpose); ok {
		e.PurposeName = p.Name
	}
	e.LegalBasisText = legalBasisText(e.LegalBasis, false)
	return e
}

// ConsentRetention is how long the consent records and their evidence
// stay: the records always, the evidence for the map's consent_evidence
// period after an erasure, else until the erasure. The titular's copy
// (service) words its consent receipt's retention with it too.
func ConsentRetention(ev *datamap.Retention) string {
	rule := "Os registros de consentimento são guardados como prova do consentimento (LGPD art. 8º, §2º)"
	if ev == nil {
		return rule + "; as evidências (endereço IP, navegador) são apagadas quando o titular pede a eliminação"
	}
	years := strconv.Itoa(ev.KeepYears) + " anos"
	if ev.KeepYears == 1 {
		years = "1 ano"
	}
	return rule + "; as evidências (endereço IP, navegador) são guardadas por " + years +
		" a contar de cada registro, mesmo após um pedido de eliminação (" + ev.Reference + ")"
}
