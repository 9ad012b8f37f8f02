package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
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
// is forgotten. Identifiers not indexed yet are added under the reference.
func (s *Store) subjectRef(ctx context.Context, tx *sql.Tx, ids Identifiers) (string, error) {
	type ident struct {
		mac []byte
		ref string
	}
	var present []ident
	var macs []any
	for _, k := range subjectKinds {
		if v := ids.Get(k); v != "" {
			mac := s.subjectHMAC(k, v)
			present = append(present, ident{mac: mac})
			macs = append(macs, mac)
		}
	}
	if len(present) == 0 {
		// Nothing to index (a titular known only by other means): a fresh
		// reference that nothing links back to.
		return uuid.NewString(), nil
	}
	known, err := lookupSubjects(ctx, tx, macs)
	if err != nil {
		return "", err
	}
	// settled: ref is already in the index, so a lost race must not move it.
	ref, settled := "", false
	for i := range present {
		r := known[string(present[i].mac)]
		present[i].ref = r
		if ref == "" && r != "" {
			ref, settled = r, true
		}
	}
	if ref == "" {
		ref = uuid.NewString()
	}
	for _, p := range present {
		if p.ref != "" {
			continue
		}
		// INSERT IGNORE takes no gap locks, unlike a locking read, so first
		// requests of different titulares never deadlock on the index.
		n, err := insertSubjectIndex(ctx, tx, []any{p.mac, ref, s.now()})
		if err != nil {
			return "", err
		}
		switch {
		case n > 0:
			settled = true
		case !settled:
			// A concurrent first request of the same titular indexed it;
			// adopt its reference. A locking read sees that commit.
			winner, err := lookupSubject(ctx, tx, p.mac, true)
			if err != nil {
				return "", err
			}
			if winner != "" {
				ref, settled = winner, true
			}
		}
	}
	return ref, nil
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

func lookupSubject(ctx context.Context, tx *sql.Tx, mac []byte, locking bool) (string, error) {
	q := "SELECT subject_ref FROM lgpd_subject_index WHERE id_hmac = ?"
	if locking {
		q += " LOCK IN SHARE MODE"
	}
	var ref string
	err := tx.QueryRowContext(ctx, q, mac).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up subject: %w", err)
	}
	return ref, nil
}

// ForgetSubject removes every identifier of the titular behind ref from
// lgpd_subject_index, in tx (a DELETE's transaction). Ledger leaves keep the
// reference, which then links to no one: the ledger stays verifiable byte
// for byte and holds nothing that leads back to the titular. It returns how
// many identifiers it removed.
func (s *Store) forgetSubject(ctx context.Context, tx *sql.Tx, ref string) (int64, error) {
	res, err := tx.ExecContext(ctx, "DELETE FROM lgpd_subject_index WHERE subject_ref = ?", ref)
	if err != nil {
		return 0, fmt.Errorf("forget subject: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// SubjectRefs returns the subject references the titular's identifiers are
// indexed under, without indexing any: a titular never seen has none.
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
	return refs, nil
}
