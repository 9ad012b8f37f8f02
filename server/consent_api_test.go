package server

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
)

// Evidence the tests send; neither may ever reach the logs.
const (
	evidenceIP = "203.0.113.77"
	evidenceUA = "TitularTestAgent/9.9 (evidencia)"
)

// loadDemoPurposes runs `titular purposes load` with the example file, as
// scripts/run-demo.sh does.
func loadDemoPurposes(t testing.TB, env *testEnv) {
	t.Helper()
	var out strings.Builder
	err := runCLI(t, &out, "purposes", "load", "--config", filepath.Join(env.cfg.Dir, "titular.yaml"),
		"--tenant", "demo", "--file", "../examples/realestate/purposes.yaml", "--log-format", "text")
	if err != nil {
		t.Fatalf("purposes load: %v", err)
	}
	if !strings.Contains(out.String(), "purpose marketing_email ") {
		t.Fatalf("purposes load printed %q, want a line per purpose", out.String())
	}
}

func consentBody(subject map[string]any, purpose, action, version, key string) map[string]any {
	b := map[string]any{"kind": "CONSENT", "subject": subject, "consent": map[string]any{
		"purpose": purpose, "action": action, "term_version": version,
		"evidence": map[string]any{"channel": "portal", "ip": evidenceIP, "user_agent": evidenceUA, "captured_by": "portal-web"},
	}}
	if key != "" {
		b["idempotency_key"] = key
	}
	return b
}

type restPurpose struct {
	ID                 string `json:"id"`
	CurrentTermVersion string `json:"current_term_version"`
	CurrentTermSHA256  string `json:"current_term_sha256"`
}

type restConsent struct {
	Purpose     string `json:"purpose"`
	Action      string `json:"action"`
	TermVersion string `json:"term_version"`
	TermSHA256  string `json:"term_sha256"`
	Channel     string `json:"channel"`
	RequestID   string `json:"request_id"`
	Evidence    *struct {
		IP        string `json:"ip"`
		UserAgent string `json:"user_agent"`
	} `json:"evidence"`
}

type restSearch struct {
	Current     []restConsent `json:"current"`
	History     []restConsent `json:"history"`
	SubjectRefs []string      `json:"subject_refs"`
}

