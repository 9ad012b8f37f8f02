package service

import (
	"slices"
	"strings"
	"time"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/export"
	"github.com/titular/titular/store"
)

// exportSink feeds the data-map walk into export writers.
type exportSink struct {
	w export.Writer
	m *datamap.Map // names the entities' purposes; nil leaves the codes
}

func (s *exportSink) BeginEntity(e *datamap.Entity) error {
	return s.w.BeginEntity(exportEntity(s.m, e))
}

func (s *exportSink) Row(values []any) error {
	for i, v := range values {
		switch x := v.(type) {
		case crm.Date:
			values[i] = export.Date{Year: x.Year, Month: x.Month, Day: x.Day}
		case crm.Decimal:
			values[i] = export.Decimal(x)
		}
	}
	return s.w.WriteRow(values)
}

func (s *exportSink) EndEntity(*datamap.Entity, int64) error { return s.w.EndEntity() }

// holdExportSink is exportSink for EXTRACT: it also reads each row's
// retention dates (walk with crm.RetentionExtra), so the export gives every
// hold the date it releases the titular's rows (the latest among them).
type holdExportSink struct {
	exportSink
	now   time.Time
	cur   *datamap.Entity
	holds []*export.Retention // of the open entity, as handed to the writer
}

var _ crm.KeyedSink = (*holdExportSink)(nil)

func (s *holdExportSink) BeginEntity(e *datamap.Entity) error {
	ent := exportEntity(s.m, e)
	s.cur, s.holds = e, ent.Holds
	return s.w.BeginEntity(ent)
}

func (s *holdExportSink) KeyedRow(_, values, extra []any) error {
	for i, until := range crm.Releases(s.cur, extra, s.now) {
		if h := s.holds[i]; !until.IsZero() && (h.Until == nil || until.After(*h.Until)) {
			u := until
			h.Until = &u
		}
	}
	return s.Row(values)
}

// exportEntity describes an entity for the titular: pt-BR labels, purpose,
// legal basis, origin, recipients and retention (Art. 9, 18 VII, 19 II).
// m names the purpose code for the titular.
func exportEntity(m *datamap.Map, e *datamap.Entity) export.Entity {
	out := export.Entity{
		Name: e.Name, Label: e.Label, Table: e.Table, Purpose: e.Purpose, PurposeLabel: purposeLabel(m, e.Purpose),
		LegalBasis: e.LegalBasis, Origin: e.Origin, SharedWith: e.SharedWith,
	}
	if out.Label == "" {
		out.Label = e.Name
	}
	if e.LegalBasis != "" {
		out.LegalBasisLabel, out.LegalBasisArticle = datamap.LegalBasisLabel(e.LegalBasis)
	}
	for _, r := range e.Holds {
		out.Holds = append(out.Holds, &export.Retention{Basis: r.Basis, Reference: r.Reference, KeepYears: r.KeepYears,
			From: r.From.String(), FromText: fromText(e, r), WhileReferenced: r.WhileReferenced, Keep: r.Keep})
	}
	for _, f := range e.Fields {
		out.Fields = append(out.Fields, export.Field{
			Name: f.Column, Label: f.Label, Category: f.Category,
			CategoryLabel: datamap.CategoryLabel(f.Category), Sensitive: datamap.IsSensitive(f.Category),
		})
	}
	return out
}

// purposeLabel is the data map's name for a purpose code, "" when the map
// does not name it.
func purposeLabel(m *datamap.Map, code string) string {
	if m == nil {
		return ""
	}
	if p, ok := m.Purpose(code); ok {
		return p.Name
	}
	return ""
}

// confirmSink answers CONFIRM: whether rows exist, and which categories of
// personal data they hold. It keeps no values.
type confirmSink struct {
	categories []string
	entities   []string
}

func (s *confirmSink) BeginEntity(*datamap.Entity) error { return nil }
func (s *confirmSink) Row([]any) error                   { return nil }

func (s *confirmSink) EndEntity(e *datamap.Entity, rows int64) error {
	if rows == 0 {
		return nil
	}
	s.entities = append(s.entities, e.Name)
	for _, f := range e.PersonalFields() {
		if !slices.Contains(s.categories, f.Category) {
			s.categories = append(s.categories, f.Category)
		}
	}
	return nil
}

func (s *confirmSink) result() *store.ConfirmResult {
	slices.Sort(s.categories)
	return &store.ConfirmResult{
		HasPersonalData: len(s.entities) > 0,
		Categories:      append([]string{}, s.categories...),
		Entities:        append([]string{}, s.entities...),
	}
}

// fromText says in pt-BR, with the fields' labels, when a hold starts
// counting: "Data da venda", "1º de janeiro do ano seguinte a Data da
// venda", "a mais recente entre Data da venda e Data do distrato", "Data do
// distrato, ou Data da venda quando não houver". "" for a hold while
// referenced.
func fromText(e *datamap.Entity, r *datamap.Retention) string {
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
