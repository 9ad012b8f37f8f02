package service

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// Incidents implements lgpd.v1.IncidentService: the tenant's register of
// security incidents (LGPD art. 48, Res. CD/ANPD 15/2024), for the DPO.
// The work is done by the functions below it, which `titular incident`
// calls too, with the tenant opened from the config.
type Incidents struct {
	tenants *tenant.Registry
}

var _ lgpdv1.IncidentServiceServer = (*Incidents)(nil)

// NewIncidents returns the incident service.
func NewIncidents(tenants *tenant.Registry) *Incidents { return &Incidents{tenants: tenants} }

// Limits of an incident's record.
const (
	// maxIncidentSubjects bounds the titulares one registration resolves
	// (identifiers given, or rows of the entities named): each costs a
	// look-up in the subject index, all in one transaction.
	maxIncidentSubjects = 10000
	maxIncidentText     = 16 << 10
	// maxNoticeText bounds the texts every titular's event carries (the
	// notice and the measures): an e-mail's worth, repeated per titular.
	maxNoticeText    = 4 << 10
	maxIncidentTitle = 200
	maxDPOContact    = 255
	maxANPDProtocol  = 100
)

// CreateIncident registers an incident.
func (s *Incidents) CreateIncident(ctx context.Context, in *lgpdv1.CreateIncidentRequest) (*lgpdv1.Incident, error) {
	pr, _ := PrincipalFrom(ctx)
	t, err := s.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	i, err := RegisterIncident(ctx, t, pr.Name, in)
	if err != nil {
		return nil, err
	}
	return incidentToProto(i, time.Now()), nil
}

// GetIncident returns one incident.
func (s *Incidents) GetIncident(ctx context.Context, in *lgpdv1.GetIncidentRequest) (*lgpdv1.Incident, error) {
	t, err := s.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	return GetIncident(ctx, t, in.GetId())
}

// ListIncidents lists the register, newest known first.
func (s *Incidents) ListIncidents(ctx context.Context, in *lgpdv1.ListIncidentsRequest) (*lgpdv1.ListIncidentsResponse, error) {
	t, err := s.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	return ListIncidents(ctx, t, in)
}

// UpdateIncident changes what the register says of an incident.
func (s *Incidents) UpdateIncident(ctx context.Context, in *lgpdv1.UpdateIncidentRequest) (*lgpdv1.Incident, error) {
	pr, _ := PrincipalFrom(ctx)
	t, err := s.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	return UpdateIncident(ctx, t, pr.Name, in)
}

// NotifyIncident records the ANPD's notification or notifies the titulares.
func (s *Incidents) NotifyIncident(ctx context.Context, in *lgpdv1.NotifyIncidentRequest) (*lgpdv1.Incident, error) {
	pr, _ := PrincipalFrom(ctx)
	t, err := s.tenants.Get(ctx, in.GetTenant())
	if err != nil {
		return nil, err
	}
	return NotifyIncident(ctx, t, pr.Name, in)
}

// RegisterIncident validates in, resolves the titulares it names to subject
// references (identifiers are hashed into the subject index as a request's
// are, and kept nowhere else) and registers the incident with its ledger
// leaf, all in one transaction. by is the caller recorded.
func RegisterIncident(ctx context.Context, t *tenant.Tenant, by string, in *lgpdv1.CreateIncidentRequest) (*store.Incident, error) {
	now := time.Now()
	i, err := incidentFromProto(t, in, now)
	if err != nil {
		return nil, err
	}
	subjects, err := incidentSubjects(ctx, t, in)
	if err != nil {
		return nil, err
	}
	i.CreatedBy = by
	err = t.Store.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		refs := make([]string, 0, len(subjects))
		for _, n := range subjects {
			ref, err := tx.ResolveSubject(ctx, n.Subject, n.Linked, n.MergeEndpoints)
			if err != nil {
				return err
			}
			refs = append(refs, ref)
		}
		return tx.InsertIncident(ctx, i, refs)
	})
	if err != nil {
		return nil, err
	}
	return i, nil
}

