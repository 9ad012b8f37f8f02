package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/titular/titular/datamap"
)

// consentIn records a consent for request r in its own transaction.
func consentIn(t *testing.T, s *Store, rec ConsentRecord) ConsentRecord {
	t.Helper()
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
		return tx.RecordConsent(ctx, &rec)
	})
	if err != nil {
		t.Fatalf("record consent: %v", err)
	}
	return rec
}

func publish(t *testing.T, s *Store, purpose, version, text string) *Term {
	t.Helper()
	var term *Term
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
		var err error
		term, err = tx.PublishTerm(ctx, purpose, version, text, "dpo")
		return err
	})
	if err != nil {
		t.Fatalf("publish %s v%s: %v", purpose, version, err)
	}
	return term
}

func TestPurposesAndTerms(t *testing.T) {
	s, _ := newStore(t)
	clock := useClock(s)
	ctx := context.Background()
	p := Purpose{ID: "marketing_email", Name: "Ofertas por e-mail", LegalBasis: "consentimento", ConsentRequired: true,
		RefusalConsequences: "Sem ofertas", SharedWith: []string{"Parceiro A"}, CreatedBy: "dpo"}
	if _, err := s.CreatePurpose(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreatePurpose(ctx, p); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second CreatePurpose: %v, want ErrDuplicate", err)
	}
	if _, err := s.CurrentTerm(ctx, p.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("CurrentTerm before any publish: %v", err)
	}
	v1 := publish(t, s, p.ID, "1", "Texto um")
	clock.Advance(time.Hour)
	v2 := publish(t, s, p.ID, "2", "Texto dois")
	if v2.SHA256 != TextSHA256("Texto dois") || v2.SHA256 == v1.SHA256 || len(v2.SHA256) != 64 {
		t.Errorf("term digest %s: must be the SHA-256 of the text", v2.SHA256)
	}
	old, err := s.Term(ctx, p.ID, "1")
	if err != nil || old.ValidTo == nil || !old.ValidTo.Equal(v2.ValidFrom) || old.Text != "Texto um" {
		t.Errorf("v1 after v2: %+v %v; want valid_to = v2's valid_from", old, err)
	}
	cur, err := s.CurrentTerm(ctx, p.ID)
	if err != nil || cur.Version != "2" || cur.ValidTo != nil {
		t.Errorf("current term: %+v %v", cur, err)
	}
	err = s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.PublishTerm(ctx, p.ID, "1", "Outro texto", "dpo")
		return err
	})
	if !errors.Is(err, ErrDuplicate) {
		t.Errorf("republishing v1: %v, want ErrDuplicate", err)
	}
	err = s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.PublishTerm(ctx, "nao_existe", "1", "x", "dpo")
		return err
	})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("publishing for an unknown purpose: %v", err)
	}
	ps, err := s.Purposes(ctx)
	if err != nil || len(ps) != 1 || ps[0].CurrentVersion != "2" || ps[0].CurrentSHA256 != v2.SHA256 ||
		!slices.Equal(ps[0].SharedWith, []string{"Parceiro A"}) {
		t.Errorf("Purposes = %+v, %v", ps, err)
	}
	if sum, err := s.TermDigest(ctx, p.ID, "1"); err != nil || sum != v1.SHA256 {
		t.Errorf("TermDigest v1 = %s %v", sum, err)
	}
}

func TestConsentHistoryAndCurrent(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	ids := Identifiers{CPF: "52998224725", Email: "ana@example.com"}
	r := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: ids})
	// The same titular found by e-mail alone shares the reference.
	r2 := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: Identifiers{Email: ids.Email}})
	if r2.SubjectRef != r.SubjectRef {
		t.Fatalf("subject refs differ for one titular: %s %s", r.SubjectRef, r2.SubjectRef)
	}
	ev := ConsentEvidence{IP: "203.0.113.9", UserAgent: "Agent/1", CapturedBy: "corretor 7"}
	consentIn(t, s, ConsentRecord{SubjectRef: r.SubjectRef, PurposeID: "marketing_email", Action: ConsentGrant, TermVersion: "1", TermSHA256: TextSHA256("a"), Channel: "portal", RequestID: r.ID, Evidence: ev})
	consentIn(t, s, ConsentRecord{SubjectRef: r.SubjectRef, PurposeID: "partner_sharing", Action: ConsentRefuse, Channel: "crm", RequestID: r2.ID})
	r3 := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: ids})
	consentIn(t, s, ConsentRecord{SubjectRef: r.SubjectRef, PurposeID: "marketing_email", Action: ConsentRevoke, Channel: "portal", RequestID: r3.ID})
	other := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: Identifiers{CPF: "11144477735"}})
	consentIn(t, s, ConsentRecord{SubjectRef: other.SubjectRef, PurposeID: "marketing_email", Action: ConsentGrant, Channel: "crm", RequestID: other.ID})

	refs, history, err := s.ConsentHistoryFor(ctx, Identifiers{Email: ids.Email})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(refs, []string{r.SubjectRef}) || len(history) != 3 {
		t.Fatalf("history by e-mail: refs %v, %d records; want 1 ref, 3 records", refs, len(history))
	}
	if history[0].Evidence != ev || history[0].TermSHA256 != TextSHA256("a") || history[2].Action != ConsentRevoke {
		t.Errorf("history, oldest first: %+v", history)
	}
	cur := CurrentConsents(history)
	if len(cur) != 2 || cur[0].PurposeID != "marketing_email" || cur[0].Action != ConsentRevoke || cur[1].Action != ConsentRefuse {
		t.Errorf("current per purpose: %+v", cur)
	}
	if refs, history, err := s.ConsentHistoryFor(ctx, Identifiers{Phone: "+5511987654321"}); err != nil || len(refs) != 0 || len(history) != 0 {
		t.Errorf("unknown titular: %v %v %v", refs, history, err)
	}
}

