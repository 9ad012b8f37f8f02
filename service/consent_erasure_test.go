package service

import (
	"context"
	"regexp"
	"slices"
	"testing"
	"time"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
)

// erasureRevocations lists, for a person's subject ref, the CONSENT
// requests an erasure recorded: purpose by request id, with their events
// and outbox types checked.
func (f *fixture) erasureRevocations(ref string) map[string]string {
	f.t.Helper()
	rows, err := f.db.Query(`SELECT r.id, c.purpose_id FROM lgpd_requests r JOIN lgpd_consents c ON c.request_id = r.id
 WHERE r.subject_ref = ? AND r.kind = 'CONSENT' AND r.created_by = ? AND r.status = 'COMPLETED'
 AND c.action = 'REVOKE' AND c.channel = ?`, ref, store.ErasureActor, store.ConsentChannelErasure)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, purpose string
		if err := rows.Scan(&id, &purpose); err != nil {
			f.t.Fatal(err)
		}
		out[id] = purpose
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	for id := range out {
		if got := f.events(id); !slices.Equal(got, []string{">COMPLETED"}) {
			f.t.Errorf("revocation by erasure %s: events %v", id, got)
		}
		// The revocation for the recipients, then the request's completion.
		if got := f.outbox(id); !slices.Equal(got, []string{"consent.revoked", "request.completed"}) {
			f.t.Errorf("revocation by erasure %s: outbox %v, want consent.revoked for the recipients and request.completed", id, got)
		}
	}
	return out
}