// incidentFromProto checks what the DPO wrote of an incident.
func incidentFromProto(t *tenant.Tenant, in *lgpdv1.CreateIncidentRequest, now time.Time) (*store.Incident, error) {
	if in.GetKnownAt() == nil {
		return nil, invalid("KNOWN_AT_REQUIRED", "known_at is required: when the controller learned of the incident (the 3-business-day clock starts there)")
	}
	known := in.GetKnownAt().AsTime()
	switch {
	case known.After(now.Add(time.Minute)):
		return nil, invalid("BAD_KNOWN_AT", "known_at is in the future; give when the incident became known")
	case known.Before(now.AddDate(-10, 0, 0)):
		return nil, invalid("BAD_KNOWN_AT", "known_at is more than 10 years ago; check the date")
	}
	i := &store.Incident{KnownAt: known.UTC(), DueAt: IncidentDueAt(known), RelevantRisk: in.GetRelevantRisk()}
	if in.GetOccurredAt() != nil {
		o := in.GetOccurredAt().AsTime().UTC()
		if o.After(known) {
			return nil, invalid("BAD_OCCURRED_AT", "occurred_at is after known_at; an incident is known after it happens")
		}
		i.OccurredAt = &o
	}
	contact, err := incidentDPOContact(t, in.GetDpoContact())
	if err != nil {
		return nil, err
	}
	if err := setIncidentTexts(i, in.GetTitle(), in.GetDescription(), in.GetTitularNotice(), in.GetMeasures(),
		in.GetRiskAssessment(), contact); err != nil {
		return nil, err
	}
	cats, err := incidentCategories(t.Map, in.GetCategories())
	if err != nil {
		return nil, err
	}
	i.Categories = cats
	if len(in.GetSubjects()) == 0 && len(in.GetEntities()) == 0 {
		return nil, invalid("SUBJECTS_REQUIRED", "name the titulares affected: subjects (their identifiers) and/or entities (every titular with rows in them)")
	}
	ents, err := incidentEntities(t.Map, in.GetEntities())
	if err != nil {
		return nil, err
	}
	i.Entities = ents
	return i, nil
}

// incidentDPOContact is the dpo_contact a new incident records: the one
// given, else the tenant config's dpo.contact — the encarregado's contact
// the titular's copy already names (Art. 41 §1), so the DPO need not type
// it into every incident. Neither set, or a config value longer than the
// register keeps, is an error saying which to fix.
func incidentDPOContact(t *tenant.Tenant, given string) (string, error) {
	if strings.TrimSpace(given) != "" {
		return given, nil
	}
	def := strings.TrimSpace(t.Config.DPO.Contact)
	switch {
	case def == "":
		return "", invalid("BAD_INCIDENT", "dpo_contact is required: %s; give it here, or set dpo.contact in the tenant config and incidents use it", incidentFieldHelp["dpo_contact"])
	case len(def) > maxDPOContact:
		return "", invalid("BAD_INCIDENT", "the tenant config's dpo.contact is longer than the %d bytes an incident keeps; give a shorter dpo_contact here", maxDPOContact)
	}
	return def, nil
}

// setIncidentTexts checks and sets the texts of an incident.
func setIncidentTexts(i *store.Incident, title, description, notice, measures, risk, contact string) error {
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"title", title, maxIncidentTitle}, {"description", description, maxIncidentText},
		{"titular_notice", notice, maxNoticeText}, {"measures", measures, maxNoticeText},
		{"risk_assessment", risk, maxIncidentText}, {"dpo_contact", contact, maxDPOContact},
	} {
		if strings.TrimSpace(f.value) == "" || len(f.value) > f.max || !utf8.ValidString(f.value) {
			return invalid("BAD_INCIDENT", "%s is required: UTF-8 text of at most %d bytes (%s)", f.name, f.max, incidentFieldHelp[f.name])
		}
	}
	i.Title, i.Description, i.TitularNotice, i.Measures, i.RiskAssessment, i.DPOContact = title, description, notice, measures, risk, contact
	return nil
}

