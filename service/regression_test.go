package service

// Tests for bugs these unit tests found in the service. Each fails until its
// bug is fixed; the lead fixes them in non-test code.

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
)

// TestCorrectNumericFieldRefusesText: renda_mensal is correctable and has
// no validate rule, so any text reaches the DECIMAL column. MySQL refuses
// it (error 1366), the caller gets INTERNAL instead of INVALID_ARGUMENT,
// and the log line quotes the value the titular sent — their income,
// personal data in the logs (issue 13: "internal errors … log whole MySQL
// errors (which can quote row values)").
func TestCorrectNumericFieldRefusesText(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withoutPurposes())
	s := f.scenario(seed.ScenarioSameCPF)
	const income = "R$ 5.432,10"
	_, err := call[*lgpdv1.Request](f.backend, f, createMethod, &lgpdv1.CreateRequestRequest{Tenant: "demo",
		Kind: lgpdv1.RequestKind_CORRECT, Subject: &lgpdv1.Subject{Cpf: s.CPF},
		Correction: &lgpdv1.Correction{Fields: map[string]string{"renda_mensal": income}}})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("CORRECT renda_mensal with text: %v; want INVALID_ARGUMENT naming the field", err)
	}
	if strings.Contains(f.logs.String(), "5.432") {
		t.Error("the logs quote the corrected value (personal data)")
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_requests"); n != 0 {
		t.Errorf("%d requests left behind", n)
	}
}

// TestIdempotencyKeyReusedForAnotherChange: a key already used is matched
// on kind and subject only, so a second call with the same key but another
// change gets the first request back as if it had been recorded: a REVOKE
// after a GRANT under one key is answered COMPLETED and never recorded
// (the titular stays "granted", against LGPD art. 8 §5), and a CORRECT
// with new values is answered with the old correction. store.IdempotentMatch
// promises ErrConflict for "a different request".
func TestIdempotencyKeyReusedForAnotherChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioSameCPF)
	subject := &lgpdv1.Subject{Cpf: s.CPF}
	grant := f.create(f.backend, consentReq(subject, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", "crm-lead-42"))
	revoke, err := call[*lgpdv1.Request](f.backend, f, createMethod, consentReq(subject, "marketing_email", lgpdv1.ConsentAction_REVOKE, "", "crm-lead-42"))
	switch {
	case err == nil && revoke.GetId() == grant.GetId():
		t.Error("a REVOKE reusing the GRANT's idempotency key was answered with the GRANT and not recorded; want ALREADY_EXISTS IDEMPOTENCY_KEY_REUSED")
	case err != nil:
		wantCode(t, err, codes.AlreadyExists, "IDEMPOTENCY_KEY_REUSED")
	}
	cur := must[*lgpdv1.SearchConsentsResponse](f.dpo, f, searchConsentsMethod, &lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: subject}).GetCurrent()
	if err == nil && (len(cur) != 1 || cur[0].GetAction() != lgpdv1.ConsentAction_REVOKE) {
		t.Errorf("the call succeeded, but the titular's status is %v", cur)
	}

	first := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CORRECT, Subject: subject, IdempotencyKey: "ticket-7",
		Correction: &lgpdv1.Correction{Fields: map[string]string{"profissao": "Arquiteta"}}})
	second, err := call[*lgpdv1.Request](f.backend, f, createMethod, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CORRECT,
		Subject: subject, IdempotencyKey: "ticket-7", Correction: &lgpdv1.Correction{Fields: map[string]string{"profissao": "Engenheira"}}})
	if err == nil && second.GetId() == first.GetId() {
		t.Error("a CORRECT with other values reusing a key was answered with the first correction; want ALREADY_EXISTS IDEMPOTENCY_KEY_REUSED")
	}
}

// TestDenyWithManyReasons: DenyRequest bounds each reason but not their
// number; reasons are stored in a TEXT column (64 KiB), so a denial with
// enough reasons fails in the store and the DPO gets INTERNAL instead of a
// message saying how many reasons fit.
func TestDenyWithManyReasons(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withoutPurposes(), withApproval("EXTRACT"))
	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: f.scenario(seed.ScenarioPEP).CPF}})
	var reasons []*lgpdv1.Reason
	for range 40 {
		reasons = append(reasons, &lgpdv1.Reason{Code: "DOCUMENTO_ILEGIVEL", Message: strings.Repeat("Documento ilegível. ", 90), LegalReference: "LGPD art. 18 §4"})
	}
	d, err := call[*lgpdv1.Request](f.dpo, f, denyMethod, &lgpdv1.DenyRequestRequest{Tenant: "demo", Id: x.GetId(), Reasons: reasons})
	switch {
	case err == nil && len(d.GetReasons()) != len(reasons):
		t.Errorf("denied with %d of %d reasons", len(d.GetReasons()), len(reasons))
	case err != nil && status.Code(err) != codes.InvalidArgument:
		t.Errorf("a denial with %d reasons: %v; want it recorded, or INVALID_ARGUMENT saying how many fit", len(reasons), err)
	}
}
