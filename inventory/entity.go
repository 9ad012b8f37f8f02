package inventory

import (
	"strings"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/export"
)

// ExportEntity describes e as the titular's copy does (labels, purpose,
// basis, origin, recipients, holds with their start in words), so the
// record words retention exactly as export.RetentionRule does for the
// titular: the titular's copy (service) and the record of processing both
// build their entities here. m may be nil (no purpose names then).
func ExportEntity(m *datamap.Map, e *datamap.Entity) export.Entity {
	out := export.Entity{Name: e.Name, Label: e.Label, Table: e.Table, Purpose: e.Purpose,
		LegalBasis: e.LegalBasis, Origin: e.Origin, SharedWith: e.SharedWith}
	if out.Label == "" {
		out.Label = e.Name
	}
	if m != nil {
		if p, ok := m.Purpose(e.Purpose); ok {
			out.PurposeLabel = p.Name
		}
	}
	if e.LegalBasis != "" {
		out.LegalBasisLabel, out.LegalBasisArticle = datamap.LegalBasisLabel(e.LegalBasis)
	}
	for _, r := range e.Holds {
		out.Holds = append(out.Holds, &export.Retention{Basis: r.Basis, Reference: r.Reference, KeepYears: r.KeepYears,
			From: r.From.String(), FromText: FromText(e, r), WhileReferenced: r.WhileReferenced, Keep: r.Keep})
	}
	for _, f := range e.Fields {
		out.Fields = append(out.Fields, export.Field{Name: f.Column, Label: f.Label, Category: f.Category,
			CategoryLabel: datamap.CategoryLabel(f.Category), Sensitive: datamap.IsSensitive(f.Category)})
	}
	return out
}

// FromText says in pt-BR, with the fields' labels, when a hold starts
// counting ("Data da venda", "1º de janeiro do ano seguinte a Data da
// venda", "a mais recente entre A e B", "A, ou B quando não houver"); ""
// for a hold while referenced.
func FromText(e *datamap.Entity, r *datamap.Retention) string {
	if r.WhileReferenced {
		return ""
	}
	label := func(c string) string {
		if f, ok := e.Field(c); ok && f.Label != "" {
			return f.Label
		}
		return c
	}
	f := r.From
	var s string
	switch {
	case len(f.LatestOf) > 0:
		ls := make([]string, len(f.LatestOf))
		for i, c := range f.LatestOf {
			ls[i] = label(c)
		}
		s = "a mais recente entre " + strings.Join(ls[:len(ls)-1], ", ") + " e " + ls[len(ls)-1]
	case f.WhenSet != "":
		s = label(f.WhenSet) + ", ou " + label(f.Else) + " quando não houver"
	default:
		s = label(f.Column)
	}
	if f.Rule == datamap.RuleNextYearStart {
		s = "1º de janeiro do ano seguinte a " + s
	}
	return s
}
