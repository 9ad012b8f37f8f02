package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/ledger"
)

// One person, one subject reference. A titular may reach titular by several
// identifiers (a CPF on one request, her e-mail on the next), and each first
// seen alone used to get a reference of its own. The index now keeps one
// reference per person: identifiers that arrive together, or that the CRM's
// rows hold together (Identifiers linked by the service, crm.Linked), are
// indexed under one reference, and two references found to be the same
// person are merged into the older one (mergeRefs): recorded in
// lgpd_subject_merges with a ledger leaf, never silently. Records written
// under a merged reference keep it (the ledger's leaves cannot change);
// reads go through PersonRefs.

// Merge reasons, as lgpd_subject_merges.reason records them.
const (
	// MergeByRequest: one request carried identifiers indexed apart.
	MergeByRequest = "request"
	// MergeByCRM: the CRM's rows found by one identifier hold the other.
	MergeByCRM = "crm"
)

// EventSubjectMerged is a merge: a ledger leaf (SubjectRef the reference
// merged away, To the one it was merged into, From the reason) and a
// propagation event to the tenant's webhooks (subject_ref the old
// reference, data {person_ref, reason}), so the CRM re-keys what it keeps
// under the old reference.
const EventSubjectMerged = "subject.merged"

// mergeEventData is the data of a subject.merged event: no personal data.
type mergeEventData struct {
	PersonRef string `json:"person_ref"`
	Reason    string `json:"reason"`
}

// subjectMAC is one identifier's index key and its kind (for the record of
// a merge, which names kinds, never values).
type subjectMAC struct {
	kind string
	mac  []byte
}

// personMACs are the index keys of a request's identifiers: those it
// carries first (in subjectKinds order), then those linked to them.
func (s *Store) personMACs(ids, linked Identifiers) (sent, all []subjectMAC) {
	for _, k := range subjectKinds {
		if v := ids.Get(k); v != "" {
			sent = append(sent, subjectMAC{k, s.subjectHMAC(k, v)})
		}
	}
	all = slices.Clone(sent)
	for _, k := range subjectKinds {
		if v := linked.Get(k); v != "" && ids.Get(k) == "" {
			all = append(all, subjectMAC{k, s.subjectHMAC(k, v)})
		}
	}
	return sent, all
}

func macArgs(ms []subjectMAC) []any {
	out := make([]any, len(ms))
	for i, m := range ms {
		out[i] = m.mac
	}
	return out
}

// linkPerson returns the one reference of the person identified by all
// (sent: the identifiers the request itself carried), indexing those not
// indexed yet and merging the references found apart. The common case, every
// identifier indexed under one reference, costs one non-locking read.
// Otherwise the index rows involved are locked (FOR UPDATE) before anything
// is decided, so two requests learning the same link at once serialize on
// them and the second sees the first's outcome: they never make two persons.
// A concurrent first insert of the same identifier shows up as an INSERT
// IGNORE that inserted nothing, and the loop adopts (merges) what it wrote.
func (s *Store) linkPerson(ctx context.Context, tx *sql.Tx, sent, all []subjectMAC, endpoints []string) (string, error) {
	if len(all) == 0 {
		// Nothing to index (a titular known only by other means): a fresh
		// reference that nothing links back to.
		return uuid.NewString(), nil
	}
	known, err := lookupSubjects(ctx, tx, macArgs(all))
	if err != nil {
		return "", err
	}
	if ref, ok := single(all, known); ok {
		return ref, nil
	}
	for attempt := 0; attempt < 4; attempt++ {
		// The first round locks the rows that exist (record locks only: a
		// locking read of absent keys would take gap locks and deadlock
		// with other titulares' first inserts); later rounds also those a
		// concurrent request inserted meanwhile.
		lock := all
		if attempt == 0 {
			lock = nil
			for _, m := range all {
				if known[string(m.mac)] != "" {
					lock = append(lock, m)
				}
			}
		}
		if known, err = lockSubjects(ctx, tx, lock); err != nil {
			return "", err
		}
		refs := distinctRefs(all, known)
		ref := ""
		switch len(refs) {
		case 0:
			ref = uuid.NewString()
		case 1:
			ref = refs[0]
		default:
			reason := MergeByCRM
			if len(distinctRefs(sent, known)) > 1 {
				reason = MergeByRequest
			}
			if ref, err = s.mergeRefs(ctx, tx, refs, reason, kindsOf(all, known), endpoints); err != nil {
				return "", err
			}
		}
		var rows []any
		now := s.now()
		for _, m := range all {
			if known[string(m.mac)] == "" {
				rows = append(rows, m.mac, ref, now)
			}
		}
		if len(rows) == 0 {
			return ref, nil
		}
		n, err := insertSubjectIndex(ctx, tx, rows)
		if err != nil {
			return "", err
		}
		if n == int64(len(rows)/3) {
			return ref, nil
		}
		// A concurrent request indexed one of them first: the next round's
		// locking read sees its reference and merges it.
	}
	return "", fmt.Errorf("%w: the titular's identifiers keep changing under concurrent requests; retry", ErrConflict)
}

