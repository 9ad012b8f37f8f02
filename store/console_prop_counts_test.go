package store

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// TestConsoleConsentCounts: the console's counts per purpose and status,
// read from lgpd_consent_current, equal what paging ConsentSubjects (the
// reference rule, merged references counted as their person) finds, over
// random histories with merges; and the migration's rebuild of the table
// from the history gives the same counts.
func TestConsoleConsentCounts(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 18))
	purposes := []string{"marketing_email", "partner_sharing", "credit_analysis"}
	actions := []string{ConsentGrant, ConsentRefuse, ConsentRevoke}
	var refs []string
	for i := range 24 {
		r := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: Identifiers{Email: fmt.Sprintf("titular%d@example.invalid", i)}})
		refs = append(refs, r.SubjectRef)
	}
	for i := range 160 {
		ref := refs[rng.IntN(len(refs))]
		rq := createRequest(t, s, NewRequest{Kind: KindConsent, Subject: Identifiers{Email: fmt.Sprintf("extra%d@example.invalid", i)}})
		consentIn(t, s, ConsentRecord{SubjectRef: ref, PurposeID: purposes[rng.IntN(len(purposes))], Action: actions[rng.IntN(len(actions))], Channel: "crm", RequestID: rq.ID})
	}
	// refs[1] and refs[2] were merged into refs[0]; refs[4] into refs[3].
	for _, m := range [][3]string{{refs[1], refs[0], refs[0]}, {refs[2], refs[1], refs[0]}, {refs[4], refs[3], refs[3]}} {
		if _, err := db.Exec(`INSERT INTO lgpd_subject_merges (old_ref, into_ref, person_ref, reason, kinds, merged_at) VALUES (?, ?, ?, 'request', 'email', ?)`,
			m[0], m[1], m[2], time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]map[string]int64{}
	for _, p := range purposes {
		for _, a := range actions {
			var n int64
			tok := ""
			for {
				page, next, err := s.ConsentSubjects(ctx, p, a, 7, tok)
				if err != nil {
					t.Fatal(err)
				}
				n += int64(len(page))
				if tok = next; tok == "" {
					break
				}
			}
			if n > 0 {
				if want[p] == nil {
					want[p] = map[string]int64{}
				}
				want[p][a] = n
			}
		}
	}
	same := func(what string) {
		t.Helper()
		got, err := s.ConsoleConsentCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.EqualFunc(got, want, maps.Equal) {
			t.Fatalf("%s: counts %v, want %v (ConsentSubjects)", what, got, want)
		}
	}
	same("kept with each record")
	if len(want) == 0 {
		t.Fatal("no consent counted: the test recorded nothing")
	}

	sqlFile, err := os.ReadFile("migrations/0024_consent_current.sql")
	if err != nil {
		t.Fatal(err)
	}
	rebuild := string(sqlFile[strings.Index(string(sqlFile), "INSERT IGNORE INTO lgpd_consent_current"):])
	if _, err := db.Exec("DELETE FROM lgpd_consent_current"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(strings.TrimSuffix(strings.TrimSpace(rebuild), ";")); err != nil {
		t.Fatal(err)
	}
	same("rebuilt by the migration")
}
