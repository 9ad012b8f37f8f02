package service

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
)

const verifyMethod = lgpdv1.RequestService_VerifyRequest_FullMethodName

// TestVerificationHoldsUntilVerified: under a policy that wants the
// titular's identity verified (Art. 18 §3), a request from the backend
// waits in AWAITING_VERIFICATION where no worker takes it, until a DPO
// records how it was verified; then it goes on to approval when the
// policy wants that too, else to the workers. A titular-bound token's
// request counts as verified.
func TestVerificationHoldsUntilVerified(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withVerification("EXTRACT", "DELETE"), withApproval("DELETE"))
	lead := f.scenario(seed.ScenarioConsentOnlyLead)
	buyer := f.scenario(seed.ScenarioSameCPF)

	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Email: lead.Email}})
	if x.GetStatus() != lgpdv1.RequestStatus_AWAITING_VERIFICATION {
		t.Fatalf("EXTRACT under verification: %v", x)
	}
	if got := f.events(x.GetId()); !slices.Equal(got, []string{">RECEIVED", "RECEIVED>AWAITING_VERIFICATION"}) {
		t.Errorf("events %v", got)
	}
	if w := f.wakes(); len(w) != 0 {
		t.Errorf("a request waiting for verification woke the workers: %v", w)
	}
	if n := f.work(); n != 0 {
		t.Fatalf("a worker took %d unverified requests", n)
	}

	// The titular's own portal verified its titular.
	own, err := f.reqs.CreateRequest(asTitular(buyer), &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_EXTRACT})
	if err != nil || own.GetStatus() != lgpdv1.RequestStatus_RECEIVED {
		t.Fatalf("titular-bound EXTRACT: %v (%v), want RECEIVED", own, err)
	}

	for _, tc := range []struct {
		name, key string
		req       *lgpdv1.VerifyRequestRequest
		code      codes.Code
		reason    string
	}{
		{"backend may not verify", keyBackend, &lgpdv1.VerifyRequestRequest{Tenant: "demo", Id: x.GetId(), Method: "gov.br", EvidenceRef: "GED-1"}, codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"no method", keyDPO, &lgpdv1.VerifyRequestRequest{Tenant: "demo", Id: x.GetId(), EvidenceRef: "GED-1"}, codes.InvalidArgument, "VERIFICATION_INCOMPLETE"},
		{"no evidence", keyDPO, &lgpdv1.VerifyRequestRequest{Tenant: "demo", Id: x.GetId(), Method: "gov.br"}, codes.InvalidArgument, "VERIFICATION_INCOMPLETE"},
		{"a CPF in the note", keyDPO, &lgpdv1.VerifyRequestRequest{Tenant: "demo", Id: x.GetId(), Method: "documento_presencial", EvidenceRef: "GED-1", Note: "CPF " + buyer.CPF}, codes.InvalidArgument, "PERSONAL_DATA_IN_TEXT"},
		{"an e-mail as evidence", keyDPO, &lgpdv1.VerifyRequestRequest{Tenant: "demo", Id: x.GetId(), Method: "codigo_email", EvidenceRef: lead.Email}, codes.InvalidArgument, "PERSONAL_DATA_IN_TEXT"},
		{"a request not waiting", keyDPO, &lgpdv1.VerifyRequestRequest{Tenant: "demo", Id: own.GetId(), Method: "gov.br", EvidenceRef: "GED-1"}, codes.FailedPrecondition, "CONFLICT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := call[*lgpdv1.Request](caller(tc.key), f, verifyMethod, tc.req)
			wantCode(t, err, tc.code, tc.reason, buyer.CPF, lead.Email)
		})
	}

	v := must[*lgpdv1.Request](f.dpo, f, verifyMethod, &lgpdv1.VerifyRequestRequest{Tenant: "demo", Id: x.GetId(),
		Method: "documento_presencial", EvidenceRef: "GED-2026-0042"})
	if v.GetStatus() != lgpdv1.RequestStatus_RECEIVED || !slices.Contains(f.wakes(), "demo") {
		t.Fatalf("verified EXTRACT: %v, wakes %v", v, f.wakes())
	}
	var note, actor string
	if err := f.db.QueryRow("SELECT note, actor FROM lgpd_request_events WHERE request_id = ? AND from_status = 'AWAITING_VERIFICATION'",
		x.GetId()).Scan(&note, &actor); err != nil || note != "identity verified: documento_presencial; evidence: GED-2026-0042" || actor != "dpo" {
		t.Errorf("verification event: note %q actor %q (%v)", note, actor, err)
	}

	// DELETE wants both: verified, it waits for approval.
	d := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Email: lead.Email}})
	if d.GetStatus() != lgpdv1.RequestStatus_AWAITING_VERIFICATION {
		t.Fatalf("DELETE: %v", d)
	}
	d = must[*lgpdv1.Request](f.dpo, f, verifyMethod, &lgpdv1.VerifyRequestRequest{Tenant: "demo", Id: d.GetId(), Method: "gov.br", EvidenceRef: "GED-7"})
	if d.GetStatus() != lgpdv1.RequestStatus_AWAITING_APPROVAL {
		t.Errorf("verified DELETE under approval: %v", d)
	}

	// A request that waits for verification may be denied.
	y := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Email: lead.Email}})
	den := must[*lgpdv1.Request](f.dpo, f, denyMethod, &lgpdv1.DenyRequestRequest{Tenant: "demo", Id: y.GetId(),
		Reasons: []*lgpdv1.Reason{{Code: "IDENTITY_NOT_VERIFIED", Message: "a identidade do titular não pôde ser confirmada"}}})
	if den.GetStatus() != lgpdv1.RequestStatus_DENIED {
		t.Errorf("denied unverified request: %v", den)
	}
	if n := f.work(); n != 2 {
		t.Errorf("workers ran %d requests, want the verified EXTRACT and the titular's own", n)
	}
}

