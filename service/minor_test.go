package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/internal/brtime"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
)

// A parent who consents for the seeded child (synthetic).
const (
	guardianName   = "Mãe Sintética da Silva"
	guardianDocRef = "certidao-nascimento/arquivo-42"
)

func TestAgeBand(t *testing.T) {
	sp := brtime.Location()
	// 10:00 in São Paulo on 2026-12-05, which is 13:00 UTC the same day.
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, sp)
	tests := []struct {
		birth crm.Date
		want  string
	}{
		{crm.Date{Year: 2016, Month: 5, Day: 14}, store.MinorChild},
		{crm.Date{Year: 2014, Month: 12, Day: 6}, store.MinorChild},      // turns 12 tomorrow
		{crm.Date{Year: 2014, Month: 12, Day: 5}, store.MinorAdolescent}, // turns 12 today
		{crm.Date{Year: 2008, Month: 12, Day: 6}, store.MinorAdolescent}, // turns 18 tomorrow
		{crm.Date{Year: 2008, Month: 12, Day: 5}, ""},                    // turns 18 today
		{crm.Date{Year: 1980, Month: 1, Day: 1}, ""},
		{crm.Date{Year: 2026, Month: 12, Day: 5}, store.MinorChild}, // born today
	}
	for _, tt := range tests {
		if got := ageBand(tt.birth, now); got != tt.want {
			t.Errorf("born %s, on %s: band %q, want %q", tt.birth, now.Format(time.DateOnly), got, tt.want)
		}
	}
	// The civil date is São Paulo's: at 01:00 UTC on the 6th it is still
	// the 5th there, so the child born on 2014-12-06 is still 11.
	if got := ageBand(crm.Date{Year: 2014, Month: 12, Day: 6}, time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)); got != store.MinorChild {
		t.Errorf("at 22:00 in São Paulo before the 12th birthday: %q, want %q", got, store.MinorChild)
	}
	// Born on 29 February: 12 on 1 March of a common year, not on 28 February.
	leap := crm.Date{Year: 2012, Month: 2, Day: 29}
	if got := ageBand(leap, time.Date(2024-1, 2, 28, 12, 0, 0, 0, sp)); got != store.MinorChild {
		t.Errorf("leap-day child on 28 Feb 2023 (age 10): %q", got)
	}
	if got := leap.AgeOn(crm.Date{Year: 2024, Month: 2, Day: 28}); got != 11 {
		t.Errorf("leap-day child on 28 Feb 2024: age %d, want 11", got)
	}
	if got := leap.AgeOn(crm.Date{Year: 2023, Month: 3, Day: 1}); got != 11 {
		t.Errorf("leap-day child on 1 Mar 2023: age %d, want 11", got)
	}
}