// TestConsentCatalogREST covers the DPO's catalog: purposes, versioned
// terms with server-computed digests, and the errors that protect them.
func TestConsentCatalogREST(t *testing.T) {
	env := newTestEnv(t, 20)
	purpose := map[string]any{"id": "newsletter", "name": "Boletim mensal", "legal_basis": "consentimento",
		"consent_required": true, "refusal_consequences": "Sem boletim", "shared_with": []string{}}
	if code, _, b := env.rest(t, "POST", "/v1/tenants/demo/purposes", keyBackend, purpose); code != http.StatusForbidden {
		t.Errorf("backend created a purpose: HTTP %d %s", code, b)
	}
	if code, _, b := env.rest(t, "POST", "/v1/tenants/demo/purposes", keyDPO, purpose); code != http.StatusOK {
		t.Fatalf("create purpose: HTTP %d %s", code, b)
	}
	code, _, b := env.rest(t, "POST", "/v1/tenants/demo/purposes", keyDPO, purpose)
	if code != http.StatusConflict || decode[restError](t, b).reason() != "PURPOSE_EXISTS" {
		t.Errorf("duplicate purpose: HTTP %d %s", code, b)
	}
	bad := map[string]any{"id": "sem_consequencias", "name": "X", "legal_basis": "consentimento", "consent_required": true}
	code, _, b = env.rest(t, "POST", "/v1/tenants/demo/purposes", keyDPO, bad)
	if code != http.StatusBadRequest || decode[restError](t, b).reason() != "REFUSAL_CONSEQUENCES_REQUIRED" {
		t.Errorf("consent purpose without refusal consequences (art. 18 VIII): HTTP %d %s", code, b)
	}

	text1, text2 := "Aceito receber o boletim mensal.", "Aceito receber o boletim mensal e convites."
	code, _, b = env.rest(t, "POST", "/v1/tenants/demo/purposes/newsletter/terms", keyDPO, map[string]any{"version": "1", "text": text1})
	if code != http.StatusOK {
		t.Fatalf("publish v1: HTTP %d %s", code, b)
	}
	if got := decode[struct {
		TextSHA256 string `json:"text_sha256"`
	}](t, b); got.TextSHA256 != sha(text1) {
		t.Errorf("term digest %s, want the server-computed SHA-256 of the text", got.TextSHA256)
	}
	env.rest(t, "POST", "/v1/tenants/demo/purposes/newsletter/terms", keyDPO, map[string]any{"version": "2", "text": text2})
	code, _, b = env.rest(t, "POST", "/v1/tenants/demo/purposes/newsletter/terms", keyDPO, map[string]any{"version": "1", "text": "outro"})
	if code != http.StatusConflict || decode[restError](t, b).reason() != "TERM_VERSION_EXISTS" {
		t.Errorf("republishing v1: HTTP %d %s", code, b)
	}
	code, _, b = env.rest(t, "GET", "/v1/tenants/demo/purposes", keyAuditor, nil)
	list := decode[struct {
		Purposes []restPurpose `json:"purposes"`
	}](t, b)
	if code != http.StatusOK || len(list.Purposes) != 1 || list.Purposes[0].CurrentTermVersion != "2" || list.Purposes[0].CurrentTermSHA256 != sha(text2) {
		t.Errorf("list purposes: HTTP %d %+v", code, list)
	}
	code, _, b = env.rest(t, "GET", "/v1/tenants/demo/purposes/newsletter/terms/current", keyBackend, nil)
	cur := decode[struct {
		Version string `json:"version"`
		Text    string `json:"text"`
		ValidTo any    `json:"valid_to"`
	}](t, b)
	if code != http.StatusOK || cur.Version != "2" || cur.Text != text2 || cur.ValidTo != nil {
		t.Errorf("current term: HTTP %d %+v", code, cur)
	}
	code, _, b = env.rest(t, "GET", "/v1/tenants/demo/purposes/newsletter/terms/1", keyBackend, nil)
	if old := decode[struct {
		ValidTo string `json:"valid_to"`
	}](t, b); code != http.StatusOK || old.ValidTo == "" {
		t.Errorf("v1 after v2 must carry valid_to: HTTP %d %s", code, b)
	}

	// A purpose resting on another legal basis takes no GRANT (a consent
	// there would mislead the titular); a revocation is still recorded.
	legal := map[string]any{"id": "cadastro_fiscal", "name": "Cadastro fiscal", "legal_basis": "obrigacao_legal",
		"consent_required": false, "shared_with": []string{}}
	if code, _, b := env.rest(t, "POST", "/v1/tenants/demo/purposes", keyDPO, legal); code != http.StatusOK {
		t.Fatalf("create a non-consent purpose: HTTP %d %s", code, b)
	}
	env.rest(t, "POST", "/v1/tenants/demo/purposes/cadastro_fiscal/terms", keyDPO, map[string]any{"version": "1", "text": "Aviso fiscal."})
	subject := map[string]any{"cpf": env.scenario(t, "pep").CPF}
	code, _, b = env.rest(t, "POST", "/v1/tenants/demo/requests", keyBackend, consentBody(subject, "cadastro_fiscal", "GRANT", "1", ""))
	if code != http.StatusBadRequest || decode[restError](t, b).reason() != "CONSENT_NOT_THE_BASIS" {
		t.Errorf("GRANT for a purpose not resting on consent: HTTP %d %s", code, b)
	}
	if code, _, b := env.rest(t, "POST", "/v1/tenants/demo/requests", keyBackend, consentBody(subject, "cadastro_fiscal", "REVOKE", "", "")); code != http.StatusOK {
		t.Errorf("REVOKE must always be accepted: HTTP %d %s", code, b)
	}
}