func TestConsentsAppendOnly(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	r := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: Identifiers{CPF: "52998224725"}})
	rec := consentIn(t, s, ConsentRecord{SubjectRef: r.SubjectRef, PurposeID: "marketing_email", Action: ConsentGrant,
		Channel: "portal", RequestID: r.ID, Evidence: ConsentEvidence{IP: "198.51.100.7", UserAgent: "UA", CapturedBy: "x"}})
	for _, q := range []string{
		"UPDATE lgpd_consents SET action = 'REVOKE' WHERE id = ?",
		"UPDATE lgpd_consents SET term_sha256 = REPEAT('0', 64) WHERE id = ?",
		"UPDATE lgpd_consents SET evidence_ip = '10.0.0.1' WHERE id = ?",
		"DELETE FROM lgpd_consents WHERE id = ?",
	} {
		if _, err := db.ExecContext(ctx, q, rec.ID); err == nil {
			t.Errorf("%s: accepted; the history must be append-only", q)
		}
	}
	var n int64
	err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		n, err = tx.ClearConsentEvidence(ctx, []string{r.SubjectRef})
		return err
	})
	if err != nil || n != 1 {
		t.Fatalf("ClearConsentEvidence = %d, %v", n, err)
	}
	_, history, err := s.ConsentHistoryFor(ctx, Identifiers{CPF: "52998224725"})
	if err != nil || len(history) != 1 {
		t.Fatalf("history after clearing: %v %v", history, err)
	}
	e := history[0].Evidence
	if e.IP != "" || e.UserAgent != "" || e.CapturedBy != "" || e.ClearedAt == nil || history[0].Action != ConsentGrant {
		t.Errorf("after clearing evidence: %+v; the record stays, the evidence goes", history[0])
	}
}

func TestConsentSubjectsPaging(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	var granted, revoked []string
	for i := range 9 {
		r := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: Identifiers{Email: fmt.Sprintf("t%d@example.com", i)}})
		consentIn(t, s, ConsentRecord{SubjectRef: r.SubjectRef, PurposeID: "marketing_email", Action: ConsentGrant, Channel: "crm", RequestID: r.ID})
		switch i % 3 {
		case 0: // revoked later
			r2 := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: Identifiers{Email: fmt.Sprintf("t%d@example.com", i)}})
			consentIn(t, s, ConsentRecord{SubjectRef: r.SubjectRef, PurposeID: "marketing_email", Action: ConsentRevoke, Channel: "portal", RequestID: r2.ID})
			revoked = append(revoked, r.SubjectRef)
		case 1: // granted twice: listed once
			r2 := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: Identifiers{Email: fmt.Sprintf("t%d@example.com", i)}})
			consentIn(t, s, ConsentRecord{SubjectRef: r.SubjectRef, PurposeID: "marketing_email", Action: ConsentGrant, Channel: "portal", RequestID: r2.ID})
			granted = append(granted, r.SubjectRef)
		default:
			granted = append(granted, r.SubjectRef)
		}
	}
	slices.Sort(granted)
	slices.Sort(revoked)
	list := func(action string) ([]string, int) {
		var all []string
		token, pages := "", 0
		for {
			refs, next, err := s.ConsentSubjects(ctx, "marketing_email", action, 2, token)
			if err != nil {
				t.Fatal(err)
			}
			all, pages = append(all, refs...), pages+1
			if token = next; token == "" {
				return all, pages
			}
		}
	}
	if got, pages := list(ConsentGrant); !slices.Equal(got, granted) || pages != 3 {
		t.Errorf("GRANT: %d refs in %d pages; want %d sorted refs in 3 pages", len(got), pages, len(granted))
	}
	if got, _ := list(ConsentRevoke); !slices.Equal(got, revoked) {
		t.Errorf("REVOKE: %v, want %v", got, revoked)
	}
	if _, _, err := s.ConsentSubjects(ctx, "marketing_email", ConsentGrant, 2, "%%%"); !errors.Is(err, ErrBadPageToken) {
		t.Errorf("bad token: %v", err)
	}
}

