package service

import (
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
)

const (
	approveMethod = lgpdv1.RequestService_ApproveRequest_FullMethodName
	denyMethod    = lgpdv1.RequestService_DenyRequest_FullMethodName
	cancelMethod  = lgpdv1.RequestService_CancelRequest_FullMethodName
)

// TestApprovalHoldsThenRuns: under a policy that holds DELETEs for the DPO,
// a DELETE waits in AWAITING_APPROVAL, where no worker takes it and no
// worker is woken; only the DPO may approve it, with a note kept in its
// history; approved, it is woken, run and completed. Kinds the policy does
// not hold run at once.
func TestApprovalHoldsThenRuns(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withApproval("DELETE"))
	lead := f.scenario(seed.ScenarioConsentOnlyLead)
	d := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Email: lead.Email}})
	if d.GetStatus() != lgpdv1.RequestStatus_AWAITING_APPROVAL {
		t.Fatalf("held DELETE: %v", d)
	}
	if got := f.events(d.GetId()); !slices.Equal(got, []string{">RECEIVED", "RECEIVED>AWAITING_APPROVAL"}) {
		t.Errorf("events %v", got)
	}
	if w := f.wakes(); len(w) != 0 {
		t.Errorf("a held request woke the workers: %v", w)
	}
	if n := f.work(); n != 0 {
		t.Fatalf("a worker took %d held requests", n)
	}
	// EXTRACT is not held by this policy.
	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Email: lead.Email}})
	if x.GetStatus() != lgpdv1.RequestStatus_RECEIVED {
		t.Errorf("EXTRACT under a DELETE-only policy: %v", x)
	}

	for _, tc := range []struct {
		name, key string
		req       *lgpdv1.ApproveRequestRequest
		code      codes.Code
		reason    string
	}{
		{"backend may not approve", keyBackend, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: d.GetId()}, codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"auditor may not approve", keyAuditor, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: d.GetId()}, codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"note too long", keyDPO, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: d.GetId(), Note: strings.Repeat("n", 501)}, codes.InvalidArgument, "NOTE_TOO_LONG"},
		{"note not UTF-8", keyDPO, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: d.GetId(), Note: "ok\xff"}, codes.InvalidArgument, "NOTE_TOO_LONG"},
		{"a request not held", keyDPO, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: x.GetId()}, codes.FailedPrecondition, "CONFLICT"},
		{"unknown request", keyDPO, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: "00000000-0000-0000-0000-000000000000"}, codes.NotFound, "NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := call[*lgpdv1.Request](caller(tc.key), f, approveMethod, tc.req)
			wantCode(t, err, tc.code, tc.reason)
		})
	}
	if got := f.get(d.GetId()); got.GetStatus() != lgpdv1.RequestStatus_AWAITING_APPROVAL {
		t.Fatalf("refused approvals moved the request to %s", got.GetStatus())
	}

	a := must[*lgpdv1.Request](f.dpo, f, approveMethod, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: d.GetId(), Note: "titular identificado"})
	if a.GetStatus() != lgpdv1.RequestStatus_RECEIVED || !slices.Contains(f.wakes(), "demo") {
		t.Fatalf("approved: %v, wakes %v", a, f.wakes())
	}
	var note, actor string
	if err := f.db.QueryRow("SELECT note, actor FROM lgpd_request_events WHERE request_id = ? AND to_status = 'RECEIVED' AND from_status = 'AWAITING_APPROVAL'",
		d.GetId()).Scan(&note, &actor); err != nil || note != "titular identificado" || actor != "dpo" {
		t.Errorf("approval event: note %q actor %q (%v)", note, actor, err)
	}
	if n := f.work(); n != 2 {
		t.Fatalf("worker took %d requests, want the approved DELETE and the EXTRACT", n)
	}
	if got := f.get(d.GetId()); got.GetStatus() != lgpdv1.RequestStatus_COMPLETED || !got.GetResult().GetDelete().GetComplete() {
		t.Errorf("approved DELETE: %v", got)
	}
	// Approving twice is a conflict, and says so.
	_, err := call[*lgpdv1.Request](f.dpo, f, approveMethod, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: d.GetId()})
	wantCode(t, err, codes.FailedPrecondition, "CONFLICT")
	// Without a note, "approved" is recorded.
	d2 := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Cpf: f.scenario(seed.ScenarioPEP).CPF}})
	must[*lgpdv1.Request](f.dpo, f, approveMethod, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: d2.GetId()})
	if n := f.count("SELECT COUNT(*) FROM lgpd_request_events WHERE request_id = ? AND note = 'approved'", d2.GetId()); n != 1 {
		t.Error("an approval without a note must record 'approved'")
	}
}

