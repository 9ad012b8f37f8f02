package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
)

// TestMinorConsentAPI: a marketing consent for the seeded child (born 2016;
// the demo map marks pessoas.data_nascimento as birth_date) is refused over
// REST when it comes from the child ("self"), with a 400 FAILED_PRECONDITION
// naming what to send, and accepted from a parent; the request says the
// titular is a child and who consented. The same over gRPC.
func TestMinorConsentAPI(t *testing.T) {
	env := newTestEnv(t, 20)
	loadDemoPurposes(t, env)
	child := env.scenario(t, "menor_dependente")
	subject := map[string]any{"cpf": child.CPF}

	code, _, b := env.rest(t, "POST", "/v1/tenants/demo/requests", keyBackend,
		consentBody(subject, "marketing_email", "GRANT", "1", "rest-child-self"))
	e := decode[restError](t, b)
	if code != http.StatusBadRequest || e.reason() != "GUARDIAN_CONSENT_REQUIRED" {
		t.Fatalf("a child's own GRANT: HTTP %d %s", code, b)
	}
	for _, want := range []string{"representative", "mae", "responsavel_legal", "art. 14"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the refusal does not say %q: %s", want, b)
		}
	}
	if strings.Contains(string(b), child.CPF) || strings.Contains(string(b), child.FullName) {
		t.Errorf("the refusal echoes the child's data: %s", b)
	}

	body := consentBody(subject, "marketing_email", "GRANT", "1", "rest-child-father")
	body["representative"] = map[string]any{"relation": "pai", "name": "Pai Sintético Souza", "document_ref": "certidao/arquivo-9"}
	code, _, b = env.rest(t, "POST", "/v1/tenants/demo/requests", keyBackend, body)
	if code != http.StatusOK {
		t.Fatalf("a father's GRANT: HTTP %d %s", code, b)
	}
	got := decode[struct {
		ID             string `json:"id"`
		Status         string `json:"status"`
		Minor          *struct{ Band string }
		Representative *struct {
			Relation    string `json:"relation"`
			Name        string `json:"name"`
			DocumentRef string `json:"document_ref"`
		} `json:"representative"`
	}](t, b)
	if got.Status != "COMPLETED" || got.Minor == nil || got.Minor.Band != "crianca" || got.Representative == nil ||
		got.Representative.Relation != "pai" || got.Representative.Name != "Pai Sintético Souza" || got.Representative.DocumentRef != "certidao/arquivo-9" {
		t.Errorf("a father's GRANT: %s", b)
	}
	code, _, b = env.rest(t, "GET", "/v1/tenants/demo/requests/"+got.ID, keyDPO, nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"minor":{"band":"crianca"}`) {
		t.Errorf("GET of the father's GRANT: HTTP %d %s", code, b)
	}

	// gRPC: refused without a guardian, accepted from a tutor.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyBackend)
	reqs := lgpdv1.NewRequestServiceClient(env.grpc)
	in := &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONSENT, Subject: &lgpdv1.Subject{Cpf: child.CPF},
		Consent: &lgpdv1.ConsentChange{Purpose: "partner_sharing", Action: lgpdv1.ConsentAction_GRANT, TermVersion: "1",
			Evidence: &lgpdv1.ConsentEvidence{Channel: "crm", Ip: evidenceIP, UserAgent: evidenceUA}}}
	_, err := reqs.CreateRequest(ctx, in)
	if st, _ := status.FromError(err); st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), "art. 14 §1") {
		t.Fatalf("gRPC GRANT for a child as self: %v", err)
	}
	in.Representative = &lgpdv1.Representative{Relation: "tutor", Name: "Tutora Sintética", DocumentRef: "termo-de-tutela/arquivo-3"}
	r, err := reqs.CreateRequest(ctx, in)
	if err != nil {
		t.Fatalf("gRPC GRANT from a tutor: %v", err)
	}
	if r.GetStatus() != lgpdv1.RequestStatus_COMPLETED || r.GetMinor().GetBand() != "crianca" || r.GetRepresentative().GetRelation() != "tutor" {
		t.Errorf("gRPC GRANT from a tutor: %v", r)
	}
}