var incidentFieldHelp = map[string]string{
	"title":           "a short name for the DPO's lists",
	"description":     "what happened, for the register and the ANPD",
	"titular_notice":  "what happened, in Portuguese for the titulares: the CRM e-mails it to them",
	"measures":        "the measures taken or planned to revert or mitigate the effects",
	"risk_assessment": "why the incident does or does not bring relevant risk to the titulares",
	"dpo_contact":     "how the titulares reach the encarregado, e.g. dpo@empresa.com.br",
}

// incidentCategories checks categories against those the tenant's data map
// gives its fields: the personal data the controller holds.
func incidentCategories(m *datamap.Map, in []string) ([]string, error) {
	var known []string
	for _, e := range m.Entities {
		for _, f := range e.Fields {
			if f.Category != "" && f.Category != datamap.CategoryContext && !slices.Contains(known, f.Category) {
				known = append(known, f.Category)
			}
		}
	}
	slices.Sort(known)
	if len(in) == 0 {
		return nil, invalid("CATEGORIES_REQUIRED", "categories is required: the categories of personal data affected, among %s", strings.Join(known, ", "))
	}
	out := make([]string, 0, len(in))
	for j, c := range in {
		if !slices.Contains(known, c) {
			return nil, invalid("BAD_CATEGORY", "categories[%d] is not a category of this tenant's data map; use %s", j, strings.Join(known, ", "))
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// incidentEntities checks that each entity named is a root of the map (it
// has match rules: its rows name their titular).
func incidentEntities(m *datamap.Map, in []string) ([]string, error) {
	var roots []string
	for _, e := range m.Entities {
		if e.IsRoot() {
			roots = append(roots, e.Name)
		}
	}
	var out []string
	for j, name := range in {
		if !slices.Contains(roots, name) {
			return nil, invalid("BAD_ENTITY", "entities[%d] is not an entity of the data map whose rows identify a titular; use %s", j, strings.Join(roots, ", "))
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// incidentSubjects are the titulares an incident names, ready for the
// subject index: each identified titular with the identifiers the CRM
// links to them (as a request's subject), then each titular with rows in
// the entities named. At most maxIncidentSubjects in all.
func incidentSubjects(ctx context.Context, t *tenant.Tenant, in *lgpdv1.CreateIncidentRequest) ([]store.NewRequest, error) {
	if len(in.GetSubjects()) > maxIncidentSubjects {
		return nil, invalid("TOO_MANY_SUBJECTS", "subjects lists %d titulares, at most %d; register the rest as a second incident or name their entities", len(in.GetSubjects()), maxIncidentSubjects)
	}
	out := make([]store.NewRequest, 0, len(in.GetSubjects()))
	for j, s := range in.GetSubjects() {
		ids, err := normalizeSubject(s, t.Map.Identifiers)
		if err != nil {
			var de *Error
			if errors.As(err, &de) {
				return nil, invalid(de.Reason, "subjects[%d]: %s", j, de.Msg)
			}
			return nil, err
		}
		n := store.NewRequest{Subject: ids}
		if err := linkPerson(ctx, t, &n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if len(in.GetEntities()) == 0 {
		return out, nil
	}
	found, err := entitySubjects(ctx, t, in.GetEntities(), maxIncidentSubjects-len(out))
	if err != nil {
		return nil, err
	}
	merge := t.Config.WebhooksFor(store.EventSubjectMerged)
	for _, ids := range found {
		out = append(out, store.NewRequest{Subject: ids, MergeEndpoints: merge})
	}
	return out, nil
}

// GetIncident returns incident id of t.
func GetIncident(ctx context.Context, t *tenant.Tenant, id string) (*lgpdv1.Incident, error) {
	if uuid.Validate(id) != nil {
		return nil, invalid("BAD_INCIDENT_ID", "id must be an incident id as CreateIncident returned it (a UUID)")
	}
	i, err := t.Store.Incident(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(codes.NotFound, "INCIDENT_NOT_FOUND", "no incident %s in this tenant; list them with ListIncidents", id)
	}
	if err != nil {
		return nil, err
	}
	return incidentToProto(i, time.Now()), nil
}

// ListIncidents lists t's register, newest known first.
func ListIncidents(ctx context.Context, t *tenant.Tenant, in *lgpdv1.ListIncidentsRequest) (*lgpdv1.ListIncidentsResponse, error) {
	now := time.Now()
	f := store.IncidentFilter{PageSize: int(in.GetPageSize()), PageToken: in.GetPageToken()}
	if in.GetOverdueOnly() {
		f.OverdueAt = &now
	}
	is, next, err := t.Store.ListIncidents(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &lgpdv1.ListIncidentsResponse{NextPageToken: next}
	for _, i := range is {
		out.Incidents = append(out.Incidents, incidentToProto(i, now))
	}
	return out, nil
}

// UpdateIncident applies the fields in sets, recording by, with an
// incident.updated leaf. Subjects are not changed: a titular found later is a new incident
// registration (or the same one's entities), so every notification told
// stays what the ledger says it was.
func UpdateIncident(ctx context.Context, t *tenant.Tenant, by string, in *lgpdv1.UpdateIncidentRequest) (*lgpdv1.Incident, error) {
	if uuid.Validate(in.GetId()) != nil {
		return nil, invalid("BAD_INCIDENT_ID", "id must be an incident id as CreateIncident returned it (a UUID)")
	}
	if in.Title == nil && in.Description == nil && in.TitularNotice == nil && in.Measures == nil && in.RelevantRisk == nil &&
		in.RiskAssessment == nil && in.DpoContact == nil && len(in.GetCategories()) == 0 {
		return nil, invalid("NOTHING_TO_UPDATE", "set at least one of title, description, titular_notice, measures, relevant_risk, risk_assessment, dpo_contact, categories")
	}
	var cats []string
	if len(in.GetCategories()) > 0 {
		var err error
		if cats, err = incidentCategories(t.Map, in.GetCategories()); err != nil {
			return nil, err
		}
	}
	var out *store.Incident
	err := t.Store.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		i, err := tx.IncidentForUpdate(ctx, in.GetId())
		if err != nil {
			return err
		}
		pick := func(p *string, cur string) string {
			if p != nil {
				return *p
			}
			return cur
		}
		if err := setIncidentTexts(i, pick(in.Title, i.Title), pick(in.Description, i.Description), pick(in.TitularNotice, i.TitularNotice),
			pick(in.Measures, i.Measures), pick(in.RiskAssessment, i.RiskAssessment), pick(in.DpoContact, i.DPOContact)); err != nil {
			return err
		}
		if in.RelevantRisk != nil {
			i.RelevantRisk = *in.RelevantRisk
		}
		if cats != nil {
			i.Categories = cats
		}
		out = i
		return tx.UpdateIncident(ctx, i, by)
	})
	if err != nil {
		return nil, incidentError(err, in.GetId())
	}
	return incidentToProto(out, time.Now()), nil
}

// NotifyIncident records the ANPD's notification (when it was sent, its
// protocol) or notifies the titulares: one incident.notified event per
// subject reference, to the tenant's webhooks subscribed to it, carrying
// the titular-facing text and no identifier. Either is done once.
func NotifyIncident(ctx context.Context, t *tenant.Tenant, by string, in *lgpdv1.NotifyIncidentRequest) (*lgpdv1.Incident, error) {
	if uuid.Validate(in.GetId()) != nil {
		return nil, invalid("BAD_INCIDENT_ID", "id must be an incident id as CreateIncident returned it (a UUID)")
	}
	now := time.Now()
	var at time.Time
	switch in.GetTarget() {
	case lgpdv1.NotifyTarget_ANPD:
		p := strings.TrimSpace(in.GetProtocol())
		if p == "" || len(p) > maxANPDProtocol || !utf8.ValidString(p) {
			return nil, invalid("PROTOCOL_REQUIRED", "protocol is required for the ANPD: the protocol number its communication form gave, at most %d bytes", maxANPDProtocol)
		}
		at = now
		if in.GetNotifiedAt() != nil {
			at = in.GetNotifiedAt().AsTime().UTC()
		}
		if at.After(now.Add(time.Minute)) {
			return nil, invalid("BAD_NOTIFIED_AT", "notified_at is in the future; give when the communication was sent, or leave it empty for now")
		}
	case lgpdv1.NotifyTarget_TITULARES:
		if in.GetProtocol() != "" || in.GetNotifiedAt() != nil {
			return nil, invalid("BAD_NOTIFICATION", "protocol and notified_at are the ANPD's; the titulares are notified now, leave them empty")
		}
	default:
		return nil, invalid("TARGET_REQUIRED", "target is required: ANPD (record its communication) or TITULARES (notify them through the CRM)")
	}
	var out *store.Incident
	err := t.Store.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		i, err := tx.IncidentForUpdate(ctx, in.GetId())
		if err != nil {
			return err
		}
		out = i
		if in.GetTarget() == lgpdv1.NotifyTarget_ANPD {
			if at.Before(i.KnownAt) {
				return invalid("BAD_NOTIFIED_AT", "notified_at is before the incident's known_at; check the date")
			}
			return tx.RecordANPDNotified(ctx, i, at, strings.TrimSpace(in.GetProtocol()), by)
		}
		return tx.NotifyTitulares(ctx, i, titularNotice(t, i), t.Config.WebhooksFor(store.EventIncidentNotified), by)
	})
	if err != nil {
		return nil, incidentError(err, in.GetId())
	}
	return incidentToProto(out, now), nil
}

// titularNotice is an incident.notified event's data: what the CRM needs
// to write to the titular (Res. 15/2024 art. 9), in pt-BR, and nothing that
// identifies anyone: the titular is the event's subject_ref.
func titularNotice(t *tenant.Tenant, i *store.Incident) map[string]any {
	labels := make([]string, len(i.Categories))
	for j, c := range i.Categories {
		labels[j] = datamap.CategoryLabel(c)
	}
	return map[string]any{
		"incident_id":     i.ID,
		"controller":      t.Config.Name,
		"categories":      i.Categories,
		"category_labels": labels,
		"what_happened":   i.TitularNotice,
		"measures":        i.Measures,
		"dpo_contact":     i.DPOContact,
		"known_at":        i.KnownAt.Format(time.RFC3339),
	}
}

// incidentError names a missing incident and passes domain errors on.
func incidentError(err error, id string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(codes.NotFound, "INCIDENT_NOT_FOUND", "no incident %s in this tenant; list them with ListIncidents", id)
	case errors.Is(err, store.ErrConflict):
		return errorf(codes.FailedPrecondition, "ALREADY_NOTIFIED", "%s", strings.TrimPrefix(err.Error(), store.ErrConflict.Error()+": "))
	}
	return err
}

func incidentToProto(i *store.Incident, now time.Time) *lgpdv1.Incident {
	out := &lgpdv1.Incident{
		Id: i.ID, Title: i.Title, Description: i.Description, TitularNotice: i.TitularNotice,
		KnownAt: ts(i.KnownAt), DueAt: ts(i.DueAt), Overdue: i.Overdue(now), Categories: i.Categories,
		SubjectsAffected: int32(min(i.SubjectsAffected, 1<<31-1)), //nolint:gosec // G115: clamped
		Entities:         i.Entities, Measures: i.Measures, RelevantRisk: i.RelevantRisk, RiskAssessment: i.RiskAssessment,
		DpoContact: i.DPOContact, CreatedBy: i.CreatedBy, CreatedAt: ts(i.CreatedAt), UpdatedAt: ts(i.UpdatedAt), UpdatedBy: i.UpdatedBy,
	}
	if i.OccurredAt != nil {
		out.OccurredAt = ts(*i.OccurredAt)
	}
	if i.ANPDNotifiedAt != nil {
		out.AnpdNotification = &lgpdv1.IncidentNotification{At: ts(*i.ANPDNotifiedAt), By: i.ANPDNotifiedBy,
			Protocol: i.ANPDProtocol, OnTime: !i.ANPDNotifiedAt.After(i.DueAt)}
	}
	if i.TitularesNotifiedAt != nil {
		out.TitularesNotification = &lgpdv1.IncidentNotification{At: ts(*i.TitularesNotifiedAt), By: i.TitularesNotifiedBy,
			OnTime: !i.TitularesNotifiedAt.After(i.DueAt), Events: int32(min(i.TitularesEvents, 1<<31-1))} //nolint:gosec // G115: clamped
	}
	return out
}