// TestDenyAndCancel: for a small agent (deadlines doubled), the DPO denies
// a held request with reasons (Art. 18 §4), which the request carries and its DENIED leaf commits to; malformed
// reasons are refused; a pending request may be cancelled by the DPO or the
// backend, a finished one may not.
func TestDenyAndCancel(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withApproval("EXTRACT", "ANONYMIZE"), withSmallAgent())
	s := f.scenario(seed.ScenarioPEP)
	held := func() *lgpdv1.Request {
		t.Helper()
		r := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
		if r.GetStatus() != lgpdv1.RequestStatus_AWAITING_APPROVAL {
			t.Fatalf("held EXTRACT: %v", r)
		}
		// A small agent's deadline is doubled (Res. CD/ANPD 2/2022); it runs while the request waits.
		if d := r.GetDueAt().AsTime().Sub(r.GetReceivedAt().AsTime()); d != 30*24*time.Hour {
			t.Errorf("due_at - received_at = %s, want 30 days for a small agent", d)
		}
		return r
	}
	x := held()
	reason := func(code, msg string) []*lgpdv1.Reason {
		return []*lgpdv1.Reason{{Code: code, Message: msg, LegalReference: "LGPD art. 18 §4"}}
	}
	for _, tc := range []struct {
		name, key string
		reasons   []*lgpdv1.Reason
		code      codes.Code
		why       string
	}{
		{"backend may not deny", keyBackend, reason("IDENTITY_NOT_CONFIRMED", "x"), codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"no reasons", keyDPO, nil, codes.InvalidArgument, "REASONS_REQUIRED"},
		{"reason without message", keyDPO, reason("IDENTITY_NOT_CONFIRMED", ""), codes.InvalidArgument, "REASONS_REQUIRED"},
		{"lower-case code", keyDPO, reason("identity", "x"), codes.InvalidArgument, "BAD_REASON"},
		{"message too long", keyDPO, reason("IDENTITY_NOT_CONFIRMED", strings.Repeat("m", 2001)), codes.InvalidArgument, "BAD_REASON"},
		{"message not UTF-8", keyDPO, reason("IDENTITY_NOT_CONFIRMED", "m\xff"), codes.InvalidArgument, "BAD_REASON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := call[*lgpdv1.Request](caller(tc.key), f, denyMethod, &lgpdv1.DenyRequestRequest{Tenant: "demo", Id: x.GetId(), Reasons: tc.reasons})
			wantCode(t, err, tc.code, tc.why)
		})
	}
	msg := "Não foi possível confirmar a identidade do titular pelos documentos enviados."
	d := must[*lgpdv1.Request](f.dpo, f, denyMethod, &lgpdv1.DenyRequestRequest{Tenant: "demo", Id: x.GetId(), Reasons: []*lgpdv1.Reason{
		{Code: "IDENTITY_NOT_CONFIRMED", Message: msg, LegalReference: "LGPD art. 18 §4", Entity: "pessoa"}}})
	if d.GetStatus() != lgpdv1.RequestStatus_DENIED || len(d.GetReasons()) != 1 || d.GetReasons()[0].GetMessage() != msg ||
		d.GetReasons()[0].GetEntity() != "pessoa" || d.GetCompletedAt() == nil {
		t.Fatalf("denied: %v", d)
	}
	if got := f.get(x.GetId()); len(got.GetReasons()) != 1 || got.GetReasons()[0].GetCode() != "IDENTITY_NOT_CONFIRMED" {
		t.Errorf("stored reasons: %v", got.GetReasons())
	}
	rc := must[*lgpdv1.Receipt](f.auditor, f, lgpdv1.RequestService_GetReceipt_FullMethodName, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: x.GetId()})
	if leaf := f.verifyReceipt(t, rc); leaf.To != "DENIED" || len(leaf.Digests) == 0 {
		t.Errorf("receipt leaf %+v: want the DENIED one committing to its reasons", leaf)
	}
	_, err := call[*lgpdv1.Request](f.dpo, f, denyMethod, &lgpdv1.DenyRequestRequest{Tenant: "demo", Id: x.GetId(), Reasons: reason("AGAIN", "x")})
	wantCode(t, err, codes.FailedPrecondition, "CONFLICT")
	_, err = call[*lgpdv1.Request](f.dpo, f, approveMethod, &lgpdv1.ApproveRequestRequest{Tenant: "demo", Id: x.GetId()})
	wantCode(t, err, codes.FailedPrecondition, "CONFLICT")

	// Cancelling: held and received requests, by the DPO or the backend.
	y := held()
	c := must[*lgpdv1.Request](f.backend, f, cancelMethod, &lgpdv1.CancelRequestRequest{Tenant: "demo", Id: y.GetId(), Note: "titular desistiu"})
	if c.GetStatus() != lgpdv1.RequestStatus_CANCELED {
		t.Errorf("cancel a held request: %v", c)
	}
	if got := f.events(y.GetId()); got[len(got)-1] != "AWAITING_APPROVAL>CANCELED" {
		t.Errorf("events %v", got)
	}
	z := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
	if z.GetStatus() != lgpdv1.RequestStatus_RECEIVED {
		t.Fatalf("DELETE under an EXTRACT/ANONYMIZE policy: %v", z)
	}
	if c := must[*lgpdv1.Request](f.dpo, f, cancelMethod, &lgpdv1.CancelRequestRequest{Tenant: "demo", Id: z.GetId()}); c.GetStatus() != lgpdv1.RequestStatus_CANCELED {
		t.Errorf("cancel a received request: %v", c)
	}
	if n := f.work(); n != 0 {
		t.Errorf("the worker took %d cancelled requests", n)
	}
	done := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
	for _, tc := range []struct {
		name, key string
		req       *lgpdv1.CancelRequestRequest
		code      codes.Code
		reason    string
	}{
		{"a completed request", keyBackend, &lgpdv1.CancelRequestRequest{Tenant: "demo", Id: done.GetId()}, codes.FailedPrecondition, "CONFLICT"},
		{"a cancelled request", keyDPO, &lgpdv1.CancelRequestRequest{Tenant: "demo", Id: y.GetId()}, codes.FailedPrecondition, "CONFLICT"},
		{"auditor", keyAuditor, &lgpdv1.CancelRequestRequest{Tenant: "demo", Id: done.GetId()}, codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"note too long", keyDPO, &lgpdv1.CancelRequestRequest{Tenant: "demo", Id: done.GetId(), Note: strings.Repeat("n", 501)}, codes.InvalidArgument, "NOTE_TOO_LONG"},
		{"malformed id", keyDPO, &lgpdv1.CancelRequestRequest{Tenant: "demo", Id: "123"}, codes.InvalidArgument, "BAD_REQUEST_ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := call[*lgpdv1.Request](caller(tc.key), f, cancelMethod, tc.req)
			wantCode(t, err, tc.code, tc.reason)
		})
	}
	if got := f.get(done.GetId()); got.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		t.Errorf("a refused cancel changed a completed request to %s", got.GetStatus())
	}
}
