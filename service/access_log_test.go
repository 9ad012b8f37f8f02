package service

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/config"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/tenant"
)

const listAccessLogMethod = lgpdv1.RequestService_ListAccessLog_FullMethodName

// withReason is the context of a call presenting key, with an access
// reason and a request id.
func withReason(key, reason, callID string) context.Context {
	return metadata.NewIncomingContext(context.Background(), metadata.Pairs(
		"authorization", "Bearer "+key, AccessReasonHeader, reason, "x-request-id", callID))
}

// requireAccessReason makes the fixture's services serve the demo tenant
// with access_reason_required on: another registry over the same database
// and state directory (so the same keys), as a configuration reload would.
func requireAccessReason(t *testing.T, f *fixture) {
	t.Helper()
	yaml := strings.Replace(f.cfgYAML, "max_open_conns: 8", "max_open_conns: 8, policy: {access_reason_required: true}", 1)
	cfg, err := config.Parse(filepath.Join(f.dir, "titular.yaml"), []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if !cfg.Tenants[0].Policy.AccessReasonRequired {
		t.Fatal("the policy did not reach the demo tenant")
	}
	reg := tenant.NewRegistry(cfg, keyring.New(cfg.StateDir, f.log), f.log)
	t.Cleanup(func() { reg.Close() })
	skey, vkey, err := ledger.GenerateKey("titular.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := ledger.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	old, err := ledger.NewVerifier(f.verifier)
	if err != nil {
		t.Fatal(err)
	}
	f.reg = reg
	f.ledger = NewLedger(reg, signer, verifier, []note.Verifier{old}, cfg.Ledger.Host, f.log)
	f.reqs = NewRequests(reg, f.log, func(string) {}).WithLedger(f.ledger)
	f.consent = NewConsent(reg)
}

// completedExtract records a consent (for evidence) and an EXTRACT of
// scenario s and runs the worker, returning the completed request.
func completedExtract(t *testing.T, f *fixture, s seed.Scenario) *lgpdv1.Request {
	t.Helper()
	f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONSENT, Subject: &lgpdv1.Subject{Cpf: s.CPF},
		Consent: &lgpdv1.ConsentChange{Purpose: "marketing_email", Action: lgpdv1.ConsentAction_GRANT, TermVersion: "1",
			Evidence: &lgpdv1.ConsentEvidence{Channel: "portal", Ip: evidenceIP, UserAgent: evidenceUA}}})
	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
	if n := f.work(); n != 1 {
		t.Fatalf("worker took %d requests, want 1", n)
	}
	x = f.get(x.GetId())
	if x.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		t.Fatalf("EXTRACT: %v", x)
	}
	return x
}

// streamDownload runs DownloadExport through the interceptors like
// f.download, but returns the stream whatever happened, to see what was
// sent before an error.
func (f *fixture) streamDownload(ctx context.Context, req *lgpdv1.DownloadExportRequest) (*fakeStream, error) {
	ss := &fakeStream{ctx: ctx, in: req}
	info := &grpc.StreamServerInfo{FullMethod: lgpdv1.RequestService_DownloadExport_FullMethodName, IsServerStream: true}
	h := lgpdv1.RequestService_ServiceDesc.Streams[0].Handler
	errs := ErrorStream(f.log)                                                          //nolint:contextcheck // the call's context travels in the stream, as in a server
	err := f.auth.Stream()(f.reqs, ss, info, func(srv any, s grpc.ServerStream) error { //nolint:contextcheck // the call's context travels in the stream, as in a server
		return errs(srv, s, info, h)
	})
	if err != nil {
		err = status.Convert(err).Err()
	}
	return ss, err
}