// TestConsentRequestsREST records grants, refusals and revocations through
// REST, with the FAILED_PRECONDITION rule for outdated terms, and reads the
// titular's status and history back by identifier.
func TestConsentRequestsREST(t *testing.T) {
	env := newTestEnv(t, 50)
	loadDemoPurposes(t, env)
	loadDemoPurposes(t, env) // idempotent: the demo script runs it on every start
	lead := env.scenario(t, "mesmo_cpf_varias_tabelas")
	subj := map[string]any{"cpf": lead.CPF, "email": lead.Email}

	grant := env.createREST(t, keyBackend, consentBody(subj, "marketing_email", "GRANT", "1", "lead-42-grant"))
	if grant.Status != "COMPLETED" || grant.Kind != "CONSENT" || grant.SubjectRef == "" {
		t.Fatalf("GRANT: %+v", grant)
	}
	if again := env.createREST(t, keyBackend, consentBody(subj, "marketing_email", "GRANT", "1", "lead-42-grant")); again.ID != grant.ID {
		t.Errorf("the same idempotency key recorded a second consent: %s %s", grant.ID, again.ID)
	}
	countConsents := func() int {
		_, _, b := env.rest(t, "GET", "/v1/tenants/demo/requests?kind=CONSENT&page_size=500", keyDPO, nil)
		return len(decode[struct {
			Requests []restRequest `json:"requests"`
		}](t, b).Requests)
	}
	before := countConsents()
	code, _, b := env.rest(t, "POST", "/v1/tenants/demo/requests", keyBackend, consentBody(subj, "marketing_email", "GRANT", "0", ""))
	if code != http.StatusBadRequest || decode[restError](t, b).reason() != "TERM_NOT_CURRENT" {
		t.Errorf("GRANT against a term not in force: HTTP %d %s; want FAILED_PRECONDITION (400) TERM_NOT_CURRENT", code, b)
	}
	if after := countConsents(); after != before {
		t.Errorf("a refused GRANT left a request behind: %d -> %d", before, after)
	}

	// A new term: grants must name it, revocations are still accepted.
	env.rest(t, "POST", "/v1/tenants/demo/purposes/marketing_email/terms", keyDPO, map[string]any{"version": "2", "text": "Termo novo."})
	code, _, b = env.rest(t, "POST", "/v1/tenants/demo/requests", keyBackend, consentBody(subj, "marketing_email", "GRANT", "1", ""))
	if code != http.StatusBadRequest || decode[restError](t, b).reason() != "TERM_NOT_CURRENT" {
		t.Errorf("GRANT of v1 after v2: HTTP %d %s", code, b)
	}
	revoke := env.createREST(t, keyBackend, consentBody(map[string]any{"email": strings.ToUpper(lead.Email)}, "marketing_email", "REVOKE", "1", ""))
	refuse := env.createREST(t, keyBackend, consentBody(subj, "partner_sharing", "REFUSE", "", ""))
	if revoke.Status != "COMPLETED" || refuse.Status != "COMPLETED" || revoke.SubjectRef != grant.SubjectRef {
		t.Fatalf("REVOKE %+v REFUSE %+v", revoke, refuse)
	}

	code, _, b = env.rest(t, "POST", "/v1/tenants/demo/consents:search", keyBackend, map[string]any{"subject": map[string]any{"cpf": lead.CPF}})
	if code != http.StatusOK {
		t.Fatalf("search: HTTP %d %s", code, b)
	}
	got := decode[restSearch](t, b)
	if len(got.History) != 3 || got.History[0].RequestID != grant.ID || got.History[1].RequestID != revoke.ID || got.History[2].RequestID != refuse.ID {
		t.Fatalf("history, oldest first: %+v", got.History)
	}
	_, _, tb := env.rest(t, "GET", "/v1/tenants/demo/purposes/marketing_email/terms/1", keyDPO, nil)
	v1 := decode[struct {
		TextSHA256 string `json:"text_sha256"`
	}](t, tb).TextSHA256
	if h := got.History[0]; h.Action != "GRANT" || h.TermVersion != "1" || h.TermSHA256 != v1 || h.Channel != "portal" {
		t.Errorf("grant record: %+v; want term 1 with its digest", h)
	}
	if h := got.History[1]; h.Action != "REVOKE" || h.TermVersion != "1" || h.TermSHA256 != v1 {
		t.Errorf("revocation naming v1: %+v", h)
	}
	if h := got.History[2]; h.Action != "REFUSE" || h.TermVersion != "" || h.TermSHA256 != "" {
		t.Errorf("refusal naming no term: %+v", h)
	}
	if len(got.Current) != 2 || got.Current[0].Purpose != "marketing_email" || got.Current[0].Action != "REVOKE" ||
		got.Current[1].Purpose != "partner_sharing" || got.Current[1].Action != "REFUSE" {
		t.Errorf("current status per purpose: %+v", got.Current)
	}
	if !slices.Equal(got.SubjectRefs, []string{grant.SubjectRef}) || got.History[0].Evidence != nil {
		t.Errorf("backend search: refs %v, evidence %+v; evidence is for the DPO only", got.SubjectRefs, got.History[0].Evidence)
	}
	_, _, b = env.rest(t, "POST", "/v1/tenants/demo/consents:search", keyDPO, map[string]any{"subject": map[string]any{"email": lead.Email}})
	dpo := decode[restSearch](t, b)
	if len(dpo.History) != 3 || dpo.History[0].Evidence == nil || dpo.History[0].Evidence.IP != evidenceIP || dpo.History[0].Evidence.UserAgent != evidenceUA {
		t.Errorf("DPO search by e-mail: %+v", dpo.History)
	}
	for _, s := range []string{evidenceIP, evidenceUA} {
		if strings.Contains(env.logs.String(), s) {
			t.Errorf("consent evidence %q reached the logs", s)
		}
	}
}