// TestMinorConsent: the seeded child (born 2016, pessoas.data_nascimento,
// which the demo map marks birth_date) cannot be granted a marketing
// consent as "self" nor by an attorney; a mother's consent is accepted and
// recorded in the request, the consent's evidence and the ledger leaf
// (which names no one). A revocation needs no one. An adolescent consents
// in person, with the band recorded; an adult's request says nothing.
func TestMinorConsent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	child := f.scenario(seed.ScenarioMinor)
	childSubj := &lgpdv1.Subject{Cpf: child.CPF}

	// Refused without a guardian, and with one who is not a parent or guardian.
	_, err := call[*lgpdv1.Request](f.backend, f, createMethod, consentReq(childSubj, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", "child-self"))
	wantCode(t, err, codes.FailedPrecondition, "GUARDIAN_CONSENT_REQUIRED", child.CPF, child.FullName)
	attorney := consentReq(childSubj, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", "child-attorney")
	attorney.Representative = &lgpdv1.Representative{Relation: RelationAttorney, Name: "Procurador Sintético", DocumentRef: "procuracao/arquivo-7"}
	_, err = call[*lgpdv1.Request](f.backend, f, createMethod, attorney)
	wantCode(t, err, codes.FailedPrecondition, "GUARDIAN_CONSENT_REQUIRED", child.CPF)
	// A relation outside the accepted set is a malformed request.
	aunt := consentReq(childSubj, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", "child-aunt")
	aunt.Representative = &lgpdv1.Representative{Relation: "tia", Name: "Tia Sintética", DocumentRef: "nada"}
	_, err = call[*lgpdv1.Request](f.backend, f, createMethod, aunt)
	wantCode(t, err, codes.InvalidArgument, "BAD_REPRESENTATIVE")
	var n int
	if err := f.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM lgpd_requests WHERE kind = 'CONSENT'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("refused grants left %d requests (%v)", n, err)
	}

	// Accepted from the mother.
	withMother := consentReq(childSubj, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", "child-mother")
	withMother.Representative = &lgpdv1.Representative{Relation: RelationMother, Name: guardianName, DocumentRef: guardianDocRef}
	grant := f.create(f.backend, withMother)
	if grant.GetStatus() != lgpdv1.RequestStatus_COMPLETED || grant.GetMinor().GetBand() != store.MinorChild {
		t.Fatalf("a mother's grant: %v", grant)
	}
	rp := grant.GetRepresentative()
	if rp.GetRelation() != RelationMother || rp.GetName() != guardianName || rp.GetDocumentRef() != guardianDocRef {
		t.Errorf("grant's representative: %v", rp)
	}
	got := must[*lgpdv1.Request](f.dpo, f, lgpdv1.RequestService_GetRequest_FullMethodName, &lgpdv1.GetRequestRequest{Tenant: "demo", Id: grant.GetId()})
	if got.GetMinor().GetBand() != store.MinorChild || got.GetRepresentative().GetName() != guardianName {
		t.Errorf("GetRequest of the grant: minor %v, representative %v", got.GetMinor(), got.GetRepresentative())
	}

	// The consent's evidence names the mother.
	tn := f.tenant()
	_, history, err := tn.Store.ConsentHistoryFor(ctx, store.Identifiers{CPF: child.CPF})
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 1 || history[0].RequestID != grant.GetId() {
		t.Fatalf("child's consent history: %+v", history)
	}
	if ev := history[0].Evidence.Representative; ev == nil || *ev != (store.Representative{Relation: RelationMother, Name: guardianName, DocumentRef: guardianDocRef}) {
		t.Errorf("consent evidence's representative: %+v", ev)
	}

	// The leaf commits to the band and the mother by relation and a keyed
	// digest; her name is nowhere in it.
	rc := must[*lgpdv1.Receipt](f.backend, f, lgpdv1.RequestService_GetReceipt_FullMethodName, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: grant.GetId()})
	leaf := f.verifyReceipt(t, rc)
	want := tn.Store.RepresentationDigests(store.MinorChild, &store.Representative{Relation: RelationMother, Name: guardianName, DocumentRef: guardianDocRef})
	if len(want) != 2 || !hasDigest(leaf, want[0]) || !hasDigest(leaf, want[1]) {
		t.Errorf("grant's leaf digests %v, want %v", leaf.Digests, want)
	}
	if want[1].Name != "representative.mae" || want[0].Name != "minor.crianca" {
		t.Errorf("digest names: %v", want)
	}
	plain := sha256.Sum256([]byte(guardianName))
	for _, leak := range [][]byte{[]byte(guardianName), []byte("Sintética"), []byte(guardianDocRef), []byte(child.CPF), plain[:]} {
		if bytes.Contains(rc.GetLeaf(), leak) {
			t.Errorf("the leaf holds %q", leak)
		}
	}

	// A revocation needs no one; the band is still recorded.
	revoke := f.create(f.backend, consentReq(childSubj, "marketing_email", lgpdv1.ConsentAction_REVOKE, "1", "child-revoke"))
	if revoke.GetStatus() != lgpdv1.RequestStatus_COMPLETED || revoke.GetMinor().GetBand() != store.MinorChild || revoke.GetRepresentative() != nil {
		t.Errorf("a child's revocation: %v", revoke)
	}

	// An adolescent consents in person.
	teen := f.scenario(seed.ScenarioProspect)
	born := time.Now().In(brtime.Location()).AddDate(-15, 0, 0).Format(time.DateOnly)
	res, err := f.db.ExecContext(ctx, "UPDATE pessoas SET data_nascimento = ? WHERE LOWER(email) = ?", born, teen.Email)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("made %d pessoas 15 years old, want 1", n)
	}
	teenGrant := f.create(f.backend, consentReq(&lgpdv1.Subject{Email: teen.Email}, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", "teen-self"))
	if teenGrant.GetStatus() != lgpdv1.RequestStatus_COMPLETED || teenGrant.GetMinor().GetBand() != store.MinorAdolescent {
		t.Errorf("an adolescent's own grant: %v", teenGrant)
	}
	rc = must[*lgpdv1.Receipt](f.backend, f, lgpdv1.RequestService_GetReceipt_FullMethodName, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: teenGrant.GetId()})
	if leaf := f.verifyReceipt(t, rc); len(leaf.Digests) != 1 || leaf.Digests[0].Name != "minor.adolescente" {
		t.Errorf("adolescent's leaf digests: %v", leaf.Digests)
	}

	// An adult's request says nothing of minors.
	adult := f.scenario(seed.ScenarioBuyer2023)
	adultGrant := f.create(f.backend, consentReq(&lgpdv1.Subject{Cpf: adult.CPF}, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", "adult-self"))
	if adultGrant.GetStatus() != lgpdv1.RequestStatus_COMPLETED || adultGrant.GetMinor() != nil {
		t.Errorf("an adult's grant: %v", adultGrant)
	}
}

// TestMinorOtherKinds: a request of another kind about the child records the
// band and the guardian who asked, and the titular's copy says so.
func TestMinorOtherKinds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	child := f.scenario(seed.ScenarioMinor)
	in := &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: child.CPF}, IdempotencyKey: "child-confirm",
		Representative: &lgpdv1.Representative{Relation: RelationGuardian, Name: guardianName, DocumentRef: guardianDocRef}}
	r := f.create(f.backend, in)
	if r.GetMinor().GetBand() != store.MinorChild || r.GetRepresentative().GetRelation() != RelationGuardian {
		t.Fatalf("a guardian's CONFIRM for the child: %v", r)
	}
	sr, err := f.tenant().Store.GetRequest(context.Background(), r.GetId())
	if err != nil {
		t.Fatal(err)
	}
	m, err := exportMinor(context.Background(), nil, f.tenant(), sr)
	if err != nil || m == nil || m.Band != store.MinorChild || m.Representative == nil ||
		m.Representative.Relation != RelationGuardian || m.Representative.Name != guardianName {
		t.Errorf("export's minor: %+v, %v", m, err)
	}
	adult := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: f.scenario(seed.ScenarioBuyer2023).CPF}})
	sa, err := f.tenant().Store.GetRequest(context.Background(), adult.GetId())
	if err != nil {
		t.Fatal(err)
	}
	if m, err := exportMinor(context.Background(), nil, f.tenant(), sa); m != nil || err != nil {
		t.Errorf("an adult's export says minor %+v (%v)", m, err)
	}
}

func hasDigest(l ledger.Leaf, d ledger.Digest) bool {
	for _, x := range l.Digests {
		if x == d {
			return true
		}
	}
	return false
}
