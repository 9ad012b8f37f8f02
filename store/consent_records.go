package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// ConsentRecord is one row of a titular's consent history (lgpd_consents).
type ConsentRecord struct {
	ID          int64
	SubjectRef  string
	PurposeID   string
	Action      string // ConsentGrant, ConsentRefuse or ConsentRevoke
	TermVersion string // empty when the record names no published term
	TermSHA256  string
	At          time.Time
	Channel     string
	RequestID   string
	Evidence    ConsentEvidence
}

// ConsentEvidence is how the controller proves a record (Art. 8 §2). It is
// personal data: it stays in lgpd_consents only, never in the ledger, the
// outbox or the logs, and ClearConsentEvidence removes it.
type ConsentEvidence struct {
	IP         string
	UserAgent  string
	CapturedBy string
	// Representative is the parent or guardian who gave a child's consent
	// (Art. 14 §1); nil when the titular consented.
	Representative *Representative
	ClearedAt      *time.Time
}

// RecordConsent appends rec to the history in tx, stamping its time.
func (s *Store) recordConsent(ctx context.Context, tx *sql.Tx, rec *ConsentRecord) error {
	rec.At = s.now()
	return insertConsents(ctx, tx, []*ConsentRecord{rec})
}

// ConsentHistory returns every record of the given subject references,
// oldest first.
func (r Reads) ConsentHistory(ctx context.Context, refs []string) ([]ConsentRecord, error) {
	q := r.q
	if len(refs) == 0 {
		return nil, nil
	}
	args := make([]any, len(refs))
	for i, r := range refs {
		args[i] = r
	}
	rows, err := q.QueryContext(ctx, `SELECT id, subject_ref, purpose_id, action, term_version, term_sha256, at, channel,
 request_id, evidence_ip, evidence_user_agent, evidence_captured_by, evidence_cleared_at, evidence_representative_json
 FROM lgpd_consents WHERE subject_ref IN (`+sqlq.Placeholders(len(refs))+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("consent history: %w", err)
	}
	defer rows.Close()
	var out []ConsentRecord
	for rows.Next() {
		var c ConsentRecord
		var version, sum, ip, ua, by, rep sql.NullString
		var cleared sql.NullTime
		if err := rows.Scan(&c.ID, &c.SubjectRef, &c.PurposeID, &c.Action, &version, &sum, &c.At, &c.Channel,
			&c.RequestID, &ip, &ua, &by, &cleared, &rep); err != nil {
			return nil, fmt.Errorf("consent history: %w", err)
		}
		c.TermVersion, c.TermSHA256, c.At = version.String, sum.String, c.At.UTC()
		c.Evidence = ConsentEvidence{IP: ip.String, UserAgent: ua.String, CapturedBy: by.String}
		if rep.Valid && rep.String != "" {
			c.Evidence.Representative = &Representative{}
			if err := json.Unmarshal([]byte(rep.String), c.Evidence.Representative); err != nil {
				return nil, fmt.Errorf("consent history: decode representative: %w", err)
			}
		}
		if cleared.Valid {
			t := cleared.Time.UTC()
			c.Evidence.ClearedAt = &t
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ConsentHistoryFor returns the subject references of the person a
// titular's identifiers are indexed under (lgpd_subject_index), the current
// one first, with those merged into it, and every consent record of those
// references, oldest first: consent given under one identifier and revoked
// under another is one history. Identifiers indexed under different persons
// not merged yet (never sent together, never linked) give them all.
func (r Reads) ConsentHistoryFor(ctx context.Context, ids Identifiers) ([]string, []ConsentRecord, error) {
	s, q := r.s, r.q
	var refs []string
	for _, k := range subjectKinds {
		v := ids.Get(k)
		if v == "" {
			continue
		}
		var ref string
		err := q.QueryRowContext(ctx, "SELECT subject_ref FROM lgpd_subject_index WHERE id_hmac = ?", s.subjectHMAC(k, v)).Scan(&ref)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, nil, fmt.Errorf("look up subject: %w", err)
		case !slices.Contains(refs, ref):
			refs = append(refs, ref)
		}
	}
	refs, err := personRefs(ctx, q, refs...)
	if err != nil {
		return nil, nil, err
	}
	history, err := r.ConsentHistory(ctx, refs)
	return refs, history, err
}

// CurrentConsents picks the latest record per purpose from a history in id
// order, sorted by purpose.
func CurrentConsents(history []ConsentRecord) []ConsentRecord {
	latest := map[string]ConsentRecord{}
	for _, c := range history {
		if prev, ok := latest[c.PurposeID]; !ok || c.ID > prev.ID {
			latest[c.PurposeID] = c
		}
	}
	out := make([]ConsentRecord, 0, len(latest))
	for _, c := range latest {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b ConsentRecord) int { return strings.Compare(a.PurposeID, b.PurposeID) })
	return out
}

// ConsentSubjects pages through the persons whose latest record for purpose
// has the given action, by their current subject reference, in ascending
// order. A person's records may sit under references merged into it: the
// latest record is the latest across all of them (lgpd_subject_merges).
// Unmerged references, nearly all, take the indexed path they always took:
// each candidate row of ix_lgpd_consents_purpose is kept only when no later
// record of the same person and purpose exists, so a page costs a bounded
// number of index lookups. Records under merged references (few) are read
// through the merges and checked the same way.
func (s *Store) ConsentSubjects(ctx context.Context, purposeID, action string, pageSize int, pageToken string) ([]string, string, error) {
	if pageSize < 1 {
		pageSize = DefaultPageSize
	}
	after := ""
	if pageToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(pageToken)
		if err != nil || len(b) == 0 || len(b) > 64 {
			return nil, "", ErrBadPageToken
		}
		after = string(b)
	}
	// laterOf(p): a later record of person p for the purpose, under p itself
	// or under a reference merged into p.
	const laterOf = `NOT EXISTS (SELECT 1 FROM lgpd_consents n
   WHERE n.subject_ref = %[1]s AND n.purpose_id = c.purpose_id AND n.id > c.id)
 AND NOT EXISTS (SELECT 1 FROM lgpd_subject_merges nm JOIN lgpd_consents n ON n.subject_ref = nm.old_ref
   WHERE nm.person_ref = %[1]s AND n.purpose_id = c.purpose_id AND n.id > c.id)`
	// Only the two fixed column names above are formatted in; every value
	// is a bound parameter.
	//nolint:gosec // G202: constant SQL with fixed column names, no input
	q := `(SELECT c.subject_ref AS person FROM lgpd_consents c
 WHERE c.purpose_id = ? AND c.action = ? AND c.subject_ref > ?
 AND NOT EXISTS (SELECT 1 FROM lgpd_subject_merges m WHERE m.old_ref = c.subject_ref)
 AND ` + fmt.Sprintf(laterOf, "c.subject_ref") + `
 ORDER BY c.subject_ref LIMIT ?)
UNION
(SELECT m.person_ref AS person FROM lgpd_subject_merges m JOIN lgpd_consents c ON c.subject_ref = m.old_ref
 WHERE c.purpose_id = ? AND c.action = ? AND m.person_ref > ?
 AND ` + fmt.Sprintf(laterOf, "m.person_ref") + `
 ORDER BY m.person_ref LIMIT ?)
ORDER BY person LIMIT ?`
	rows, err := s.db.QueryContext(ctx, q, purposeID, action, after, pageSize+1, purposeID, action, after, pageSize+1, pageSize+1)
	if err != nil {
		return nil, "", fmt.Errorf("list consent subjects: %w", err)
	}
	refs, err := collect(rows, "list consent subjects", func(rows *sql.Rows) (string, error) {
		var ref string
		return ref, rows.Scan(&ref)
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(refs) > pageSize {
		refs = refs[:pageSize]
		next = base64.RawURLEncoding.EncodeToString([]byte(refs[pageSize-1]))
	}
	return refs, next, nil
}

// ClearConsentEvidence removes the personal evidence (IP, user agent, who
// captured it) from every consent record of the given subject references, in
// tx, and reports how many records it cleared. The records themselves stay:
// who consented to what, when and under which term hash is the controller's
// proof (Art. 8 §2) and holds no personal data once the subject index entry
// is gone.
func (s *Store) clearConsentEvidence(ctx context.Context, tx *sql.Tx, refs []string) (int64, error) {
	if len(refs) == 0 {
		return 0, nil
	}
	args := make([]any, len(refs))
	for i, r := range refs {
		args[i] = r
	}
	return s.clearEvidence(ctx, tx, "subject_ref IN ("+sqlq.Placeholders(len(refs))+")", args...)
}

// clearEvidence clears the evidence of the uncleared records matching where.
func (s *Store) clearEvidence(ctx context.Context, tx *sql.Tx, where string, args ...any) (int64, error) {
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	res, err := tx.ExecContext(ctx, `UPDATE lgpd_consents SET evidence_ip = NULL, evidence_user_agent = NULL,
 evidence_captured_by = NULL, evidence_representative_json = NULL, evidence_cleared_at = ?, evidence_release_at = NULL WHERE evidence_cleared_at IS NULL AND `+where,
		append([]any{s.now()}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("clear consent evidence: %w", err)
	}
	return res.RowsAffected()
}

// EvidenceHold is consent evidence kept as proof after a titular's erasure.
type EvidenceHold struct {
	Basis     string `json:"basis"`
	Reference string `json:"reference"`
	// Until is when the last of the kept evidence is cleared.
	Until   time.Time `json:"until"`
	Records int64     `json:"records"`
}

// ReleaseConsentEvidence is what the erasure of the person behind ref does
// to their consent evidence (under every reference of theirs), in tx: without keep (the data map's
// consent_evidence retention), it is cleared now; with it, each record's
// evidence stays as proof until keep.KeepYears after the record's date and
// SweepConsentEvidence clears it then (evidence already past that goes
// now). It returns the evidence kept, or nil.
func (s *Store) releaseConsentEvidence(ctx context.Context, tx *sql.Tx, ref string, keep *datamap.Retention) (*EvidenceHold, error) {
	// The person's records may sit under references merged into theirs.
	refs, err := personRefs(ctx, tx, ref)
	if err != nil {
		return nil, err
	}
	if keep == nil {
		_, err := s.clearConsentEvidence(ctx, tx, refs)
		return nil, err
	}
	in := "subject_ref IN (" + sqlq.Placeholders(len(refs)) + ")"
	args := make([]any, len(refs))
	for i, r := range refs {
		args[i] = r
	}
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	if _, err := tx.ExecContext(ctx, `UPDATE lgpd_consents SET evidence_release_at = DATE_ADD(at, INTERVAL ? YEAR)
 WHERE `+in+` AND evidence_cleared_at IS NULL`, append([]any{keep.KeepYears}, args...)...); err != nil {
		return nil, fmt.Errorf("keep consent evidence: %w", err)
	}
	if _, err := s.clearEvidence(ctx, tx, in+` AND (evidence_release_at <= ?
 OR (evidence_ip IS NULL AND evidence_user_agent IS NULL AND evidence_captured_by IS NULL AND evidence_representative_json IS NULL))`, append(slices.Clone(args), s.now())...); err != nil {
		return nil, err
	}
	var n int64
	var until sql.NullTime
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), MAX(evidence_release_at) FROM lgpd_consents
 WHERE `+in+` AND evidence_cleared_at IS NULL`, args...).Scan(&n, &until); err != nil {
		return nil, fmt.Errorf("keep consent evidence: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	return &EvidenceHold{Basis: keep.Basis, Reference: keep.Reference, Until: until.Time.UTC(), Records: n}, nil
}

// SweepConsentEvidence clears the evidence kept as proof whose time is up
// (see ReleaseConsentEvidence) and reports how many records it cleared;
// with dryRun it only counts them.
func (s *Store) SweepConsentEvidence(ctx context.Context, dryRun bool) (int64, error) {
	if dryRun {
		var n int64
		err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM lgpd_consents
 WHERE evidence_release_at <= ? AND evidence_cleared_at IS NULL`, s.now()).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("count consent evidence due: %w", err)
		}
		return n, nil
	}
	var n int64
	err := s.readWrite(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		n, err = s.clearEvidence(ctx, tx, "evidence_release_at <= ?", s.now())
		return err
	})
	return n, err
}
