package service

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/config"
	"github.com/titular/titular/seed"
)

// asTitular is the context of a call whose titular-bound token (already
// verified by the authenticator) names the person with these identifiers.
func asTitular(s seed.Scenario) context.Context {
	cpf, _ := brdoc.NormalizeCPF(s.CPF)
	email, _ := brdoc.NormalizeEmail(s.Email)
	p := NewPrincipal("titular via portal", config.RoleTitular, []string{"demo"})
	p.Titular = &TitularClaim{CPF: cpf, Email: email, VerifiedBy: "gov.br", Issuer: "portal"}
	return context.WithValue(context.Background(), principalKey{}, p)
}

func codeOf(f *fixture, err error) codes.Code {
	return status.Code(toStatus(context.Background(), f.log, "test", err))
}

// TestTitularTokenSeesOnlyItsTitular: a caller bound to one titular
// creates requests for that titular only, and sees none of another's.
func TestTitularTokenSeesOnlyItsTitular(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	me, other := f.scenario(seed.ScenarioSameCPF), f.scenario(seed.ScenarioProspect)
	ctx := asTitular(me)

	// Staff records one request for each.
	mineByStaff := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: me.CPF}})
	theirs := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: other.CPF}})

	// The titular may leave the subject out: the token names it.
	own, err := f.reqs.CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM})
	if err != nil {
		t.Fatal(err)
	}
	if own.GetCreatedBy() != "titular via portal" || own.GetSubjectRef() != mineByStaff.GetSubjectRef() ||
		!own.GetResult().GetConfirm().GetHasPersonalData() {
		t.Errorf("own CONFIRM: %v", own)
	}
	for name, subj := range map[string]*lgpdv1.Subject{
		"another's cpf":                 {Cpf: other.CPF},
		"own cpf with another's e-mail": {Cpf: me.CPF, Email: other.Email},
		"an identifier the token lacks": {Phone: me.Phone},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.reqs.CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM, Subject: subj})
			wantCode(t, toStatus(ctx, f.log, "test", err), codes.PermissionDenied, "NOT_THIS_TITULAR", other.CPF, other.Email)
		})
	}

	if _, err := f.reqs.GetRequest(ctx, &lgpdv1.GetRequestRequest{Tenant: "demo", Id: mineByStaff.GetId()}); err != nil {
		t.Errorf("own request created by staff: %v", err)
	}
	if _, err := f.reqs.GetRequest(ctx, &lgpdv1.GetRequestRequest{Tenant: "demo", Id: theirs.GetId()}); codeOf(f, err) != codes.NotFound {
		t.Errorf("another titular's request: %v, want NotFound", err)
	}
	if _, err := f.reqs.GetReceipt(ctx, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: theirs.GetId()}); codeOf(f, err) != codes.NotFound {
		t.Errorf("another titular's receipt: %v, want NotFound", err)
	}
	list, err := f.reqs.ListRequests(ctx, &lgpdv1.ListRequestsRequest{Tenant: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range list.GetRequests() {
		seen[r.GetId()] = true
	}
	if len(seen) != 2 || !seen[own.GetId()] || !seen[mineByStaff.GetId()] {
		t.Errorf("the titular lists %v, want exactly its two requests", seen)
	}

	if _, err := f.consent.SearchConsents(ctx, &lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: &lgpdv1.Subject{Cpf: other.CPF}}); codeOf(f, err) != codes.PermissionDenied {
		t.Errorf("another titular's consents: %v, want PermissionDenied", err)
	}
	if _, err := f.consent.SearchConsents(ctx, &lgpdv1.SearchConsentsRequest{Tenant: "demo"}); err != nil {
		t.Errorf("own consents: %v", err)
	}

	// A token for someone titular never saw lists nothing.
	stranger := asTitular(seed.Scenario{CPF: unknownCPF})
	list, err = f.reqs.ListRequests(stranger, &lgpdv1.ListRequestsRequest{Tenant: "demo"})
	if err != nil || len(list.GetRequests()) != 0 {
		t.Errorf("an unknown titular lists %d requests (err %v)", len(list.GetRequests()), err)
	}
}
