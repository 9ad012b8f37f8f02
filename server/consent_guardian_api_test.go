package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
)

// TestConsentGuardianInEvidence (Art. 14 §1 with Art. 8 §2): the DPO, who
// must prove a child's consent, sees in SearchConsents who gave it — the
// guardian recorded with the record's evidence, over gRPC and REST — while
// the backend, which never gets the evidence, does not; an adult's own
// consent shows no guardian. A CONSENT request naming the guardian inside
// the evidence, where it is output only, is refused with where to put it.
func TestConsentGuardianInEvidence(t *testing.T) {
	env := newTestEnv(t, 20)
	loadDemoPurposes(t, env)
	child := env.scenario(t, "menor_dependente")
	adult := env.scenario(t, "comprador_2023")
	const guardian = "Mãe Sintética Oliveira"

	backend := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyBackend)
	dpo := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyDPO)
	reqs, cons := lgpdv1.NewRequestServiceClient(env.grpc), lgpdv1.NewConsentServiceClient(env.grpc)
	grant := func(cpf string, rep *lgpdv1.Representative) *lgpdv1.Request {
		t.Helper()
		r, err := reqs.CreateRequest(backend, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONSENT,
			Subject: &lgpdv1.Subject{Cpf: cpf}, Representative: rep,
			Consent: &lgpdv1.ConsentChange{Purpose: "marketing_email", Action: lgpdv1.ConsentAction_GRANT, TermVersion: "1",
				Evidence: &lgpdv1.ConsentEvidence{Channel: "portal", Ip: evidenceIP, UserAgent: evidenceUA, CapturedBy: "portal-web"}}})
		if err != nil || r.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
			t.Fatalf("GRANT: %v (%v)", r, err)
		}
		return r
	}
	childGrant := grant(child.CPF, &lgpdv1.Representative{Relation: "mae", Name: guardian, DocumentRef: "certidao/arquivo-12"})
	adultGrant := grant(adult.CPF, nil)

	// gRPC, as the DPO: the guardian with the rest of the evidence.
	found, err := cons.SearchConsents(dpo, &lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: &lgpdv1.Subject{Cpf: child.CPF}})
	if err != nil {
		t.Fatal(err)
	}
	if len(found.GetHistory()) != 1 || len(found.GetCurrent()) != 1 {
		t.Fatalf("the child's consents: %v", found)
	}
	for _, rec := range []*lgpdv1.ConsentRecord{found.GetHistory()[0], found.GetCurrent()[0]} {
		ev := rec.GetEvidence()
		if rec.GetRequestId() != childGrant.GetId() || ev.GetIp() != evidenceIP || ev.GetCapturedBy() != "portal-web" ||
			ev.GetRepresentative().GetRelation() != "mae" || ev.GetRepresentative().GetName() != guardian ||
			ev.GetRepresentative().GetDocumentRef() != "certidao/arquivo-12" {
			t.Errorf("the child's consent as the DPO sees it: %v", rec)
		}
	}
	own, err := cons.SearchConsents(dpo, &lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: &lgpdv1.Subject{Cpf: adult.CPF}})
	if err != nil {
		t.Fatal(err)
	}
	if h := own.GetHistory(); len(h) != 1 || h[0].GetRequestId() != adultGrant.GetId() || h[0].GetEvidence().GetIp() != evidenceIP ||
		h[0].GetEvidence().GetRepresentative() != nil {
		t.Errorf("an adult's own consent shows a guardian or no evidence: %v", h)
	}
	// gRPC, as the backend: no evidence, so no guardian.
	found, err = cons.SearchConsents(backend, &lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: &lgpdv1.Subject{Cpf: child.CPF}})
	if err != nil {
		t.Fatal(err)
	}
	if len(found.GetHistory()) != 1 || found.GetHistory()[0].GetEvidence() != nil || found.GetCurrent()[0].GetEvidence() != nil {
		t.Errorf("the backend sees the child's consent evidence: %v", found)
	}

	// REST, both roles.
	type restEvidence struct {
		IP             string `json:"ip"`
		Representative *struct {
			Relation    string `json:"relation"`
			Name        string `json:"name"`
			DocumentRef string `json:"document_ref"`
		} `json:"representative"`
	}
	type restSearchGuardian struct {
		History []struct {
			RequestID string        `json:"request_id"`
			Evidence  *restEvidence `json:"evidence"`
		} `json:"history"`
	}
	search := map[string]any{"subject": map[string]any{"cpf": child.CPF}}
	code, _, b := env.rest(t, "POST", "/v1/tenants/demo/consents:search", keyDPO, search)
	got := decode[restSearchGuardian](t, b)
	if code != http.StatusOK || len(got.History) != 1 || got.History[0].Evidence == nil || got.History[0].Evidence.Representative == nil ||
		got.History[0].Evidence.Representative.Relation != "mae" || got.History[0].Evidence.Representative.Name != guardian ||
		got.History[0].Evidence.Representative.DocumentRef != "certidao/arquivo-12" {
		t.Errorf("REST search as the DPO: HTTP %d %s", code, b)
	}
	code, _, b = env.rest(t, "POST", "/v1/tenants/demo/consents:search", keyBackend, search)
	if code != http.StatusOK || strings.Contains(string(b), guardian) || strings.Contains(string(b), `"evidence"`) {
		t.Errorf("REST search as the backend shows evidence: HTTP %d %s", code, b)
	}

	// The guardian inside the evidence is output only.
	body := consentBody(map[string]any{"cpf": child.CPF}, "marketing_email", "GRANT", "1", "")
	body["consent"].(map[string]any)["evidence"].(map[string]any)["representative"] = map[string]any{
		"relation": "pai", "name": "Pai Sintético", "document_ref": "certidao/arquivo-13"}
	code, _, b = env.rest(t, "POST", "/v1/tenants/demo/requests", keyBackend, body)
	if e := decode[restError](t, b); code != http.StatusBadRequest || e.reason() != "BAD_EVIDENCE" ||
		!strings.Contains(string(b), "request's representative field") {
		t.Errorf("a guardian inside the evidence: HTTP %d %s", code, b)
	}
	for _, s := range []string{guardian, evidenceIP, evidenceUA, child.CPF} {
		if strings.Contains(env.logs.String(), s) {
			t.Errorf("%q reached the logs", s)
		}
	}
}
