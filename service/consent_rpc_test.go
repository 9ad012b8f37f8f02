package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/seed"
)

const (
	createPurposeMethod   = lgpdv1.ConsentService_CreatePurpose_FullMethodName
	publishTermMethod     = lgpdv1.ConsentService_PublishTerm_FullMethodName
	getTermMethod         = lgpdv1.ConsentService_GetTerm_FullMethodName
	listPurposesMethod    = lgpdv1.ConsentService_ListPurposes_FullMethodName
	searchConsentsMethod  = lgpdv1.ConsentService_SearchConsents_FullMethodName
	consentSubjectsMethod = lgpdv1.ConsentService_ListConsentSubjects_FullMethodName
)

// consentReq is a CONSENT request with the tests' evidence.
func consentReq(subject *lgpdv1.Subject, purpose string, action lgpdv1.ConsentAction, version, key string) *lgpdv1.CreateRequestRequest {
	return &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONSENT, Subject: subject, IdempotencyKey: key,
		Consent: &lgpdv1.ConsentChange{Purpose: purpose, Action: action, TermVersion: version,
			Evidence: &lgpdv1.ConsentEvidence{Channel: "portal", Ip: evidenceIP, UserAgent: evidenceUA, CapturedBy: "portal-web"}}}
}

// TestConsentCatalog: the DPO's purposes and versioned terms, with
// server-computed digests, the errors that protect them, and the consent
// rules that depend on them.
func TestConsentCatalog(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withoutPurposes())
	newsletter := &lgpdv1.Purpose{Id: "newsletter", Name: "Boletim mensal", LegalBasis: "consentimento", ConsentRequired: true,
		RefusalConsequences: "Sem boletim", Description: "Boletim com lançamentos", SharedWith: []string{"Gráfica parceira"}}
	_, err := call[*lgpdv1.Purpose](f.backend, f, createPurposeMethod, &lgpdv1.CreatePurposeRequest{Tenant: "demo", Purpose: newsletter})
	wantCode(t, err, codes.PermissionDenied, "ROLE_NOT_ALLOWED")
	p := must[*lgpdv1.Purpose](f.dpo, f, createPurposeMethod, &lgpdv1.CreatePurposeRequest{Tenant: "demo", Purpose: newsletter})
	if p.GetId() != "newsletter" || p.GetName() != newsletter.GetName() || !p.GetConsentRequired() || p.GetCurrentTermVersion() != "" ||
		!slices.Equal(p.GetSharedWith(), newsletter.GetSharedWith()) {
		t.Errorf("created purpose %v", p)
	}
	_, err = call[*lgpdv1.Purpose](f.dpo, f, createPurposeMethod, &lgpdv1.CreatePurposeRequest{Tenant: "demo", Purpose: newsletter})
	wantCode(t, err, codes.AlreadyExists, "PURPOSE_EXISTS")

	valid := func(edit func(p *lgpdv1.Purpose)) *lgpdv1.Purpose {
		p := &lgpdv1.Purpose{Id: "outra", Name: "Outra", LegalBasis: "legitimo_interesse"}
		edit(p)
		return p
	}
	for _, tc := range []struct {
		name    string
		purpose *lgpdv1.Purpose
		reason  string
	}{
		{"no purpose", nil, "PURPOSE_REQUIRED"},
		{"bad id", valid(func(p *lgpdv1.Purpose) { p.Id = "Outra Finalidade" }), "BAD_PURPOSE_ID"},
		{"no name", valid(func(p *lgpdv1.Purpose) { p.Name = "" }), "BAD_PURPOSE"},
		{"long description", valid(func(p *lgpdv1.Purpose) { p.Description = strings.Repeat("d", 4001) }), "BAD_PURPOSE"},
		{"term version set", valid(func(p *lgpdv1.Purpose) { p.CurrentTermVersion = "1" }), "BAD_PURPOSE"},
		{"too many recipients", valid(func(p *lgpdv1.Purpose) { p.SharedWith = make([]string, 51) }), "BAD_PURPOSE"},
		{"empty recipient", valid(func(p *lgpdv1.Purpose) { p.SharedWith = []string{""} }), "BAD_PURPOSE"},
		{"unknown legal basis", valid(func(p *lgpdv1.Purpose) { p.LegalBasis = "vontade" }), "BAD_LEGAL_BASIS"},
		{"consent without refusal consequences", valid(func(p *lgpdv1.Purpose) { p.LegalBasis, p.ConsentRequired = "consentimento", true }),
			"REFUSAL_CONSEQUENCES_REQUIRED"},
	} {
		t.Run("purpose/"+tc.name, func(t *testing.T) {
			_, err := call[*lgpdv1.Purpose](f.dpo, f, createPurposeMethod, &lgpdv1.CreatePurposeRequest{Tenant: "demo", Purpose: tc.purpose})
			wantCode(t, err, codes.InvalidArgument, tc.reason)
		})
	}

	text1, text2 := "Aceito receber o boletim mensal.", "Aceito receber o boletim mensal e convites."
	v1 := must[*lgpdv1.Term](f.dpo, f, publishTermMethod, &lgpdv1.PublishTermRequest{Tenant: "demo", Purpose: "newsletter", Version: "1", Text: text1})
	if v1.GetTextSha256() != sha(text1) || v1.GetVersion() != "1" || v1.GetValidFrom() == nil || v1.GetValidTo() != nil {
		t.Errorf("published v1: %v; want the server-computed SHA-256", v1)
	}
	must[*lgpdv1.Term](f.dpo, f, publishTermMethod, &lgpdv1.PublishTermRequest{Tenant: "demo", Purpose: "newsletter", Version: "2", Text: text2})
	for _, tc := range []struct {
		name   string
		key    string
		req    *lgpdv1.PublishTermRequest
		code   codes.Code
		reason string
	}{
		{"republish", keyDPO, &lgpdv1.PublishTermRequest{Tenant: "demo", Purpose: "newsletter", Version: "1", Text: "outro"}, codes.AlreadyExists, "TERM_VERSION_EXISTS"},
		{"unknown purpose", keyDPO, &lgpdv1.PublishTermRequest{Tenant: "demo", Purpose: "nao_existe", Version: "1", Text: "x"}, codes.NotFound, "PURPOSE_NOT_FOUND"},
		{"version current", keyDPO, &lgpdv1.PublishTermRequest{Tenant: "demo", Purpose: "newsletter", Version: "current", Text: "x"}, codes.InvalidArgument, "BAD_TERM_VERSION"},
		{"bad version", keyDPO, &lgpdv1.PublishTermRequest{Tenant: "demo", Purpose: "newsletter", Version: "três", Text: "x"}, codes.InvalidArgument, "BAD_TERM_VERSION"},
		{"no text", keyDPO, &lgpdv1.PublishTermRequest{Tenant: "demo", Purpose: "newsletter", Version: "3"}, codes.InvalidArgument, "BAD_TERM_TEXT"},
		{"bad purpose id", keyDPO, &lgpdv1.PublishTermRequest{Tenant: "demo", Purpose: "X", Version: "3", Text: "x"}, codes.InvalidArgument, "BAD_PURPOSE_ID"},
		{"backend", keyBackend, &lgpdv1.PublishTermRequest{Tenant: "demo", Purpose: "newsletter", Version: "3", Text: "x"}, codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
	} {
		t.Run("term/"+tc.name, func(t *testing.T) {
			_, err := call[*lgpdv1.Term](caller(tc.key), f, publishTermMethod, tc.req)
			wantCode(t, err, tc.code, tc.reason)
		})
	}

	list := must[*lgpdv1.ListPurposesResponse](f.auditor, f, listPurposesMethod, &lgpdv1.ListPurposesRequest{Tenant: "demo"})
	if len(list.GetPurposes()) != 1 || list.GetPurposes()[0].GetCurrentTermVersion() != "2" || list.GetPurposes()[0].GetCurrentTermSha256() != sha(text2) {
		t.Errorf("list purposes: %v", list)
	}
	cur := must[*lgpdv1.Term](f.backend, f, getTermMethod, &lgpdv1.GetTermRequest{Tenant: "demo", Purpose: "newsletter", Version: "current"})
	if cur.GetVersion() != "2" || cur.GetText() != text2 || cur.GetValidTo() != nil {
		t.Errorf("current term: %v", cur)
	}
	old := must[*lgpdv1.Term](f.auditor, f, getTermMethod, &lgpdv1.GetTermRequest{Tenant: "demo", Purpose: "newsletter", Version: "1"})
	if old.GetText() != text1 || old.GetValidTo() == nil {
		t.Errorf("v1 after v2 must carry valid_to: %v", old)
	}
	for _, tc := range []struct {
		name   string
		req    *lgpdv1.GetTermRequest
		code   codes.Code
		reason string
	}{
		{"unknown version", &lgpdv1.GetTermRequest{Tenant: "demo", Purpose: "newsletter", Version: "9"}, codes.NotFound, "TERM_NOT_FOUND"},
		{"no current term", &lgpdv1.GetTermRequest{Tenant: "demo", Purpose: "nao_existe", Version: "current"}, codes.NotFound, "TERM_NOT_FOUND"},
		{"bad version", &lgpdv1.GetTermRequest{Tenant: "demo", Purpose: "newsletter", Version: "v 1"}, codes.InvalidArgument, "BAD_TERM_VERSION"},
		{"bad purpose", &lgpdv1.GetTermRequest{Tenant: "demo", Purpose: "", Version: "1"}, codes.InvalidArgument, "BAD_PURPOSE_ID"},
	} {
		t.Run("get/"+tc.name, func(t *testing.T) {
			_, err := call[*lgpdv1.Term](f.dpo, f, getTermMethod, tc.req)
			wantCode(t, err, tc.code, tc.reason)
		})
	}

	// The consent rules the catalog drives.
	subject := &lgpdv1.Subject{Cpf: f.scenario(seed.ScenarioPEP).CPF}
	must[*lgpdv1.Purpose](f.dpo, f, createPurposeMethod, &lgpdv1.CreatePurposeRequest{Tenant: "demo", Purpose: &lgpdv1.Purpose{
		Id: "cadastro_fiscal", Name: "Cadastro fiscal", LegalBasis: "obrigacao_legal"}})
	must[*lgpdv1.Term](f.dpo, f, publishTermMethod, &lgpdv1.PublishTermRequest{Tenant: "demo", Purpose: "cadastro_fiscal", Version: "1", Text: "Aviso fiscal."})
	must[*lgpdv1.Purpose](f.dpo, f, createPurposeMethod, &lgpdv1.CreatePurposeRequest{Tenant: "demo", Purpose: &lgpdv1.Purpose{
		Id: "sem_termo", Name: "Sem termo", LegalBasis: "consentimento", ConsentRequired: true, RefusalConsequences: "Nada muda"}})
	for _, tc := range []struct {
		name   string
		req    *lgpdv1.CreateRequestRequest
		reason string
	}{
		{"grant on another legal basis", consentReq(subject, "cadastro_fiscal", lgpdv1.ConsentAction_GRANT, "1", ""), "CONSENT_NOT_THE_BASIS"},
		{"grant without a published term", consentReq(subject, "sem_termo", lgpdv1.ConsentAction_GRANT, "1", ""), "NO_CURRENT_TERM"},
		{"grant of an old term", consentReq(subject, "newsletter", lgpdv1.ConsentAction_GRANT, "1", ""), "TERM_NOT_CURRENT"},
	} {
		t.Run("rule/"+tc.name, func(t *testing.T) {
			_, err := call[*lgpdv1.Request](f.backend, f, createMethod, tc.req)
			wantCode(t, err, codes.FailedPrecondition, tc.reason)
		})
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_requests"); n != 0 {
		t.Errorf("refused consents left %d requests", n)
	}
	// Revocations and refusals are always recorded.
	for _, r := range []*lgpdv1.CreateRequestRequest{
		consentReq(subject, "cadastro_fiscal", lgpdv1.ConsentAction_REVOKE, "", ""),
		consentReq(subject, "sem_termo", lgpdv1.ConsentAction_REFUSE, "", ""),
		consentReq(subject, "newsletter", lgpdv1.ConsentAction_REVOKE, "1", ""),
	} {
		if got := f.create(f.backend, r); got.GetStatus() != lgpdv1.RequestStatus_COMPLETED || got.GetKind() != lgpdv1.RequestKind_CONSENT {
			t.Errorf("%s %s: %v", r.GetConsent().GetAction(), r.GetConsent().GetPurpose(), got)
		}
	}
}

