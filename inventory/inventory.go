// Package inventory builds the record of processing operations the
// controller keeps (LGPD Art. 37) from a tenant's data map and config: per
// entity, the categories of data, the sensitive ones flagged, the purpose by
// name, the legal basis in words, the origin, the recipients and the
// retention. It is what the DPO hands the ANPD when asked, so every value is
// in pt-BR words, with the same wording as the titular's copy (export) uses.
// It runs no SQL: the map alone says what the controller processes.
package inventory

import (
	"slices"
	"strings"
	"time"

	"github.com/titular/titular/config"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/export"
)

// Record is the record of processing operations of one controller.
type Record struct {
	// Controller and DPO (the encarregado, Art. 41) as the tenant config
	// names them; a value it leaves out reads config.NotInformed.
	Controller, DPO config.Contact
	// Generated is when the record was drawn up.
	Generated time.Time
	// Entries are the data map's entities, in document order, then the
	// consent records titular itself keeps (lgpd_consents).
	Entries []Entry
	// Purposes are the same entries grouped by purpose.
	Purposes []PurposeEntry
}

// Entry is one kind of record the controller processes (a data-map entity).
type Entry struct {
	Name  string // data-map entity name, e.g. "reserva"
	Label string // pt-BR, e.g. "Reservas e vendas"; the name when the map gives none
	Table string
	// Fields are the labels of the personal fields (every category but
	// contexto), in document order.
	Fields []string
	// Categories are the categories of the personal fields, each once, in
	// the order the fields first name them.
	Categories []Category
	// Purpose is the purpose code; PurposeName names it in words (the
	// map's purposes section), config.NotInformed when nothing names it.
	Purpose, PurposeName string
	// LegalBasis is the code; LegalBasisText says it in words with its
	// article, and for an entity with sensitive data the Art. 11 case too.
	LegalBasis, LegalBasisText string
	Origin                     string
	SharedWith                 []string
	// Retention says how long the data is kept after a deletion request
	// and why, as the titular's copy words it (export.RetentionRule).
	Retention string
}

// Category is one category of personal data of an entry.
type Category struct {
	Code, Label string
	Sensitive   bool // LGPD Art. 5 II
}

// Sensitive reports whether the entry holds sensitive data (Art. 5 II).
func (e Entry) Sensitive() bool {
	return slices.ContainsFunc(e.Categories, func(c Category) bool { return c.Sensitive })
}

// SensitiveText is the record's "Dados sensíveis" cell: "Não", or "Sim: "
// and the sensitive categories by name.
func (e Entry) SensitiveText() string {
	var names []string
	for _, c := range e.Categories {
		if c.Sensitive {
			names = append(names, c.Label)
		}
	}
	if len(names) == 0 {
		return "Não"
	}
	return "Sim: " + strings.Join(names, "; ")
}

// CategoriesText lists the categories by name, each sensitive one marked.
func (e Entry) CategoriesText() string {
	names := make([]string, len(e.Categories))
	for i, c := range e.Categories {
		names[i] = c.Label
		if c.Sensitive {
			names[i] += " (dado sensível)"
		}
	}
	if len(names) == 0 {
		return "Nenhum dado pessoal"
	}
	return strings.Join(names, "; ")
}

// SharedText names the recipients, or says the data is not shared.
func (e Entry) SharedText() string {
	if len(e.SharedWith) == 0 {
		return "Não compartilhado"
	}
	return strings.Join(e.SharedWith, "; ")
}

// Build draws up the record of m for tenant t (its controller and DPO; the
// tenant's name stands for a controller without a name) at now.
func Build(m *datamap.Map, t config.Tenant, now time.Time) *Record {
	r := &Record{Controller: t.Controller.Filled(t.Name), DPO: t.DPO.Filled(""), Generated: now}
	for _, e := range m.Entities {
		r.Entries = append(r.Entries, entry(m, e))
	}
	r.Entries = append(r.Entries, consentEntry(m))
	r.Purposes = purposes(m, r.Entries)
	return r
}

func entry(m *datamap.Map, e *datamap.Entity) Entry {
	out := Entry{Name: e.Name, Label: e.Label, Table: e.Table, Purpose: e.Purpose, LegalBasis: e.LegalBasis,
		Origin: strings.TrimSpace(e.Origin), SharedWith: e.SharedWith}
	if out.Label == "" {
		out.Label = e.Name
	}
	if out.Origin == "" {
		out.Origin = config.NotInformed
	}
	for _, f := range e.PersonalFields() {
		label := f.Label
		if label == "" {
			label = f.Column
		}
		out.Fields = append(out.Fields, label)
		if !slices.ContainsFunc(out.Categories, func(c Category) bool { return c.Code == f.Category }) {
			out.Categories = append(out.Categories, Category{Code: f.Category, Label: datamap.CategoryLabel(f.Category),
				Sensitive: datamap.IsSensitive(f.Category)})
		}
	}
	out.PurposeName = config.NotInformed
	if p, ok := m.Purpose(e.Purpose); ok {
		out.PurposeName = p.Name
	} else if strings.TrimSpace(e.Purpose) != "" {
		out.PurposeName = e.Purpose + " (" + config.NotInformed + " no mapa de dados)"
	}
	out.LegalBasisText = legalBasisText(e.LegalBasis, out.Sensitive())
	out.Retention = export.RetentionRule(ExportEntity(m, e))
	return out
}

// legalBasisText says basis in words with its article; for sensitive data
// it adds the Art. 11 case that allows it, or that none does (which
// `titular datamap check` refuses against a live schema).
func legalBasisText(basis string, sensitive bool) string {
	if basis == "" {
		return config.NotInformed
	}
	label, article := datamap.LegalBasisLabel(basis)
	s := label
	if article != "" {
		s += " (" + article + ")"
	}
	if !sensitive {
		return s
	}
	if a, ok := sensitiveArticle[basis]; ok {
		return s + "; dados sensíveis: " + a
	}
	return s + "; esta base não autoriza o tratamento de dados sensíveis (LGPD art. 11)"
}

// sensitiveArticle is the case of LGPD Art. 11 matching each Art. 7 basis
// that Art. 11 also allows for sensitive data (datamap.SensitiveBasisAllowed).
// Never modified.
var sensitiveArticle = map[string]string{
	"consentimento":      "LGPD art. 11, I",
	"obrigacao_legal":    "LGPD art. 11, II, a",
	"politicas_publicas": "LGPD art. 11, II, b",
	"estudos_pesquisa":   "LGPD art. 11, II, c",
	"exercicio_direitos": "LGPD art. 11, II, d",
	"protecao_vida":      "LGPD art. 11, II, e",
	"tutela_saude":       "LGPD art. 11, II, f",
}
