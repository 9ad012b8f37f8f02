package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/ledger"
)

// Ledger events of the incident register (LGPD art. 48). Their leaves name
// the incident in RequestID, carry no subject reference and no text: the
// record's SHA-256 (and, for the titulares' notification, that of the
// subject references told) vouches for what was registered.
const (
	EventIncidentRegistered = "incident.registered"
	EventIncidentUpdated    = "incident.updated"
	// EventIncidentNotified (outbox.go) is also the leaf of a notification.
)

// KindIncident is the Kind of an incident's ledger leaves.
const KindIncident = "INCIDENT"

// Notification targets, as in lgpd.v1.NotifyTarget.
const (
	NotifyANPD      = "ANPD"
	NotifyTitulares = "TITULARES"
)

// Incident is one security incident of the register (lgpd_incidents).
type Incident struct {
	ID                 string
	Title, Description string
	// TitularNotice is the pt-BR text the titulares are sent.
	TitularNotice  string
	OccurredAt     *time.Time
	KnownAt, DueAt time.Time
	Categories     []string
	Entities       []string
	// SubjectsAffected counts the subject references recorded.
	SubjectsAffected int
	Measures         string
	RelevantRisk     bool
	RiskAssessment   string
	DPOContact       string

	ANPDNotifiedAt      *time.Time
	ANPDProtocol        string
	ANPDNotifiedBy      string
	TitularesNotifiedAt *time.Time
	TitularesNotifiedBy string
	TitularesEvents     int

	CreatedBy            string
	CreatedAt, UpdatedAt time.Time
	// UpdatedBy is the caller of the last UpdateIncident; empty if none.
	UpdatedBy string
}

// Overdue reports whether a notification is still missing after DueAt.
func (i *Incident) Overdue(now time.Time) bool {
	return now.After(i.DueAt) && (i.ANPDNotifiedAt == nil || i.TitularesNotifiedAt == nil)
}

// recordDigest is the SHA-256 of what the register says of the incident:
// the ledger vouches for the texts without holding them.
func (i *Incident) recordDigest() ([32]byte, error) {
	b, err := json.Marshal(struct {
		ID, Title, Description, TitularNotice, Measures, RiskAssessment, DPOContact string
		OccurredAt                                                                  *time.Time
		KnownAt, DueAt                                                              time.Time
		Categories, Entities                                                        []string
		SubjectsAffected                                                            int
		RelevantRisk                                                                bool
	}{i.ID, i.Title, i.Description, i.TitularNotice, i.Measures, i.RiskAssessment, i.DPOContact,
		i.OccurredAt, i.KnownAt, i.DueAt, i.Categories, i.Entities, i.SubjectsAffected, i.RelevantRisk})
	if err != nil {
		return [32]byte{}, fmt.Errorf("incident digest: %w", err)
	}
	return sha256.Sum256(b), nil
}

// refsDigest is the SHA-256 of the sorted subject references, one a line.
func refsDigest(refs []string) [32]byte {
	s := slices.Clone(refs)
	slices.Sort(s)
	return sha256.Sum256([]byte(strings.Join(s, "\n")))
}

// incidentLeaf appends an incident's leaf: To names the step (REGISTERED,
// UPDATED, ANPD_NOTIFIED, TITULARES_NOTIFIED); an incident has no state
// before it, so From stays empty.
func (x *Tx) incidentLeaf(ctx context.Context, i *Incident, event, to string, at time.Time, refs []string, extra ...ledger.Digest) error {
	rec, err := i.recordDigest()
	if err != nil {
		return err
	}
	ds := []ledger.Digest{{Name: "incident.record", SHA256: rec}}
	if refs != nil {
		ds = append(ds, ledger.Digest{Name: "incident.subjects", SHA256: refsDigest(refs)})
	}
	ds = append(ds, extra...)
	slices.SortFunc(ds, func(a, b ledger.Digest) int { return strings.Compare(a.Name, b.Name) })
	return x.s.appendLeaf(ctx, x.tx, ledger.Leaf{Event: event, Kind: KindIncident, RequestID: i.ID, To: to, At: at, Digests: ds})
}