// TestConsentRequestsAndSearch records grants, refusals and revocations,
// reads a titular's status and history back by identifier (the evidence
// for the DPO only), and pages the titulares granted a purpose.
func TestConsentRequestsAndSearch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Loading the catalog again changes nothing.
	for _, p := range f.loadPurposes() {
		if p.Created || p.PublishedTerm != "" {
			t.Errorf("second load of the catalog: %+v", p)
		}
	}
	lead := f.scenario(seed.ScenarioSameCPF)
	subj := &lgpdv1.Subject{Cpf: lead.CPF, Email: lead.Email}

	grant := f.create(f.backend, consentReq(subj, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", "lead-42-grant"))
	if grant.GetStatus() != lgpdv1.RequestStatus_COMPLETED || grant.GetKind() != lgpdv1.RequestKind_CONSENT || grant.GetSubjectRef() == "" {
		t.Fatalf("GRANT: %v", grant)
	}
	// Recorded in one step: the request is born COMPLETED.
	if got := f.events(grant.GetId()); !slices.Equal(got, []string{">COMPLETED"}) {
		t.Errorf("GRANT events: %v", got)
	}
	if again := f.create(f.backend, consentReq(subj, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", "lead-42-grant")); again.GetId() != grant.GetId() {
		t.Errorf("the same idempotency key recorded a second consent: %s %s", grant.GetId(), again.GetId())
	}
	_, err := call[*lgpdv1.Request](f.backend, f, createMethod, consentReq(&lgpdv1.Subject{Cpf: unknownCPF}, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", "lead-42-grant"))
	wantCode(t, err, codes.AlreadyExists, "IDEMPOTENCY_KEY_REUSED", unknownCPF)

	must[*lgpdv1.Term](f.dpo, f, publishTermMethod, &lgpdv1.PublishTermRequest{Tenant: "demo", Purpose: "marketing_email", Version: "2", Text: "Termo novo."})
	revoke := f.create(f.backend, consentReq(&lgpdv1.Subject{Email: strings.ToUpper(lead.Email)}, "marketing_email", lgpdv1.ConsentAction_REVOKE, "1", ""))
	refuse := f.create(f.backend, consentReq(subj, "partner_sharing", lgpdv1.ConsentAction_REFUSE, "", ""))
	if revoke.GetSubjectRef() != grant.GetSubjectRef() || refuse.GetSubjectRef() != grant.GetSubjectRef() {
		t.Errorf("one titular, several refs: %s %s %s", grant.GetSubjectRef(), revoke.GetSubjectRef(), refuse.GetSubjectRef())
	}
	// A revocation tells the purpose's recipients (Art. 18 §6).
	// Every CONSENT completes at once and says so (request.completed).
	if got := f.outbox(revoke.GetId()); !slices.Equal(got, []string{"consent.revoked", "request.completed"}) {
		t.Errorf("outbox of a revocation: %v", got)
	}
	if got := f.outbox(refuse.GetId()); !slices.Equal(got, []string{"request.completed"}) {
		t.Errorf("outbox of a refusal: %v, want only its completion", got)
	}
	rc := must[*lgpdv1.Receipt](f.backend, f, lgpdv1.RequestService_GetReceipt_FullMethodName, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: revoke.GetId()})
	if leaf := f.verifyReceipt(t, rc); leaf.Kind != "CONSENT" || leaf.To != "COMPLETED" || leaf.RequestID != revoke.GetId() {
		t.Errorf("receipt of a revocation: %+v", leaf)
	}

	search := func(key string, s *lgpdv1.Subject) *lgpdv1.SearchConsentsResponse {
		t.Helper()
		return must[*lgpdv1.SearchConsentsResponse](caller(key), f, searchConsentsMethod, &lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: s})
	}
	got := search(keyBackend, &lgpdv1.Subject{Cpf: brdoc.FormatCPF(lead.CPF)})
	h := got.GetHistory()
	if len(h) != 3 || h[0].GetRequestId() != grant.GetId() || h[1].GetRequestId() != revoke.GetId() || h[2].GetRequestId() != refuse.GetId() {
		t.Fatalf("history, oldest first: %v", h)
	}
	if h[0].GetAction() != lgpdv1.ConsentAction_GRANT || h[0].GetTermVersion() != "1" || len(h[0].GetTermSha256()) != 64 || h[0].GetChannel() != "portal" {
		t.Errorf("grant record: %v", h[0])
	}
	if h[1].GetAction() != lgpdv1.ConsentAction_REVOKE || h[1].GetTermVersion() != "1" || h[1].GetTermSha256() != h[0].GetTermSha256() {
		t.Errorf("a revocation naming v1 records v1's digest: %v", h[1])
	}
	if h[2].GetAction() != lgpdv1.ConsentAction_REFUSE || h[2].GetTermVersion() != "" || h[2].GetTermSha256() != "" {
		t.Errorf("a refusal naming no term records none: %v", h[2])
	}
	cur := got.GetCurrent()
	if len(cur) != 2 || cur[0].GetPurpose() != "marketing_email" || cur[0].GetAction() != lgpdv1.ConsentAction_REVOKE ||
		cur[1].GetPurpose() != "partner_sharing" || cur[1].GetAction() != lgpdv1.ConsentAction_REFUSE {
		t.Errorf("current status per purpose: %v", cur)
	}
	if !slices.Equal(got.GetSubjectRefs(), []string{grant.GetSubjectRef()}) || h[0].GetEvidence() != nil {
		t.Errorf("backend search: refs %v, evidence %v; evidence is for the DPO only", got.GetSubjectRefs(), h[0].GetEvidence())
	}
	dpo := search(keyDPO, &lgpdv1.Subject{Email: lead.Email})
	if e := dpo.GetHistory()[0].GetEvidence(); e.GetIp() != evidenceIP || e.GetUserAgent() != evidenceUA || e.GetCapturedBy() != "portal-web" || e.GetChannel() != "portal" {
		t.Errorf("DPO search evidence: %v", e)
	}
	if none := search(keyDPO, &lgpdv1.Subject{Cpf: unknownCPF}); len(none.GetHistory()) != 0 || len(none.GetSubjectRefs()) != 0 {
		t.Errorf("search of an unknown titular: %v", none)
	}
	// The titular's EXTRACT carries the history as a receipt, in pt-BR.
	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: lead.CPF}})
	f.work()
	body, _, _, err := f.download(f.dpo, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	var doc exportDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range doc.rows(consentReceiptEntity) {
		actions = append(actions, fmt.Sprint(r["action"], "/", r["term_version"]))
	}
	if !slices.Equal(actions, []string{"Consentimento concedido/1", "Consentimento revogado/1", "Consentimento recusado/<nil>"}) {
		t.Errorf("consent receipt in the export: %v", actions)
	}

	// A REVOKE naming a version never published records no term; an
	// IPv4-mapped address is stored as IPv4.
	pep := f.scenario(seed.ScenarioPEP)
	odd := consentReq(&lgpdv1.Subject{Cpf: pep.CPF}, "marketing_whatsapp", lgpdv1.ConsentAction_REVOKE, "9", "")
	odd.Consent.Evidence.Ip = "::ffff:" + evidenceIP
	f.create(f.backend, odd)
	if rec := search(keyDPO, &lgpdv1.Subject{Cpf: pep.CPF}).GetHistory(); len(rec) != 1 || rec[0].GetTermVersion() != "" || rec[0].GetEvidence().GetIp() != evidenceIP {
		t.Errorf("revocation of an unpublished version: %v", rec)
	}
	for _, tc := range []struct {
		name, key string
		subject   *lgpdv1.Subject
		code      codes.Code
		reason    string
	}{
		{"auditor", keyAuditor, &lgpdv1.Subject{Cpf: lead.CPF}, codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"invalid cpf", keyDPO, &lgpdv1.Subject{Cpf: "123.456.789-00"}, codes.InvalidArgument, "INVALID_IDENTIFIER"},
		{"no subject", keyDPO, nil, codes.InvalidArgument, "SUBJECT_REQUIRED"},
	} {
		t.Run("search/"+tc.name, func(t *testing.T) {
			_, err := call[*lgpdv1.SearchConsentsResponse](caller(tc.key), f, searchConsentsMethod, &lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: tc.subject})
			wantCode(t, err, tc.code, tc.reason, lead.CPF, "123.456.789-00")
		})
	}

	// The titulares granted marketing_whatsapp, by reference, in pages.
	want := map[string]bool{}
	for i := range 5 {
		r := f.create(f.backend, consentReq(&lgpdv1.Subject{Cpf: brdoc.CPFFromSeed(uint64(1_000_000 + i))}, "marketing_whatsapp", lgpdv1.ConsentAction_GRANT, "1", ""))
		want[r.GetSubjectRef()] = true
	}
	seen := map[string]bool{}
	token, pages := "", 0
	for {
		page := must[*lgpdv1.ListConsentSubjectsResponse](f.backend, f, consentSubjectsMethod,
			&lgpdv1.ListConsentSubjectsRequest{Tenant: "demo", Purpose: "marketing_whatsapp", PageSize: 2, PageToken: token})
		pages++
		for _, ref := range page.GetSubjectRefs() {
			if seen[ref] || !want[ref] {
				t.Errorf("listed %s twice or without a grant", ref)
			}
			seen[ref] = true
		}
		if token = page.GetNextPageToken(); token == "" || pages > 10 {
			break
		}
	}
	if len(seen) != 5 || pages != 3 {
		t.Errorf("listed %d titulares in %d pages, want 5 in 3", len(seen), pages)
	}
	revoked := must[*lgpdv1.ListConsentSubjectsResponse](f.dpo, f, consentSubjectsMethod,
		&lgpdv1.ListConsentSubjectsRequest{Tenant: "demo", Purpose: "marketing_email", Status: lgpdv1.ConsentAction_REVOKE})
	if !slices.Equal(revoked.GetSubjectRefs(), []string{grant.GetSubjectRef()}) {
		t.Errorf("titulares who revoked marketing_email: %v", revoked.GetSubjectRefs())
	}
	for _, tc := range []struct {
		name, key string
		req       *lgpdv1.ListConsentSubjectsRequest
		code      codes.Code
		reason    string
	}{
		{"bad purpose", keyDPO, &lgpdv1.ListConsentSubjectsRequest{Tenant: "demo", Purpose: "Marketing"}, codes.InvalidArgument, "BAD_PURPOSE_ID"},
		{"bad page size", keyDPO, &lgpdv1.ListConsentSubjectsRequest{Tenant: "demo", Purpose: "marketing_email", PageSize: 1000}, codes.InvalidArgument, "BAD_PAGE_SIZE"},
		{"bad status", keyDPO, &lgpdv1.ListConsentSubjectsRequest{Tenant: "demo", Purpose: "marketing_email", Status: lgpdv1.ConsentAction(42)}, codes.InvalidArgument, "BAD_STATUS"},
		{"bad page token", keyDPO, &lgpdv1.ListConsentSubjectsRequest{Tenant: "demo", Purpose: "marketing_email", PageToken: "???"}, codes.InvalidArgument, "BAD_PAGE_TOKEN"},
		{"auditor", keyAuditor, &lgpdv1.ListConsentSubjectsRequest{Tenant: "demo", Purpose: "marketing_email"}, codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
	} {
		t.Run("subjects/"+tc.name, func(t *testing.T) {
			_, err := call[*lgpdv1.ListConsentSubjectsResponse](caller(tc.key), f, consentSubjectsMethod, tc.req)
			wantCode(t, err, tc.code, tc.reason)
		})
	}
}