// accessRows returns every column of every access log row, as text.
func accessRows(t *testing.T, f *fixture) []string {
	t.Helper()
	rows, err := f.db.Query(`SELECT CONCAT_WS('|', id, at, actor, role, action, COALESCE(request_id, ''), COALESCE(subject_ref, ''), reason, call_request_id) FROM lgpd_access_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Downloads, receipts, ledger entries and consent evidence are recorded
// with who read them and why; ListAccessLog pages through them for the
// DPO and auditors; the log holds no identifier.
func TestAccessLog_RecordsReads(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	buyer := f.scenario(seed.ScenarioBuyer2023)
	x := completedExtract(t, f, buyer)

	body, _, _, err := f.download(withReason(keyBackend, "chamado 4711", "call-download"), &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"})
	if err != nil || len(body) == 0 {
		t.Fatalf("download: %d bytes, %v", len(body), err)
	}
	// UTF-8 travels percent-encoded, as headers carry ASCII.
	must[*lgpdv1.Receipt](withReason(keyAuditor, "auditoria anual %E2%80%94 ANPD", "call-receipt"), f,
		lgpdv1.RequestService_GetReceipt_FullMethodName, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: x.GetId()})
	// Without the policy a reason is optional.
	must[*lgpdv1.ListEntriesResponse](f.dpo, f, lgpdv1.LedgerService_ListEntries_FullMethodName, &lgpdv1.ListEntriesRequest{Tenant: "demo"})
	must[*lgpdv1.Checkpoint](f.dpo, f, lgpdv1.LedgerService_GetCheckpoint_FullMethodName, &lgpdv1.GetCheckpointRequest{Tenant: "demo"})
	// The backend sees no evidence: nothing to record. The DPO does.
	must[*lgpdv1.SearchConsentsResponse](f.backend, f, searchConsentsMethod, &lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	ev := must[*lgpdv1.SearchConsentsResponse](withReason(keyDPO, "contestação de consentimento", "call-search"), f, searchConsentsMethod,
		&lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	if len(ev.GetHistory()) == 0 || ev.GetHistory()[0].GetEvidence() == nil || len(ev.GetSubjectRefs()) != 1 {
		t.Fatalf("the DPO's search: %v", ev)
	}

	// A reason holding a CPF (or an e-mail) is refused, and the read with it.
	before := len(accessRows(t, f))
	for _, bad := range []string{"titular " + brdoc.FormatCPF(buyer.CPF), "pedido de " + buyer.Email, "100% certo"} {
		_, err := f.streamDownload(withReason(keyDPO, bad, "call-bad"), &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"})
		if bad == "100% certo" {
			wantCode(t, err, codes.InvalidArgument, "BAD_ACCESS_REASON")
			continue
		}
		wantCode(t, err, codes.InvalidArgument, "PERSONAL_DATA_IN_REASON", buyer.CPF, brdoc.FormatCPF(buyer.CPF), buyer.Email)
		_, err = call[*lgpdv1.Receipt](withReason(keyDPO, bad, "call-bad"), f, lgpdv1.RequestService_GetReceipt_FullMethodName, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: x.GetId()})
		wantCode(t, err, codes.InvalidArgument, "PERSONAL_DATA_IN_REASON", buyer.CPF, brdoc.FormatCPF(buyer.CPF), buyer.Email)
	}
	if after := len(accessRows(t, f)); after != before {
		t.Errorf("refused reads were recorded: %d rows, then %d", before, after)
	}

	list := func(ctx context.Context, in *lgpdv1.ListAccessLogRequest) *lgpdv1.ListAccessLogResponse {
		t.Helper()
		in.Tenant = "demo"
		return must[*lgpdv1.ListAccessLogResponse](ctx, f, listAccessLogMethod, in)
	}
	var all []*lgpdv1.AccessLogEntry
	tok := ""
	for pages := 0; ; pages++ {
		got := list(f.auditor, &lgpdv1.ListAccessLogRequest{PageSize: 3, PageToken: tok})
		if len(got.GetEntries()) > 3 || pages > 3 {
			t.Fatalf("page %d: %v", pages, got)
		}
		all = append(all, got.GetEntries()...)
		if tok = got.GetNextPageToken(); tok == "" {
			break
		}
	}
	var actions []string
	for _, e := range all {
		actions = append(actions, e.GetAction())
	}
	if want := "consent_evidence.read ledger.read receipt.read export.download"; strings.Join(actions, " ") != want {
		t.Fatalf("access log, newest first: %v; want %s", actions, want)
	}
	ce, led, rc, dl := all[0], all[1], all[2], all[3]
	for _, c := range []struct {
		e                                          *lgpdv1.AccessLogEntry
		actor, role, req, ref, reason, callRequest string
	}{
		{dl, "backend", "backend", x.GetId(), x.GetSubjectRef(), "chamado 4711", "call-download"},
		{rc, "auditor", "auditor", x.GetId(), x.GetSubjectRef(), "auditoria anual — ANPD", "call-receipt"},
		{led, "dpo", "dpo", "", "", "", ""},
		{ce, "dpo", "dpo", "", x.GetSubjectRef(), "contestação de consentimento", "call-search"},
	} {
		e := c.e
		if e.GetActor() != c.actor || e.GetRole() != c.role || e.GetRequestId() != c.req || e.GetSubjectRef() != c.ref ||
			e.GetReason() != c.reason || e.GetCallRequestId() != c.callRequest || e.GetAt() == nil {
			t.Errorf("%s entry: %v; want actor %s, request %q, ref %q, reason %q, call %q", e.GetAction(), e, c.actor, c.req, c.ref, c.reason, c.callRequest)
		}
	}
	if got := list(f.dpo, &lgpdv1.ListAccessLogRequest{RequestId: x.GetId()}); len(got.GetEntries()) != 2 ||
		got.GetEntries()[0].GetAction() != "receipt.read" || got.GetEntries()[1].GetAction() != "export.download" {
		t.Errorf("entries of the request: %v", got)
	}
	_, err = call[*lgpdv1.ListAccessLogResponse](f.backend, f, listAccessLogMethod, &lgpdv1.ListAccessLogRequest{Tenant: "demo"})
	wantCode(t, err, codes.PermissionDenied, "ROLE_NOT_ALLOWED")
	_, err = call[*lgpdv1.ListAccessLogResponse](f.other, f, listAccessLogMethod, &lgpdv1.ListAccessLogRequest{Tenant: "demo"})
	wantCode(t, err, codes.PermissionDenied, "TENANT_NOT_ALLOWED")
	_, err = call[*lgpdv1.ListAccessLogResponse](f.dpo, f, listAccessLogMethod, &lgpdv1.ListAccessLogRequest{Tenant: "demo", RequestId: buyer.CPF})
	wantCode(t, err, codes.InvalidArgument, "BAD_REQUEST_ID", buyer.CPF)
	_, err = call[*lgpdv1.ListAccessLogResponse](f.dpo, f, listAccessLogMethod, &lgpdv1.ListAccessLogRequest{Tenant: "demo", PageToken: "nope"})
	wantCode(t, err, codes.InvalidArgument, "BAD_PAGE_TOKEN")

	// No identifier of any seeded titular, nor the consent evidence, in
	// any column of the log.
	rows := strings.ToLower(strings.Join(accessRows(t, f), "\n"))
	for _, s := range f.scenarios {
		needles := append(brdoc.CPFShapes(s.CPF), s.Email)
		if s.Phone != "" {
			needles = append(needles, brdoc.PhoneShapes(s.Phone)...)
		}
		for _, n := range needles {
			if n != "" && strings.Contains(rows, strings.ToLower(n)) {
				t.Errorf("the access log holds an identifier of scenario %s", s.Name)
			}
		}
	}
	for _, n := range []string{evidenceIP, evidenceUA} {
		if strings.Contains(rows, strings.ToLower(n)) {
			t.Errorf("the access log holds consent evidence %q", n)
		}
	}
}

// With access_reason_required, a staff read without a reason is refused
// before anything is sent; with one it goes through. A titular reading
// their own records never needs one.
func TestAccessLog_ReasonRequiredByPolicy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	buyer := f.scenario(seed.ScenarioBuyer2023)
	x := completedExtract(t, f, buyer)
	requireAccessReason(t, f)
	dl := &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"}

	for _, key := range []string{keyBackend, keyDPO} {
		ss, err := f.streamDownload(caller(key), dl)
		wantCode(t, err, codes.FailedPrecondition, "ACCESS_REASON_REQUIRED")
		if !strings.Contains(status.Convert(err).Message(), "X-Access-Reason") {
			t.Errorf("message %q does not name the header", status.Convert(err).Message())
		}
		if len(ss.out) != 0 || ss.body.Len() != 0 || ss.header != nil {
			t.Errorf("a refused download sent %d chunks and header %v", len(ss.out), ss.header)
		}
		// A blank reason is none.
		_, err = f.streamDownload(withReason(key, "   ", "call-blank"), dl)
		wantCode(t, err, codes.FailedPrecondition, "ACCESS_REASON_REQUIRED")
	}
	for _, ctx := range []context.Context{f.backend, f.auditor, f.dpo} {
		_, err := call[*lgpdv1.Receipt](ctx, f, lgpdv1.RequestService_GetReceipt_FullMethodName, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: x.GetId()})
		wantCode(t, err, codes.FailedPrecondition, "ACCESS_REASON_REQUIRED")
	}
	_, err := call[*lgpdv1.ListEntriesResponse](f.auditor, f, lgpdv1.LedgerService_ListEntries_FullMethodName, &lgpdv1.ListEntriesRequest{Tenant: "demo"})
	wantCode(t, err, codes.FailedPrecondition, "ACCESS_REASON_REQUIRED")
	_, err = call[*lgpdv1.SearchConsentsResponse](f.dpo, f, searchConsentsMethod, &lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	wantCode(t, err, codes.FailedPrecondition, "ACCESS_REASON_REQUIRED", buyer.CPF)
	if n := len(accessRows(t, f)); n != 0 {
		t.Fatalf("refused reads left %d access log rows", n)
	}
	// Reads that reveal nothing recorded need no reason: the backend's
	// search (no evidence), proofs.
	must[*lgpdv1.SearchConsentsResponse](f.backend, f, searchConsentsMethod, &lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	must[*lgpdv1.InclusionProof](f.auditor, f, lgpdv1.LedgerService_GetInclusionProof_FullMethodName, &lgpdv1.GetInclusionProofRequest{Tenant: "demo", Index: 0})

	body, _, _, err := f.download(withReason(keyBackend, "SAC 2026-118", "call-ok"), dl)
	if err != nil || len(body) == 0 {
		t.Fatalf("download with a reason: %d bytes, %v", len(body), err)
	}
	must[*lgpdv1.Receipt](withReason(keyAuditor, "auditoria", "call-ok2"), f, lgpdv1.RequestService_GetReceipt_FullMethodName, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: x.GetId()})
	must[*lgpdv1.ListEntriesResponse](withReason(keyDPO, "revisão mensal", "call-ok3"), f, lgpdv1.LedgerService_ListEntries_FullMethodName, &lgpdv1.ListEntriesRequest{Tenant: "demo"})

	// The titular, reading their own receipt and export, gives none; the
	// reads are still recorded, under the token's name.
	me := asTitular(buyer)
	if _, err := f.reqs.GetReceipt(me, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: x.GetId()}); err != nil {
		t.Fatalf("the titular's receipt: %v", err)
	}
	ss := &fakeStream{ctx: me, in: dl}
	if err := f.reqs.DownloadExport(dl, &grpc.GenericServerStream[lgpdv1.DownloadExportRequest, httpbody.HttpBody]{ServerStream: ss}); err != nil || ss.body.Len() == 0 {
		t.Fatalf("the titular's download: %d bytes, %v", ss.body.Len(), err)
	}
	got := must[*lgpdv1.ListAccessLogResponse](f.dpo, f, listAccessLogMethod, &lgpdv1.ListAccessLogRequest{Tenant: "demo"})
	var seen []string
	for _, e := range got.GetEntries() {
		seen = append(seen, fmt.Sprintf("%s/%s/%q", e.GetRole(), e.GetAction(), e.GetReason()))
	}
	want := `titular/export.download/"" titular/receipt.read/"" dpo/ledger.read/"revisão mensal" auditor/receipt.read/"auditoria" backend/export.download/"SAC 2026-118"`
	if strings.Join(seen, " ") != want {
		t.Errorf("access log %v\nwant %s", seen, want)
	}
}