// TestConsentGRPCSubjectsAndExtract records consents over gRPC, pages the
// titulares granted a purpose, and finds the consent receipt in EXTRACT.
func TestConsentGRPCSubjectsAndExtract(t *testing.T) {
	env := newTestEnv(t, 60)
	loadDemoPurposes(t, env)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyBackend)
	reqs := lgpdv1.NewRequestServiceClient(env.grpc)
	cons := lgpdv1.NewConsentServiceClient(env.grpc)
	record := func(s *lgpdv1.Subject, purpose string, action lgpdv1.ConsentAction, version string) *lgpdv1.Request {
		t.Helper()
		r, err := reqs.CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONSENT, Subject: s,
			Consent: &lgpdv1.ConsentChange{Purpose: purpose, Action: action, TermVersion: version,
				Evidence: &lgpdv1.ConsentEvidence{Channel: "whatsapp", Ip: evidenceIP, UserAgent: evidenceUA}}})
		if err != nil {
			t.Fatalf("CONSENT %s %s: %v", action, purpose, err)
		}
		if r.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
			t.Fatalf("CONSENT did not complete in the call: %v", r)
		}
		return r
	}
	var granted []string
	names := []string{"lead_somente_consentimento", "lead_com_pessoa_sem_venda", "comprador_2023", "pep", "distrato"}
	for i, name := range names {
		sc := env.scenario(t, name)
		r := record(&lgpdv1.Subject{Cpf: sc.CPF}, "marketing_whatsapp", lgpdv1.ConsentAction_GRANT, "1")
		if i == 0 {
			record(&lgpdv1.Subject{Cpf: sc.CPF}, "marketing_whatsapp", lgpdv1.ConsentAction_REVOKE, "")
			continue
		}
		granted = append(granted, r.GetSubjectRef())
	}
	slices.Sort(granted)
	var listed []string
	token := ""
	for {
		page, err := cons.ListConsentSubjects(ctx, &lgpdv1.ListConsentSubjectsRequest{Tenant: "demo", Purpose: "marketing_whatsapp", PageSize: 3, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, page.GetSubjectRefs()...)
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	if !slices.Equal(listed, granted) {
		t.Errorf("titulares with GRANT: %v, want %v (sorted, the revoked one left out)", listed, granted)
	}
	_, err := reqs.CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONSENT,
		Subject: &lgpdv1.Subject{Cpf: env.scenario(t, "pep").CPF},
		Consent: &lgpdv1.ConsentChange{Purpose: "marketing_whatsapp", Action: lgpdv1.ConsentAction_GRANT, TermVersion: "9", Evidence: &lgpdv1.ConsentEvidence{Channel: "crm"}}})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("gRPC GRANT against an unknown version: %v, want FAILED_PRECONDITION", err)
	}
	buyer := env.scenario(t, "comprador_2023")
	found, err := cons.SearchConsents(ctx, &lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	if err != nil || len(found.GetCurrent()) != 1 || found.GetCurrent()[0].GetAction() != lgpdv1.ConsentAction_GRANT {
		t.Fatalf("gRPC search: %v %v", found, err)
	}

	// EXTRACT carries the receipt: what, when, under which term digest.
	// The DPO asks: the receipt carries the consent evidence too (the
	// backend's export would not, unless the tenant allows it).
	x := env.createREST(t, keyDPO, map[string]any{"kind": "EXTRACT", "subject": map[string]any{"cpf": buyer.CPF}})
	done := env.waitREST(t, x.ID)
	doc := decodeExport(t, mustDownloadJSON(t, env, done.ID))
	rows := doc.rowsOf(t, "consentimentos_titular")
	want := found.GetCurrent()[0]
	if len(rows) != 1 || rows[0]["purpose"] != "marketing_whatsapp" || rows[0]["term_sha256"] != want.GetTermSha256() ||
		rows[0]["action"] != "Consentimento concedido" || rows[0]["request_id"] != want.GetRequestId() || rows[0]["ip"] != evidenceIP {
		t.Errorf("consent receipt in the export: %v, want the grant of %v", rows, want)
	}
	xlsx, _ := env.download(t, done, "xlsx")
	checkXLSX(t, xlsx, doc)
}

