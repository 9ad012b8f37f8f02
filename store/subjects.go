package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/titular/titular/internal/sqlq"
)

// subjectHMAC keys lgpd_subject_index: an HMAC of the kind-prefixed
// normalized identifier with the tenant's subject key, so the index holds no
// identifier and another tenant's key gives unrelated values.
func (s *Store) subjectHMAC(kind, value string) []byte {
	if kind == "email" {
		value = strings.ToLower(strings.TrimSpace(value))
	}
	m := hmac.New(sha256.New, s.subjectKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// subjectKinds is the order identifiers decide a titular's reference in:
// when a CPF and an e-mail point at different references, the CPF wins.
var subjectKinds = []string{"cpf", "email", "phone"}

// subjectRef returns the titular's subject reference, creating one on first
// sight: the same identifier always gives the same reference, so a
// titular's requests (and their ledger leaves) share it until the titular
// is forgotten. Identifiers not indexed yet, those the request carries and
// those linked to them (the person's other identifiers the CRM holds), are
// added under the reference; references found apart are merged
// (linkPerson).
func (s *Store) subjectRef(ctx context.Context, tx *sql.Tx, n NewRequest) (string, error) {
	sent, all := s.personMACs(n.Subject, n.Linked)
	return s.linkPerson(ctx, tx, sent, all, n.MergeEndpoints)
}

// lookupSubjects reads, in one query, the subject reference of each indexed
// HMAC in macs, keyed by the HMAC's bytes; HMACs not indexed are absent.
func lookupSubjects(ctx context.Context, tx *sql.Tx, macs []any) (map[string]string, error) {
	known := map[string]string{}
	if len(macs) == 0 {
		return known, nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT id_hmac, subject_ref FROM lgpd_subject_index WHERE id_hmac IN ("+sqlq.Placeholders(len(macs))+")", macs...) //nolint:gosec // G202: only placeholders and quoted names are concatenated; every value is a bound parameter
	if err != nil {
		return nil, fmt.Errorf("look up subjects: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var mac []byte
		var ref string
		if err := rows.Scan(&mac, &ref); err != nil {
			return nil, fmt.Errorf("look up subjects: %w", err)
		}
		known[string(mac)] = ref
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up subjects: %w", err)
	}
	return known, nil
}

// ForgetSubject removes every identifier of the person behind ref from
// lgpd_subject_index, in tx (a DELETE's transaction). Ledger leaves keep the
// reference, which then links to no one: the ledger stays verifiable byte
// for byte and holds nothing that leads back to the titular. It returns how
// many identifiers it removed.
func (s *Store) forgetSubject(ctx context.Context, tx *sql.Tx, ref string) (int64, error) {
	// The person's identifiers sit under their current reference, which a
	// request recorded before a merge does not carry.
	refs, err := personRefs(ctx, tx, ref)
	if err != nil {
		return 0, err
	}
	args := make([]any, len(refs))
	for i, r := range refs {
		args[i] = r
	}
	res, err := tx.ExecContext(ctx, "DELETE FROM lgpd_subject_index WHERE subject_ref IN ("+sqlq.Placeholders(len(refs))+")", args...) //nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	if err != nil {
		return 0, fmt.Errorf("forget subject: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// SubjectRefs returns the subject references of the person the titular's
// identifiers are indexed under, with those merged into it, without indexing
// any: a titular never seen has none.
func (s *Store) SubjectRefs(ctx context.Context, ids Identifiers) ([]string, error) {
	var macs []any
	for _, k := range subjectKinds {
		if v := ids.Get(k); v != "" {
			macs = append(macs, s.subjectHMAC(k, v))
		}
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("look up subjects: %w", err)
	}
	defer tx.Rollback()
	known, err := lookupSubjects(ctx, tx, macs)
	if err != nil {
		return nil, err
	}
	refs := make([]string, 0, len(known))
	for _, ref := range known {
		if !slices.Contains(refs, ref) {
			refs = append(refs, ref)
		}
	}
	slices.Sort(refs)
	// Every reference of the person: requests recorded before a merge
	// carry the reference merged away.
	return personRefs(ctx, tx, refs...)
}

// Indexed reports whether every identifier of ids is in the subject index
// already: a request of such a titular teaches the index nothing new unless
// it carries identifiers never seen.
func (s *Store) Indexed(ctx context.Context, ids Identifiers) (bool, error) {
	var macs []any
	for _, k := range subjectKinds {
		if v := ids.Get(k); v != "" {
			macs = append(macs, s.subjectHMAC(k, v))
		}
	}
	if len(macs) == 0 {
		return false, nil
	}
	var n int
	//nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM lgpd_subject_index WHERE id_hmac IN ("+sqlq.Placeholders(len(macs))+")", macs...).Scan(&n); err != nil {
		return false, fmt.Errorf("look up subjects: %w", err)
	}
	return n == len(macs), nil
}