// single reports the one reference every identifier is indexed under.
func single(all []subjectMAC, known map[string]string) (string, bool) {
	ref := ""
	for _, m := range all {
		r := known[string(m.mac)]
		if r == "" || (ref != "" && r != ref) {
			return "", false
		}
		ref = r
	}
	return ref, ref != ""
}

func distinctRefs(ms []subjectMAC, known map[string]string) []string {
	var refs []string
	for _, m := range ms {
		if r := known[string(m.mac)]; r != "" && !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
	}
	return refs
}

// kindsOf names the kinds of identifiers already indexed, e.g. "cpf+email":
// what a merge linked.
func kindsOf(ms []subjectMAC, known map[string]string) string {
	var kinds []string
	for _, m := range ms {
		if known[string(m.mac)] != "" && !slices.Contains(kinds, m.kind) {
			kinds = append(kinds, m.kind)
		}
	}
	return strings.Join(kinds, "+")
}

// lockSubjects is lookupSubjects as a locking read: it reads the latest
// committed references and holds the rows until tx ends.
func lockSubjects(ctx context.Context, tx *sql.Tx, ms []subjectMAC) (map[string]string, error) {
	known := map[string]string{}
	if len(ms) == 0 {
		return known, nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT id_hmac, subject_ref FROM lgpd_subject_index WHERE id_hmac IN ("+sqlq.Placeholders(len(ms))+") FOR UPDATE", macArgs(ms)...) //nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	if err != nil {
		return nil, fmt.Errorf("lock subjects: %w", err)
	}
	pairs, err := collect(rows, "lock subjects", func(rows *sql.Rows) ([2]string, error) {
		var mac []byte
		var ref string
		err := rows.Scan(&mac, &ref)
		return [2]string{string(mac), ref}, err
	})
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		known[p[0]] = p[1]
	}
	return known, nil
}