// TestConsentEvidenceKeptAsProofThenSwept: a complete DELETE unlinks the
// titular's consent records, which stay as the controller's proof; the demo
// map keeps their evidence (IP, user agent) for 5 years from the consent,
// says so in the result, and the sweep clears it once that time is up.
func TestConsentEvidenceKeptAsProofThenSwept(t *testing.T) {
	env := newTestEnv(t, 40)
	loadDemoPurposes(t, env)
	lead := env.scenario(t, "lead_somente_consentimento")
	grant := env.createREST(t, keyBackend, consentBody(map[string]any{"cpf": lead.CPF}, "marketing_email", "GRANT", "1", ""))
	del := env.createREST(t, keyDPO, map[string]any{"kind": "DELETE", "subject": map[string]any{"cpf": lead.CPF}})
	done := env.waitREST(t, del.ID)
	if done.Status != "COMPLETED" || len(done.Reasons) != 1 {
		t.Fatalf("DELETE of a consent-only lead: %+v", done)
	}
	db := env.demoDB(t)
	var at time.Time
	if err := db.QueryRow("SELECT at FROM lgpd_consents WHERE request_id = ?", grant.ID).Scan(&at); err != nil {
		t.Fatal(err)
	}
	r := done.Reasons[0]
	until, err := time.Parse(time.RFC3339Nano, r.Until)
	if r.Code != "CONSENT_EVIDENCE_KEPT" || !strings.Contains(r.LegalReference, "CDC art. 27") ||
		err != nil || !until.Equal(at.AddDate(5, 0, 0)) || !strings.Contains(r.Message, "1 registro") {
		t.Errorf("reason %+v; want CONSENT_EVIDENCE_KEPT until %s (the grant + 5 years) with the map's reference", r, at.AddDate(5, 0, 0))
	}
	evidence := func() (action string, sum, ip, ua, by *string) {
		t.Helper()
		err := db.QueryRow(`SELECT action, term_sha256, evidence_ip, evidence_user_agent, evidence_captured_by
 FROM lgpd_consents WHERE request_id = ?`, grant.ID).Scan(&action, &sum, &ip, &ua, &by)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if action, sum, ip, ua, _ := evidence(); action != "GRANT" || sum == nil || ip == nil || *ip != evidenceIP || ua == nil {
		t.Errorf("after DELETE: action %s, digest %v, evidence %v %v; want the record and its evidence kept as proof", action, sum, ip, ua)
	}
	code, _, b := env.rest(t, "POST", "/v1/tenants/demo/consents:search", keyDPO, map[string]any{"subject": map[string]any{"cpf": lead.CPF}})
	if got := decode[restSearch](t, b); code != http.StatusOK || len(got.History) != 0 || len(got.SubjectRefs) != 0 {
		t.Errorf("the deleted titular's identifiers still lead to consent records: HTTP %d %+v", code, got)
	}

	sweep := func() string {
		t.Helper()
		var out strings.Builder
		if err := runCLI(t, &out, "sweep", "--config", filepath.Join(env.cfg.Dir, "titular.yaml"), "--tenant", "demo", "--log-format", "text"); err != nil {
			t.Fatalf("sweep: %v", err)
		}
		return out.String()
	}
	if out := sweep(); strings.Contains(out, "consent evidence kept as proof") {
		t.Errorf("sweep before the 5 years: %q; the evidence must stay", out)
	}
	// Five years on: the release date passes (moved, since the server's clock cannot be).
	if _, err := db.Exec("UPDATE lgpd_consents SET evidence_release_at = ? WHERE request_id = ?", time.Now().UTC().Add(-time.Minute), grant.ID); err != nil {
		t.Fatal(err)
	}
	if out := sweep(); !strings.Contains(out, "consent evidence kept as proof: cleared on 1 record(s)") {
		t.Errorf("sweep after the 5 years printed %q", out)
	}
	if action, sum, ip, ua, by := evidence(); ip != nil || ua != nil || by != nil || action != "GRANT" || sum == nil {
		t.Errorf("after the sweep: action %s, digest %v, evidence %v %v %v; want the record kept and its evidence cleared", action, sum, ip, ua, by)
	}
}