// TestConsentBatchConcurrent sends many CONSENTs at once, so they share
// batch transactions: each gets its own outcome — recorded, refused by a
// rule, or, for a repeated idempotency key, the first one's request — and
// a caller that gave up before its batch ran records nothing.
func TestConsentBatchConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 60
	type outcome struct {
		req *lgpdv1.Request
		err error
	}
	results := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var r *lgpdv1.CreateRequestRequest
			subject := &lgpdv1.Subject{Email: fmt.Sprintf("titular-%d@example.com", i)}
			switch {
			case i%10 == 0: // refused: not the term in force
				r = consentReq(subject, "marketing_email", lgpdv1.ConsentAction_GRANT, "0", "")
			case i%10 == 1: // the same key and request as i-1's neighbour below
				r = consentReq(&lgpdv1.Subject{Email: "repetido@example.com"}, "marketing_email", lgpdv1.ConsentAction_REVOKE, "", "same-key")
			default:
				r = consentReq(subject, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", fmt.Sprintf("k-%d", i))
			}
			out, err := call[*lgpdv1.Request](f.backend, f, createMethod, r)
			results[i] = outcome{out, err}
		})
	}
	wg.Wait()
	var sameKey string
	for i, r := range results {
		switch {
		case i%10 == 0:
			wantCode(t, r.err, codes.FailedPrecondition, "TERM_NOT_CURRENT")
		case r.err != nil:
			t.Errorf("consent %d: %v", i, r.err)
		case r.req.GetStatus() != lgpdv1.RequestStatus_COMPLETED:
			t.Errorf("consent %d: %v", i, r.req)
		case i%10 == 1 && sameKey == "":
			sameKey = r.req.GetId()
		case i%10 == 1 && r.req.GetId() != sameKey:
			t.Errorf("the repeated key recorded %s and %s", sameKey, r.req.GetId())
		}
	}
	// 6 refused, 6 sharing one key, 48 others.
	if got := f.count("SELECT COUNT(*) FROM lgpd_requests WHERE kind = 'CONSENT'"); got != 49 {
		t.Errorf("%d CONSENT requests recorded, want 49", got)
	}
	if got := f.count("SELECT COUNT(*) FROM lgpd_consents"); got != 49 {
		t.Errorf("%d consent records, want 49", got)
	}
	if got := f.count("SELECT COUNT(DISTINCT subject_ref) FROM lgpd_requests WHERE kind = 'CONSENT'"); got != 49 {
		t.Errorf("%d subject refs, want one per titular (49)", got)
	}

	// A caller that gave up is told so, and nothing is recorded for it.
	ctx, cancel := context.WithCancel(f.backend)
	cancel()
	_, err := call[*lgpdv1.Request](ctx, f, createMethod, consentReq(&lgpdv1.Subject{Email: "desistiu@example.com"}, "marketing_email", lgpdv1.ConsentAction_REVOKE, "", ""))
	wantCode(t, err, codes.Canceled, "")
	if got := f.count("SELECT COUNT(*) FROM lgpd_requests WHERE kind = 'CONSENT'"); got != 49 {
		t.Errorf("a cancelled call recorded a consent: %d requests", got)
	}
}