// TestConsentEvidenceRetention: on erasure, evidence goes at once without
// the map's consent_evidence retention; with it, each record's evidence
// stays until its date plus keep_years (older evidence goes at once), and
// SweepConsentEvidence clears it when that time comes.
func TestConsentEvidenceRetention(t *testing.T) {
	s, _ := newStore(t)
	clock := useClock(s)
	ctx := context.Background()
	ev := ConsentEvidence{IP: "198.51.100.7", UserAgent: "UA", CapturedBy: "portal"}
	record := func(email string) *Request {
		r := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: Identifiers{Email: email}})
		consentIn(t, s, ConsentRecord{SubjectRef: r.SubjectRef, PurposeID: "marketing_email", Action: ConsentGrant,
			Channel: "portal", RequestID: r.ID, Evidence: ev})
		return r
	}
	release := func(ref string, keep *datamap.Retention) *EvidenceHold {
		t.Helper()
		var h *EvidenceHold
		err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
			var err error
			h, err = tx.ReleaseConsentEvidence(ctx, ref, keep)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	evidenceOf := func(email string) []ConsentEvidence {
		t.Helper()
		_, history, err := s.ConsentHistoryFor(ctx, Identifiers{Email: email})
		if err != nil {
			t.Fatal(err)
		}
		var out []ConsentEvidence
		for _, h := range history {
			out = append(out, h.Evidence)
		}
		return out
	}

	// No retention: cleared at once.
	gone := record("gone@example.com")
	if h := release(gone.SubjectRef, nil); h != nil {
		t.Errorf("without retention: kept %+v", h)
	}
	if e := evidenceOf("gone@example.com"); len(e) != 1 || e[0].IP != "" || e[0].ClearedAt == nil {
		t.Errorf("without retention: %+v, want cleared", e)
	}

	// With retention: a record from 6 years ago and one from today.
	keep := &datamap.Retention{Basis: "exercicio_direitos", Reference: "CDC art. 27", KeepYears: 5}
	start := clock.Now()
	clock.t = start.AddDate(-6, 0, 0)
	old := record("kept@example.com")
	clock.t = start
	consentIn(t, s, ConsentRecord{SubjectRef: old.SubjectRef, PurposeID: "marketing_email", Action: ConsentRevoke,
		Channel: "portal", RequestID: createRequest(t, s, NewRequest{Kind: KindConsent, Subject: Identifiers{Email: "kept@example.com"}}).ID, Evidence: ev})
	h := release(old.SubjectRef, keep)
	if h == nil || h.Records != 1 || !h.Until.Equal(start.AddDate(5, 0, 0)) || h.Basis != keep.Basis || h.Reference != keep.Reference {
		t.Fatalf("kept: %+v; want 1 record until %s", h, start.AddDate(5, 0, 0))
	}
	e := evidenceOf("kept@example.com")
	if len(e) != 2 || e[0].IP != "" || e[1] != ev {
		t.Fatalf("after erasure: %+v; want the 6-year-old evidence cleared, today's kept", e)
	}
	for _, c := range []struct {
		at   time.Time
		want int64
	}{{start.AddDate(5, 0, 0).Add(-time.Second), 0}, {start.AddDate(5, 0, 0), 1}} {
		clock.t = c.at
		if due, err := s.SweepConsentEvidence(ctx, true); err != nil || due != c.want {
			t.Fatalf("dry sweep at %s: %d %v, want %d", c.at, due, err, c.want)
		}
	}
	if e := evidenceOf("kept@example.com"); e[1] != ev {
		t.Fatalf("a dry sweep changed evidence: %+v", e)
	}
	if n, err := s.SweepConsentEvidence(ctx, false); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v, want 1", n, err)
	}
	if e := evidenceOf("kept@example.com"); e[1].IP != "" || e[1].UserAgent != "" || e[1].CapturedBy != "" || e[1].ClearedAt == nil {
		t.Errorf("after the sweep: %+v, want cleared", e[1])
	}
	if n, _ := s.SweepConsentEvidence(ctx, false); n != 0 {
		t.Errorf("a second sweep cleared %d more", n)
	}
}
