package store

import (
	"context"
	"strings"
	"testing"

	"github.com/titular/titular/crm/crmtest"
)

func TestSubjectReferences(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	a := createRequest(t, s, NewRequest{Subject: Identifiers{CPF: "52998224725", Email: "ana@example.com"}})
	b := createRequest(t, s, NewRequest{Subject: Identifiers{CPF: "52998224725"}})
	c := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "ana@example.com"}})
	// An identifier seen for the first time beside a known one joins its titular.
	d := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "ana@example.com", Phone: "+5511987654321"}})
	e := createRequest(t, s, NewRequest{Subject: Identifiers{Phone: "+5511987654321"}})
	other := createRequest(t, s, NewRequest{Subject: Identifiers{CPF: "11144477735"}})
	for _, r := range []*Request{b, c, d, e} {
		if r.SubjectRef != a.SubjectRef {
			t.Errorf("same titular, different reference: %s vs %s", r.SubjectRef, a.SubjectRef)
		}
	}
	if other.SubjectRef == a.SubjectRef {
		t.Error("two titulares share a reference")
	}
	// The index holds HMACs, never identifiers.
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_subject_index WHERE subject_ref = ?", a.SubjectRef); n != 3 {
		t.Errorf("%d index rows for the titular's 3 identifiers", n)
	}
	for _, row := range crmtest.Column[string](t, db, "SELECT CONCAT(HEX(id_hmac), subject_ref) FROM lgpd_subject_index") {
		for _, id := range []string{"52998224725", "ana@example.com", "5511987654321", "11144477735"} {
			if strings.Contains(strings.ToLower(row), id) {
				t.Errorf("lgpd_subject_index holds an identifier")
			}
		}
	}

	// Forgetting the titular removes every identifier; the next request of
	// the same person starts a new, unlinked reference.
	var removed int64
	if err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		removed, err = tx.ForgetSubject(ctx, a.SubjectRef)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if removed != 3 || countRows(t, db, "SELECT COUNT(*) FROM lgpd_subject_index WHERE subject_ref = ?", a.SubjectRef) != 0 {
		t.Fatalf("ForgetSubject removed %d rows", removed)
	}
	if again := createRequest(t, s, NewRequest{Subject: Identifiers{CPF: "52998224725"}}); again.SubjectRef == a.SubjectRef {
		t.Error("a forgotten titular's identifier still leads to the old reference")
	}
	// A different subject key (another tenant) gives unrelated references.
	s2 := New(db)
	if got := createRequest(t, s2, NewRequest{Subject: Identifiers{CPF: "11144477735"}}); got.SubjectRef == other.SubjectRef {
		t.Error("another key mapped the identifier to the same reference")
	}
}
