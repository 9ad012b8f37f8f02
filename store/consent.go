package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/titular/titular/internal/sqlq"
)

// Consent actions, spelled as in the lgpd.v1 contract.
const (
	ConsentGrant  = "GRANT"
	ConsentRefuse = "REFUSE"
	ConsentRevoke = "REVOKE"
)

// Purpose is one entry of the tenant's purpose catalog (lgpd_purposes).
type Purpose struct {
	ID                  string
	Name                string
	Description         string
	LegalBasis          string
	ConsentRequired     bool
	RefusalConsequences string
	SharedWith          []string
	// CurrentVersion and CurrentSHA256 describe the term in force; empty
	// until one is published.
	CurrentVersion string
	CurrentSHA256  string
	CreatedBy      string
	CreatedAt      time.Time
}

// Term is one published version of a purpose's terms.
type Term struct {
	PurposeID   string
	Version     string
	Text        string
	SHA256      string // of Text's UTF-8 bytes, hex
	ValidFrom   time.Time
	ValidTo     *time.Time // nil while in force
	PublishedBy string
}

// TextSHA256 is the digest titular records for a term's text.
func TextSHA256(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:])
}

// CreatePurpose adds a purpose to the catalog, without a term. A purpose id
// already in use is ErrDuplicate.
func (r Reads) CreatePurpose(ctx context.Context, p Purpose) (*Purpose, error) {
	s, q := r.s, r.q
	shared := p.SharedWith
	if shared == nil {
		shared = []string{}
	}
	b, err := json.Marshal(shared)
	if err != nil {
		return nil, fmt.Errorf("encode shared_with: %w", err)
	}
	p.CreatedAt, p.CurrentVersion, p.CurrentSHA256, p.SharedWith = s.now(), "", "", shared
	_, err = q.ExecContext(ctx, `INSERT INTO lgpd_purposes (id, name, description, legal_basis, consent_required,
 refusal_consequences, shared_with_json, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.Name, p.Description, p.LegalBasis, p.ConsentRequired, p.RefusalConsequences, string(b), p.CreatedBy, p.CreatedAt)
	if sqlq.IsDuplicate(err) {
		return nil, fmt.Errorf("%w: purpose %s", ErrDuplicate, p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("insert purpose: %w", err)
	}
	return &p, nil
}

const purposeColumns = `p.id, p.name, p.description, p.legal_basis, p.consent_required, p.refusal_consequences,
 p.shared_with_json, p.current_version, t.text_sha256, p.created_by, p.created_at`

const purposeFrom = ` FROM lgpd_purposes p
 LEFT JOIN lgpd_terms t ON t.purpose_id = p.id AND t.version = p.current_version`

func scanPurpose(sc interface{ Scan(...any) error }) (*Purpose, error) {
	var p Purpose
	var shared string
	var version, sum sql.NullString
	if err := sc.Scan(&p.ID, &p.Name, &p.Description, &p.LegalBasis, &p.ConsentRequired, &p.RefusalConsequences,
		&shared, &version, &sum, &p.CreatedBy, &p.CreatedAt); err != nil {
		return nil, err
	}
	p.CurrentVersion, p.CurrentSHA256, p.CreatedAt = version.String, sum.String, p.CreatedAt.UTC()
	if err := json.Unmarshal([]byte(shared), &p.SharedWith); err != nil {
		return nil, fmt.Errorf("purpose %s: decode shared_with: %w", p.ID, err)
	}
	return &p, nil
}

// Purposes lists the catalog by id, each with its current term. On a
// Snapshot or a Tx it reads in that transaction: a worker holding both must
// not wait for a third pool connection (see exportNotice).
func (r Reads) Purposes(ctx context.Context) ([]*Purpose, error) {
	rows, err := r.q.QueryContext(ctx, "SELECT "+purposeColumns+purposeFrom+" ORDER BY p.id")
	if err != nil {
		return nil, fmt.Errorf("list purposes: %w", err)
	}
	defer rows.Close()
	var out []*Purpose
	for rows.Next() {
		p, err := scanPurpose(rows)
		if err != nil {
			return nil, fmt.Errorf("list purposes: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PublishTerm makes text the purpose's term in force as version, closing the
// previous one. The digest is computed here, never taken from a caller. An
// unknown purpose is ErrNotFound; a version already published is ErrDuplicate.
func (s *Store) publishTerm(ctx context.Context, tx *sql.Tx, purposeID, version, text, by string) (*Term, error) {
	var current sql.NullString
	err := tx.QueryRowContext(ctx, "SELECT current_version FROM lgpd_purposes WHERE id = ? FOR UPDATE", purposeID).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("lock purpose: %w", err)
	}
	t := &Term{PurposeID: purposeID, Version: version, Text: text, SHA256: TextSHA256(text), ValidFrom: s.now(), PublishedBy: by}
	_, err = tx.ExecContext(ctx, `INSERT INTO lgpd_terms (purpose_id, version, text, text_sha256, valid_from, published_by)
 VALUES (?, ?, ?, ?, ?, ?)`, t.PurposeID, t.Version, t.Text, t.SHA256, t.ValidFrom, t.PublishedBy)
	if sqlq.IsDuplicate(err) {
		return nil, fmt.Errorf("%w: term version %s of purpose %s", ErrDuplicate, version, purposeID)
	}
	if err != nil {
		return nil, fmt.Errorf("insert term: %w", err)
	}
	if current.Valid {
		if _, err := tx.ExecContext(ctx, "UPDATE lgpd_terms SET valid_to = ? WHERE purpose_id = ? AND version = ?",
			t.ValidFrom, purposeID, current.String); err != nil {
			return nil, fmt.Errorf("close previous term: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE lgpd_purposes SET current_version = ? WHERE id = ?", version, purposeID); err != nil {
		return nil, fmt.Errorf("set current term: %w", err)
	}
	return t, nil
}

// Term returns one version of a purpose's terms; ErrNotFound when either is
// unknown.
func (r Reads) Term(ctx context.Context, purposeID, version string) (*Term, error) {
	q := r.q
	return scanTerm(q.QueryRowContext(ctx, "SELECT "+termColumns+" FROM lgpd_terms t WHERE t.purpose_id = ? AND t.version = ?", purposeID, version))
}

// CurrentTerm returns the purpose's term in force; ErrNotFound when the
// purpose is unknown or has none.
func (r Reads) CurrentTerm(ctx context.Context, purposeID string) (*Term, error) {
	q := r.q
	return scanTerm(q.QueryRowContext(ctx, "SELECT "+termColumns+` FROM lgpd_purposes p
 JOIN lgpd_terms t ON t.purpose_id = p.id AND t.version = p.current_version WHERE p.id = ?`, purposeID))
}

const termColumns = "t.purpose_id, t.version, t.text, t.text_sha256, t.valid_from, t.valid_to, t.published_by"

func scanTerm(row *sql.Row) (*Term, error) {
	var t Term
	var validTo sql.NullTime
	err := row.Scan(&t.PurposeID, &t.Version, &t.Text, &t.SHA256, &t.ValidFrom, &validTo, &t.PublishedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read term: %w", err)
	}
	t.ValidFrom = t.ValidFrom.UTC()
	if validTo.Valid {
		v := validTo.Time.UTC()
		t.ValidTo = &v
	}
	return &t, nil
}

// TermDigest returns the SHA-256 of a published version's text, or
// ErrNotFound; it reads the digest only, not the text.
func (r Reads) TermDigest(ctx context.Context, purposeID, version string) (string, error) {
	q := r.q
	var sum string
	err := q.QueryRowContext(ctx, "SELECT text_sha256 FROM lgpd_terms WHERE purpose_id = ? AND version = ?", purposeID, version).Scan(&sum)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read term digest: %w", err)
	}
	return sum, nil
}
