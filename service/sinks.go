package service

import (
	"github.com/titular/titular/inventory"
	"slices"
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

// exportEntity describes e as the titular's copy shows it; the record of
// processing (inventory) words it the same way.
func exportEntity(m *datamap.Map, e *datamap.Entity) export.Entity {
	return inventory.ExportEntity(m, e)
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