// ResolveSubject returns the subject reference of the titular identified
// by ids (with linked, the identifiers the CRM links to them), indexing
// identifiers not seen yet, exactly as a request's subject is resolved: the
// titular's later requests and events share the reference.
func (x *Tx) ResolveSubject(ctx context.Context, ids, linked Identifiers, mergeEndpoints []string) (string, error) {
	return x.s.subjectRef(ctx, x.tx, NewRequest{Subject: ids, Linked: linked, MergeEndpoints: mergeEndpoints})
}

// InsertIncident registers i (ID, CreatedAt, UpdatedAt filled in) with the
// titulares it affected, by subject reference, and its ledger leaf.
func (x *Tx) InsertIncident(ctx context.Context, i *Incident, refs []string) error {
	refs = slices.Compact(slices.Sorted(slices.Values(refs)))
	now := x.s.now()
	i.ID, i.CreatedAt, i.UpdatedAt, i.SubjectsAffected = uuid.NewString(), now, now, len(refs)
	cats, err := json.Marshal(nonNil(i.Categories))
	if err != nil {
		return err
	}
	ents, err := json.Marshal(nonNil(i.Entities))
	if err != nil {
		return err
	}
	if _, err := x.tx.ExecContext(ctx, `INSERT INTO lgpd_incidents (id, title, description, titular_notice, occurred_at, known_at,
 due_at, categories_json, entities_json, subjects_affected, measures, relevant_risk, risk_assessment, dpo_contact, created_by,
 created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		i.ID, i.Title, i.Description, i.TitularNotice, i.OccurredAt, i.KnownAt, i.DueAt, string(cats), string(ents),
		i.SubjectsAffected, i.Measures, i.RelevantRisk, i.RiskAssessment, i.DPOContact, i.CreatedBy, now, now); err != nil {
		return fmt.Errorf("register incident: %w", err)
	}
	for chunk := range slices.Chunk(refs, 500) {
		args := make([]any, 0, 2*len(chunk))
		for _, r := range chunk {
			args = append(args, i.ID, r)
		}
		//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
		if _, err := x.tx.ExecContext(ctx, "INSERT INTO lgpd_incident_subjects (incident_id, subject_ref) VALUES "+
			sqlq.RowsOf(len(chunk), 2), args...); err != nil {
			return fmt.Errorf("register incident subjects: %w", err)
		}
	}
	return x.incidentLeaf(ctx, i, EventIncidentRegistered, "REGISTERED", now, refs)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// UpdateIncident stores i's texts, categories and risk (as changed by the
// caller after IncidentForUpdate), by whom, with an incident.updated leaf.
func (x *Tx) UpdateIncident(ctx context.Context, i *Incident, by string) error {
	cats, err := json.Marshal(nonNil(i.Categories))
	if err != nil {
		return err
	}
	now := x.s.now()
	if _, err := x.tx.ExecContext(ctx, `UPDATE lgpd_incidents SET title = ?, description = ?, titular_notice = ?, categories_json = ?,
 measures = ?, relevant_risk = ?, risk_assessment = ?, dpo_contact = ?, updated_at = ?, updated_by = ? WHERE id = ?`,
		i.Title, i.Description, i.TitularNotice, string(cats), i.Measures, i.RelevantRisk, i.RiskAssessment, i.DPOContact, now, by, i.ID); err != nil {
		return fmt.Errorf("update incident: %w", err)
	}
	i.UpdatedAt, i.UpdatedBy = now, by
	return x.incidentLeaf(ctx, i, EventIncidentUpdated, "UPDATED", now, nil)
}

// IncidentForUpdate reads incident id and locks its row until the
// transaction ends, so two notifications of one target never both pass.
func (x *Tx) IncidentForUpdate(ctx context.Context, id string) (*Incident, error) {
	return scanIncident(x.tx.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM lgpd_incidents WHERE id = ? FOR UPDATE", id))
}

// RecordANPDNotified records the communication to the ANPD, sent at with
// protocol, and its leaf. A second one is ErrConflict.
func (x *Tx) RecordANPDNotified(ctx context.Context, i *Incident, at time.Time, protocol, by string) error {
	if i.ANPDNotifiedAt != nil {
		return fmt.Errorf("%w: the ANPD notification of this incident was already recorded (protocol %s)", ErrConflict, i.ANPDProtocol)
	}
	now := x.s.now()
	if _, err := x.tx.ExecContext(ctx, `UPDATE lgpd_incidents SET anpd_notified_at = ?, anpd_protocol = ?, anpd_notified_by = ?,
 updated_at = ? WHERE id = ?`, at, protocol, by, now, i.ID); err != nil {
		return fmt.Errorf("record ANPD notification: %w", err)
	}
	i.ANPDNotifiedAt, i.ANPDProtocol, i.ANPDNotifiedBy, i.UpdatedAt = &at, protocol, by, now
	// The leaf is dated when it is recorded; what the DPO declared (when it
	// was sent, the protocol) is in its incident.anpd digest.
	return x.incidentLeaf(ctx, i, EventIncidentNotified, "ANPD_NOTIFIED", now, nil,
		ledger.Digest{Name: "incident.anpd", SHA256: sha256.Sum256([]byte(at.UTC().Format(time.RFC3339Nano) + "\n" + protocol))})
}

// NotifyTitulares enqueues one incident.notified event per subject
// reference the incident affected, for endpoints (the tenant's webhooks
// subscribed to it), with data (no personal data: the incident's texts),
// records the notification and its leaf. A second one is ErrConflict.
func (x *Tx) NotifyTitulares(ctx context.Context, i *Incident, data map[string]any, endpoints []string, by string) error {
	if i.TitularesNotifiedAt != nil {
		return fmt.Errorf("%w: the titulares of this incident were already notified, at %s", ErrConflict, i.TitularesNotifiedAt.Format(time.RFC3339))
	}
	refs, err := x.IncidentSubjects(ctx, i.ID)
	if err != nil {
		return err
	}
	// Every event carries the same texts: statements are sized so that one
	// stays well under max_allowed_packet (16 MiB by default on MariaDB).
	size, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("incident event data: %w", err)
	}
	per := min(500, max(1, (4<<20)/(len(size)+200)))
	for chunk := range slices.Chunk(refs, per) {
		rows := make([]outboxRow, len(chunk))
		for j, ref := range chunk {
			rows[j] = outboxRow{event: &OutboxEvent{Type: EventIncidentNotified, SubjectRef: ref, Data: data}, endpoints: endpoints}
		}
		if err := x.s.insertOutbox(ctx, x.tx, rows); err != nil {
			return err
		}
	}
	now := x.s.now()
	if _, err := x.tx.ExecContext(ctx, `UPDATE lgpd_incidents SET titulares_notified_at = ?, titulares_notified_by = ?,
 titulares_events = ?, updated_at = ? WHERE id = ?`, now, by, len(refs), now, i.ID); err != nil {
		return fmt.Errorf("record titulares notification: %w", err)
	}
	i.TitularesNotifiedAt, i.TitularesNotifiedBy, i.TitularesEvents, i.UpdatedAt = &now, by, len(refs), now
	return x.incidentLeaf(ctx, i, EventIncidentNotified, "TITULARES_NOTIFIED", now, refs)
}

// IncidentSubjects returns the subject references incident id affected,
// sorted.
func (r Reads) IncidentSubjects(ctx context.Context, id string) ([]string, error) {
	rows, err := r.q.QueryContext(ctx, "SELECT subject_ref FROM lgpd_incident_subjects WHERE incident_id = ? ORDER BY subject_ref", id)
	if err != nil {
		return nil, fmt.Errorf("incident subjects: %w", err)
	}
	return collect(rows, "incident subjects", func(rows *sql.Rows) (string, error) {
		var s string
		return s, rows.Scan(&s)
	})
}

const incidentColumns = `id, title, description, titular_notice, occurred_at, known_at, due_at, categories_json, entities_json,
 subjects_affected, measures, relevant_risk, risk_assessment, dpo_contact, anpd_notified_at, anpd_protocol, anpd_notified_by,
 titulares_notified_at, titulares_notified_by, titulares_events, created_by, created_at, updated_at, updated_by`

func scanIncident(sc interface{ Scan(...any) error }) (*Incident, error) {
	var i Incident
	var occurred, anpdAt, titAt sql.NullTime
	var protocol, anpdBy, titBy, updBy sql.NullString
	var cats, ents string
	err := sc.Scan(&i.ID, &i.Title, &i.Description, &i.TitularNotice, &occurred, &i.KnownAt, &i.DueAt, &cats, &ents,
		&i.SubjectsAffected, &i.Measures, &i.RelevantRisk, &i.RiskAssessment, &i.DPOContact, &anpdAt, &protocol, &anpdBy,
		&titAt, &titBy, &i.TitularesEvents, &i.CreatedBy, &i.CreatedAt, &i.UpdatedAt, &updBy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read incident: %w", err)
	}
	if err := json.Unmarshal([]byte(cats), &i.Categories); err != nil {
		return nil, fmt.Errorf("read incident categories: %w", err)
	}
	if err := json.Unmarshal([]byte(ents), &i.Entities); err != nil {
		return nil, fmt.Errorf("read incident entities: %w", err)
	}
	utc := func(n sql.NullTime) *time.Time {
		if !n.Valid {
			return nil
		}
		t := n.Time.UTC()
		return &t
	}
	i.OccurredAt, i.ANPDNotifiedAt, i.TitularesNotifiedAt = utc(occurred), utc(anpdAt), utc(titAt)
	i.ANPDProtocol, i.ANPDNotifiedBy, i.TitularesNotifiedBy, i.UpdatedBy = protocol.String, anpdBy.String, titBy.String, updBy.String
	i.KnownAt, i.DueAt, i.CreatedAt, i.UpdatedAt = i.KnownAt.UTC(), i.DueAt.UTC(), i.CreatedAt.UTC(), i.UpdatedAt.UTC()
	return &i, nil
}

// Incident returns incident id, or ErrNotFound.
func (r Reads) Incident(ctx context.Context, id string) (*Incident, error) {
	return scanIncident(r.q.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM lgpd_incidents WHERE id = ?", id))
}

// IncidentFilter selects incidents to list.
type IncidentFilter struct {
	// OverdueAt, when set, keeps only incidents due before it with a
	// notification missing.
	OverdueAt *time.Time
	PageSize  int
	PageToken string
}

// ListIncidents returns incidents newest known first, keyset-paged on
// (known_at, id).
func (r Reads) ListIncidents(ctx context.Context, f IncidentFilter) ([]*Incident, string, error) {
	if f.PageSize <= 0 || f.PageSize > 1000 {
		f.PageSize = DefaultPageSize
	}
	q := "SELECT " + incidentColumns + " FROM lgpd_incidents WHERE 1 = 1"
	var args []any
	if f.OverdueAt != nil {
		q += " AND due_at < ? AND (anpd_notified_at IS NULL OR titulares_notified_at IS NULL)"
		args = append(args, *f.OverdueAt)
	}
	if f.PageToken != "" {
		known, id, err := decodePageToken(f.PageToken)
		if err != nil {
			return nil, "", err
		}
		q += " AND (known_at < ? OR (known_at = ? AND id < ?))"
		args = append(args, known, known, id)
	}
	q += " ORDER BY known_at DESC, id DESC LIMIT ?"
	args = append(args, f.PageSize+1)
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list incidents: %w", err)
	}
	out, err := collect(rows, "list incidents", func(rows *sql.Rows) (*Incident, error) { return scanIncident(rows) })
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > f.PageSize {
		out = out[:f.PageSize]
		last := out[len(out)-1]
		next = encodePageToken(last.KnownAt, last.ID)
	}
	return out, next, nil
}