// TestRepresentativeRecorded: a request made by an attorney or a legal
// guardian records who and the document's reference, never logs the
// name, refuses a bad relation or a reference holding personal data, and
// waits for the DPO to verify the representation even through the
// titular's portal.
func TestRepresentativeRecorded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withVerification("EXTRACT"))
	buyer := f.scenario(seed.ScenarioSameCPF)
	const name = "Ana Procuradora Sintetica"
	rep := &lgpdv1.Representative{Relation: "procurador", Name: name, DocumentRef: "GED-PROC-77"}

	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: buyer.CPF}, Representative: rep})
	got := f.get(x.GetId()).GetRepresentative()
	if got.GetRelation() != "procurador" || got.GetName() != name || got.GetDocumentRef() != "GED-PROC-77" {
		t.Errorf("recorded representative: %v", got)
	}

	for reason, bad := range map[string]*lgpdv1.Representative{
		"BAD_REPRESENTATIVE":      {Relation: "amigo", Name: name, DocumentRef: "GED-1"},
		"PERSONAL_DATA_IN_TEXT":   {Relation: "responsavel_legal", Name: name, DocumentRef: "certidão do CPF " + buyer.CPF},
		"VERIFICATION_INCOMPLETE": {Relation: "responsavel_legal", Name: name},
	} {
		_, err := call[*lgpdv1.Request](f.backend, f, lgpdv1.RequestService_CreateRequest_FullMethodName,
			&lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: buyer.CPF}, Representative: bad})
		wantCode(t, err, codes.InvalidArgument, reason, buyer.CPF)
	}
	if _, err := call[*lgpdv1.Request](f.backend, f, lgpdv1.RequestService_CreateRequest_FullMethodName,
		&lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: buyer.CPF},
			Representative: &lgpdv1.Representative{Relation: "procurador", DocumentRef: "GED-1"}}); err == nil {
		t.Error("a representative without a name was accepted")
	}

	// Through the titular's own portal, a representative still waits.
	own, err := f.reqs.CreateRequest(asTitular(buyer), &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_EXTRACT,
		Representative: &lgpdv1.Representative{Relation: "responsavel_legal", Name: name, DocumentRef: "GED-CERT-9"}})
	if err != nil || own.GetStatus() != lgpdv1.RequestStatus_AWAITING_VERIFICATION {
		t.Errorf("representative through the portal: %v (%v), want AWAITING_VERIFICATION", own, err)
	}
	if strings.Contains(strings.ToLower(f.logs.String()), strings.ToLower(name)) {
		t.Error("the representative's name reached the log")
	}
}