// TestDeleteUnderHoldsEndsConsent (issue #15): the 2023 buyer granted
// marketing by CPF and by e-mail; her DELETE is partial (the sale is held),
// yet it ends both consents: a REVOKE on the channel "erasure" each, recorded
// as CONSENT requests with their event, ledger leaf and consent.revoked;
// she leaves the GRANT lists; the records stay and their evidence is kept
// only as the map's consent_evidence retention says (5 years from each
// record), which the DELETE's reasons state. A second DELETE revokes nothing
// more, and the revocations are not taken for the titular coming back.
func TestDeleteUnderHoldsEndsConsent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	buyer := f.scenario(seed.ScenarioBuyer2023)
	g1 := f.create(f.backend, consentReq(&lgpdv1.Subject{Cpf: buyer.CPF}, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", ""))
	g2 := f.create(f.backend, consentReq(&lgpdv1.Subject{Email: buyer.Email}, "marketing_whatsapp", lgpdv1.ConsentAction_GRANT, "1", ""))
	f.create(f.backend, consentReq(&lgpdv1.Subject{Cpf: buyer.CPF}, "partner_sharing", lgpdv1.ConsentAction_REFUSE, "", ""))
	if g1.GetSubjectRef() != g2.GetSubjectRef() {
		t.Fatalf("the buyer's CPF and e-mail are one person: %s %s", g1.GetSubjectRef(), g2.GetSubjectRef())
	}
	ref := g1.GetSubjectRef()
	for _, p := range []string{"marketing_email", "marketing_whatsapp"} {
		if !slices.Contains(f.grantList(p, lgpdv1.ConsentAction_GRANT), ref) {
			t.Fatalf("before the DELETE the buyer is in the %s GRANT list", p)
		}
	}
	d := f.create(f.dpo, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	f.work()
	d = f.get(d.GetId())
	if d.GetStatus() != lgpdv1.RequestStatus_COMPLETED || d.GetResult().GetDelete().GetComplete() {
		t.Fatalf("the buyer's DELETE must complete partially: %v", d)
	}
	for _, p := range []string{"marketing_email", "marketing_whatsapp"} {
		if slices.Contains(f.grantList(p, lgpdv1.ConsentAction_GRANT), ref) {
			t.Errorf("after the DELETE the buyer is still in the %s GRANT list", p)
		}
		if !slices.Contains(f.grantList(p, lgpdv1.ConsentAction_REVOKE), ref) {
			t.Errorf("after the DELETE the buyer is not in the %s REVOKE list", p)
		}
	}
	// Held rows keep her CPF indexed: the search still finds her.
	got := f.searchConsents(&lgpdv1.Subject{Cpf: buyer.CPF})
	for _, p := range []string{"marketing_email", "marketing_whatsapp"} {
		if c := currentOf(got, p); c.GetAction() != lgpdv1.ConsentAction_REVOKE || c.GetChannel() != store.ConsentChannelErasure {
			t.Errorf("%s after the DELETE: %v, want REVOKE by erasure", p, c)
		}
	}
	if c := currentOf(got, "partner_sharing"); c.GetAction() != lgpdv1.ConsentAction_REFUSE {
		t.Errorf("a refusal stays a refusal: %v", c)
	}
	if len(got.GetHistory()) != 5 {
		t.Errorf("history %v: the grants, the refusal and two revocations by erasure stay as proof", got.GetHistory())
	}
	revs := f.erasureRevocations(ref)
	if purposes := slices.Sorted(func(yield func(string) bool) {
		for _, p := range revs {
			if !yield(p) {
				return
			}
		}
	}); !slices.Equal(purposes, []string{"marketing_email", "marketing_whatsapp"}) {
		t.Errorf("revocations by erasure %v", revs)
	}
	for id := range revs {
		var note string
		if err := f.db.QueryRow("SELECT note FROM lgpd_request_events WHERE request_id = ?", id).Scan(&note); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^consent REVOKE marketing_\w+ by erasure request=` + d.GetId() + ` kind=DELETE term=1 sha256=[0-9a-f]{64}$`).MatchString(note) {
			t.Errorf("event note %q must bind the revocation to the DELETE", note)
		}
	}
	// Evidence: kept for 5 years from each record (consent_evidence), and said so.
	if n := f.count(`SELECT COUNT(*) FROM lgpd_consents WHERE subject_ref = ? AND evidence_ip IS NOT NULL
 AND evidence_release_at = DATE_ADD(at, INTERVAL 5 YEAR)`, ref); n != 3 {
		t.Errorf("%d records keep their evidence until their 5 years end, want the 3 the titular gave", n)
	}
	var kept bool
	for _, r := range d.GetReasons() {
		kept = kept || (r.GetCode() == "CONSENT_EVIDENCE_KEPT" && r.GetUntil() != nil && r.GetUntil().AsTime().After(time.Now().AddDate(4, 0, 0)))
	}
	if !kept {
		t.Errorf("reasons %v must say the consent evidence is kept, and until when", d.GetReasons())
	}
	// Running again revokes nothing more.
	d2 := f.create(f.dpo, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	f.work()
	if d2 = f.get(d2.GetId()); d2.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		t.Fatalf("second DELETE: %v", d2)
	}
	if got := f.erasureRevocations(ref); len(got) != 2 {
		t.Errorf("a second DELETE revoked again: %v", got)
	}
	// The revocations are titular's own: they are not the titular coming back.
	var completable bool
	if err := f.tenant().Store.ReadWriteTx(t.Context(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		completable, _, err = tx.ErasureCompletable(ctx, ref)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !completable {
		t.Error("the revocations by erasure made the sweep take the titular for one who came back")
	}
}

// TestAnonymizeEndsConsent (issue #15): ANONYMIZE ends every consent of the
// person too; with no consent_evidence retention in the map, the evidence
// goes at once while the records stay.
func TestAnonymizeEndsConsent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withDatamap(func(doc string) string {
		return regexp.MustCompile(`(?s)\nconsent_evidence:.*$`).ReplaceAllString(doc, "\n")
	}))
	p := f.scenario(seed.ScenarioSameCPF)
	g := f.create(f.backend, consentReq(&lgpdv1.Subject{Email: p.Email}, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", ""))
	a := f.create(f.dpo, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_ANONYMIZE, Subject: &lgpdv1.Subject{Cpf: p.CPF}})
	f.work()
	if a = f.get(a.GetId()); a.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		t.Fatalf("ANONYMIZE: %v", a)
	}
	if slices.Contains(f.grantList("marketing_email", lgpdv1.ConsentAction_GRANT), g.GetSubjectRef()) {
		t.Error("after ANONYMIZE the titular is still in the GRANT list")
	}
	if got := f.erasureRevocations(g.GetSubjectRef()); len(got) != 1 {
		t.Errorf("revocations by erasure %v, want marketing_email", got)
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_consents WHERE subject_ref = ?", g.GetSubjectRef()); n != 2 {
		t.Errorf("%d consent records, want the grant and its revocation kept as proof", n)
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_consents WHERE subject_ref = ? AND (evidence_ip IS NOT NULL OR evidence_user_agent IS NOT NULL OR evidence_captured_by IS NOT NULL)", g.GetSubjectRef()); n != 0 {
		t.Errorf("%d records keep evidence the map keeps no retention for", n)
	}
}