// TestLoadPurposes: the purposes file loads the catalog once: purposes are
// created and their terms published; loading again changes nothing; a new
// version is published; a version republished with another text, or an
// invalid entry, is an error naming the entry, after the entries before it.
func TestLoadPurposes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withoutPurposes())
	loaded := f.loadPurposes()
	if len(loaded) < 4 || loaded[0].ID != "marketing_email" {
		t.Fatalf("loaded %+v", loaded)
	}
	for _, p := range loaded {
		if !p.Created || p.PublishedTerm != "1" {
			t.Errorf("first load of %s: %+v", p.ID, p)
		}
	}
	list := must[*lgpdv1.ListPurposesResponse](f.dpo, f, listPurposesMethod, &lgpdv1.ListPurposesRequest{Tenant: "demo"})
	if len(list.GetPurposes()) != len(loaded) {
		t.Errorf("%d purposes listed, %d loaded", len(list.GetPurposes()), len(loaded))
	}
	for _, p := range list.GetPurposes() {
		if p.GetCurrentTermVersion() != "1" {
			t.Errorf("purpose %s has term %q in force", p.GetId(), p.GetCurrentTermVersion())
		}
	}

	load := func(c PurposeCatalog) ([]LoadedPurpose, error) {
		return LoadPurposes(context.Background(), f.tenant(), c, "svc-test")
	}
	email := CatalogPurpose{ID: "marketing_email", Name: "Ofertas por e-mail", LegalBasis: "consentimento", ConsentRequired: true,
		RefusalConsequences: "Sem ofertas", Term: CatalogTerm{Version: "1", Text: "Outro texto."}}
	_, err := load(PurposeCatalog{Purposes: []CatalogPurpose{email}})
	if err == nil || !strings.Contains(err.Error(), "purposes[0] (marketing_email)") || !strings.Contains(err.Error(), "another text") {
		t.Errorf("republishing version 1 with another text: %v", err)
	}
	email.Term = CatalogTerm{Version: "2", Text: "  Texto novo.\n\n"}
	got, err := load(PurposeCatalog{Purposes: []CatalogPurpose{email}})
	if err != nil || len(got) != 1 || got[0].Created || got[0].PublishedTerm != "2" {
		t.Fatalf("a new version: %+v, %v", got, err)
	}
	cur := must[*lgpdv1.Term](f.dpo, f, getTermMethod, &lgpdv1.GetTermRequest{Tenant: "demo", Purpose: "marketing_email", Version: "current"})
	if cur.GetVersion() != "2" || cur.GetText() != "Texto novo.\n" {
		t.Errorf("term in force after loading version 2: %v", cur)
	}

	fresh := CatalogPurpose{ID: "pesquisa_nova", Name: "Pesquisa", LegalBasis: "legitimo_interesse", Term: CatalogTerm{Version: "1", Text: "Aviso."}}
	for _, tc := range []struct {
		name string
		bad  CatalogPurpose
		want string
	}{
		{"unknown legal basis", CatalogPurpose{ID: "ruim", Name: "Ruim", LegalBasis: "vontade", Term: CatalogTerm{Version: "1", Text: "x"}}, "legal_basis"},
		{"no term version", CatalogPurpose{ID: "ruim", Name: "Ruim", LegalBasis: "legitimo_interesse", Term: CatalogTerm{Text: "x"}}, "term needs a version"},
		{"term version current", CatalogPurpose{ID: "ruim", Name: "Ruim", LegalBasis: "legitimo_interesse", Term: CatalogTerm{Version: "current", Text: "x"}}, "term needs a version"},
		{"no term text", CatalogPurpose{ID: "ruim", Name: "Ruim", LegalBasis: "legitimo_interesse", Term: CatalogTerm{Version: "1", Text: "  "}}, "term needs a version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := load(PurposeCatalog{Purposes: []CatalogPurpose{fresh, tc.bad}})
			if err == nil || !strings.Contains(err.Error(), "purposes[1] (ruim)") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v: want it to name purposes[1] and say %q", err, tc.want)
			}
			if len(got) != 1 || got[0].ID != "pesquisa_nova" {
				t.Errorf("entries loaded before the bad one: %+v", got)
			}
		})
	}
	if _, err := call[*lgpdv1.Term](f.dpo, f, getTermMethod, &lgpdv1.GetTermRequest{Tenant: "demo", Purpose: "ruim", Version: "current"}); status.Code(err) != codes.NotFound {
		t.Errorf("an invalid entry was loaded: %v", err)
	}
}
