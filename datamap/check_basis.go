package datamap

import (
	"fmt"
	"slices"
	"strings"
)

// sensitiveBases are the legal bases LGPD Art. 11 allows for sensitive
// personal data (Art. 5 II): consent (I) and the cases of II, a to g.
// Legitimate interest, credit protection and the performance of a contract
// are Art. 7 bases only.
func sensitiveBases() []string {
	return []string{"consentimento", "obrigacao_legal", "politicas_publicas", "estudos_pesquisa",
		"exercicio_direitos", "protecao_vida", "tutela_saude"}
}

// SensitiveBasisAllowed reports whether LGPD Art. 11 allows basis for
// sensitive personal data.
func SensitiveBasisAllowed(basis string) bool { return slices.Contains(sensitiveBases(), basis) }

// sensitiveBasis reports the sensitive fields (Art. 5 II) of an entity whose
// legal basis Art. 11 does not allow for them: a health note under
// legitimate interest is unlawful however well the rest of the map fits.
// An entity without a legal basis is left to the warnings (MissingBasics).
func (c *schemaCheck) sensitiveBasis(e *Entity, base string) {
	if e.LegalBasis == "" || SensitiveBasisAllowed(e.LegalBasis) {
		return
	}
	bp := base + ".legal_basis"
	for _, f := range e.Fields {
		if !IsSensitive(f.Category) {
			continue
		}
		path := base + ".fields." + f.Column
		c.add(c.m.line(path+".category", f.Line), path,
			fmt.Sprintf("field %s holds sensitive data (%s, LGPD Art. 5 II) but entity %s's legal_basis %s (line %d) is not one Art. 11 allows for sensitive data",
				f.Column, f.Category, e.Name, e.LegalBasis, c.at(bp, e)),
			fmt.Sprintf("move the field to an entity whose legal_basis is one of %s, change this entity's legal_basis if one of them applies, or stop mapping (and collecting) the field",
				strings.Join(sensitiveBases(), ", ")))
	}
}

// MissingBasics names, in document order, the entities without a purpose or
// a legal basis (LGPD Art. 9 I and II, 37): a map may run without them, but
// an EXTRACT cannot tell the titular why their data is processed. `titular
// datamap check` warns about them; a draft from discovery leaves them empty.
func MissingBasics(m *Map) []string {
	var out []string
	for _, e := range m.Entities {
		if strings.TrimSpace(e.Purpose) == "" || e.LegalBasis == "" {
			out = append(out, e.Name)
		}
	}
	return out
}