// mergeRefs makes refs one person under the oldest of them (the reference
// whose first identifier was indexed first; ties by the reference itself),
// deterministic whichever request learns the link. The others' identifiers
// move to it; each merge is a row of lgpd_subject_merges and a ledger leaf,
// in tx, and a subject.merged event for endpoints. It returns the surviving
// reference.
func (s *Store) mergeRefs(ctx context.Context, tx *sql.Tx, refs []string, reason, kinds string, endpoints []string) (string, error) {
	args := make([]any, len(refs))
	for i, r := range refs {
		args[i] = r
	}
	rows, err := tx.QueryContext(ctx, "SELECT subject_ref, MIN(created_at) FROM lgpd_subject_index WHERE subject_ref IN ("+sqlq.Placeholders(len(refs))+") GROUP BY subject_ref", args...) //nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	if err != nil {
		return "", fmt.Errorf("merge subjects: %w", err)
	}
	type aged struct {
		ref   string
		first time.Time
	}
	ages, err := collect(rows, "merge subjects", func(rows *sql.Rows) (aged, error) {
		var a aged
		return a, rows.Scan(&a.ref, &a.first)
	})
	if err != nil {
		return "", err
	}
	if len(ages) == 0 {
		return "", errors.New("merge subjects: references vanished from the index")
	}
	slices.SortFunc(ages, func(a, b aged) int {
		if c := a.first.Compare(b.first); c != 0 {
			return c
		}
		return strings.Compare(a.ref, b.ref)
	})
	survivor := ages[0].ref
	now := s.now()
	for _, a := range ages[1:] {
		old := a.ref
		if _, err := tx.ExecContext(ctx, "UPDATE lgpd_subject_index SET subject_ref = ? WHERE subject_ref = ?", survivor, old); err != nil {
			return "", fmt.Errorf("merge subjects: move identifiers: %w", err)
		}
		// References merged into old earlier now resolve to the survivor
		// in one step.
		if _, err := tx.ExecContext(ctx, "UPDATE lgpd_subject_merges SET person_ref = ? WHERE person_ref = ?", survivor, old); err != nil {
			return "", fmt.Errorf("merge subjects: earlier merges: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO lgpd_subject_merges (old_ref, into_ref, person_ref, reason, kinds, merged_at)
 VALUES (?, ?, ?, ?, ?, ?)`, old, survivor, survivor, reason, kinds, now); err != nil {
			return "", fmt.Errorf("merge subjects: record: %w", err)
		}
		if err := s.appendLeaf(ctx, tx, ledger.Leaf{Event: EventSubjectMerged, SubjectRef: old, From: reason, To: survivor, At: now}); err != nil {
			return "", err
		}
		if _, err := s.enqueueEvent(ctx, tx, OutboxEvent{Type: EventSubjectMerged, SubjectRef: old,
			Data: mergeEventData{PersonRef: survivor, Reason: reason}}, endpoints); err != nil {
			return "", err
		}
	}
	return survivor, nil
}

// personOf resolves a reference to its person's current one: itself unless
// it was merged.
func personOf(ctx context.Context, q Querier, ref string) (string, error) {
	var person string
	err := q.QueryRowContext(ctx, "SELECT person_ref FROM lgpd_subject_merges WHERE old_ref = ?", ref).Scan(&person)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ref, nil
	case err != nil:
		return "", fmt.Errorf("resolve subject: %w", err)
	}
	return person, nil
}

// personRefs returns every reference of the person behind refs: each one's
// current reference first (in refs' order), then the references merged into
// them, sorted.
func personRefs(ctx context.Context, q Querier, refs ...string) ([]string, error) {
	var persons []string
	for _, r := range refs {
		p, err := personOf(ctx, q, r)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(persons, p) {
			persons = append(persons, p)
		}
	}
	if len(persons) == 0 {
		return nil, nil
	}
	args := make([]any, len(persons))
	for i, p := range persons {
		args[i] = p
	}
	rows, err := q.QueryContext(ctx, "SELECT old_ref FROM lgpd_subject_merges WHERE person_ref IN ("+sqlq.Placeholders(len(persons))+") ORDER BY old_ref", args...) //nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
	if err != nil {
		return nil, fmt.Errorf("resolve subject: %w", err)
	}
	olds, err := collect(rows, "resolve subject", func(rows *sql.Rows) (string, error) {
		var r string
		return r, rows.Scan(&r)
	})
	if err != nil {
		return nil, err
	}
	return append(persons, olds...), nil
}

// PersonRefs returns every subject reference of the person behind ref, the
// current one first: ref itself, the reference it was merged into, and the
// references merged into that one.
func (r Reads) PersonRefs(ctx context.Context, ref string) ([]string, error) {
	return personRefs(ctx, r.q, ref)
}

// SubjectMerge is one row of lgpd_subject_merges.
type SubjectMerge struct {
	OldRef, IntoRef, PersonRef string
	Reason, Kinds              string
	MergedAt                   time.Time
}

// SubjectMerges lists the merges into the person behind ref, oldest first.
func (r Reads) SubjectMerges(ctx context.Context, ref string) ([]SubjectMerge, error) {
	person, err := personOf(ctx, r.q, ref)
	if err != nil {
		return nil, err
	}
	rows, err := r.q.QueryContext(ctx, `SELECT old_ref, into_ref, person_ref, reason, kinds, merged_at
 FROM lgpd_subject_merges WHERE person_ref = ? ORDER BY merged_at, old_ref`, person)
	if err != nil {
		return nil, fmt.Errorf("list subject merges: %w", err)
	}
	return collect(rows, "list subject merges", func(rows *sql.Rows) (SubjectMerge, error) {
		var m SubjectMerge
		err := rows.Scan(&m.OldRef, &m.IntoRef, &m.PersonRef, &m.Reason, &m.Kinds, &m.MergedAt)
		m.MergedAt = m.MergedAt.UTC()
		return m, err
	})
}
