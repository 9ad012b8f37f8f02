package service

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/seed"
)

// unknownCPF is a valid synthetic CPF no seeded titular holds.
var unknownCPF = brdoc.CPFFromSeed(987_654_321)

const (
	createMethod = lgpdv1.RequestService_CreateRequest_FullMethodName
	getMethod    = lgpdv1.RequestService_GetRequest_FullMethodName
	listMethod   = lgpdv1.RequestService_ListRequests_FullMethodName
)

// TestCreateRequestConfirm: CONFIRM answers in the call (Art. 19 I) with
// the categories found and no values, records RECEIVED -> PROCESSING ->
// COMPLETED with a ledger leaf each, and wakes no worker.
func TestCreateRequestConfirm(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioSameCPF)
	for _, tc := range []struct {
		name    string
		subject *lgpdv1.Subject
		found   bool
	}{
		{"by formatted cpf", &lgpdv1.Subject{Cpf: brdoc.FormatCPF(s.CPF)}, true},
		{"by upper-case e-mail", &lgpdv1.Subject{Email: strings.ToUpper(s.Email)}, true},
		{"by phone", &lgpdv1.Subject{Phone: s.Phone}, true},
		{"unknown titular", &lgpdv1.Subject{Cpf: unknownCPF}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: tc.subject})
			c := r.GetResult().GetConfirm()
			if r.GetStatus() != lgpdv1.RequestStatus_COMPLETED || r.GetKind() != lgpdv1.RequestKind_CONFIRM ||
				r.GetTenant() != "demo" || r.GetCreatedBy() != "backend" || r.GetSubjectRef() == "" || r.GetCompletedAt() == nil {
				t.Fatalf("CONFIRM: %v", r)
			}
			if c.GetHasPersonalData() != tc.found {
				t.Errorf("has_personal_data = %v, want %v", c.GetHasPersonalData(), tc.found)
			}
			if tc.found && (!slices.Contains(c.GetCategories(), "identificacao") || !slices.Contains(c.GetEntities(), "pessoa") ||
				!slices.IsSorted(c.GetCategories())) {
				t.Errorf("categories %v entities %v: want sorted categories with identificacao, and pessoa", c.GetCategories(), c.GetEntities())
			}
			if !tc.found && (len(c.GetCategories()) != 0 || len(c.GetEntities()) != 0) {
				t.Errorf("CONFIRM of an unknown titular lists %v %v", c.GetCategories(), c.GetEntities())
			}
			if got := f.events(r.GetId()); !slices.Equal(got, []string{">RECEIVED", "RECEIVED>PROCESSING", "PROCESSING>COMPLETED"}) {
				t.Errorf("events %v", got)
			}
			if n := f.count("SELECT (SELECT COUNT(*) FROM lgpd_ledger_entries WHERE request_id = ?) + (SELECT COUNT(*) FROM lgpd_ledger_pending WHERE request_id = ?)",
				r.GetId(), r.GetId()); n != 3 {
				t.Errorf("%d ledger leaves, want one per state change (3)", n)
			}
			// Read back, the stored result is the same.
			if got := f.get(r.GetId()); got.GetResult().GetConfirm().GetHasPersonalData() != tc.found || len(got.GetExports()) != 0 {
				t.Errorf("GetRequest: %v", got)
			}
		})
	}
	// Identifiers sent together share a subject reference from then on.
	p := f.scenario(seed.ScenarioProspect)
	both := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: p.CPF, Email: p.Email}})
	byEmail := f.create(f.dpo, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Email: p.Email}})
	byCPF := f.create(f.dpo, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: p.CPF}})
	if both.GetSubjectRef() != byEmail.GetSubjectRef() || both.GetSubjectRef() != byCPF.GetSubjectRef() {
		t.Errorf("one titular, several subject refs: %s %s %s", both.GetSubjectRef(), byEmail.GetSubjectRef(), byCPF.GetSubjectRef())
	}
	if w := f.wakes(); len(w) != 0 {
		t.Errorf("CONFIRM woke the workers: %v", w)
	}
	if n := f.work(); n != 0 {
		t.Errorf("the worker found %d requests after CONFIRMs", n)
	}
}

// TestCreateRequestValidation: every malformed or unauthorized call is
// refused with its code, a reason and a message that says how to fix it,
// never echoing the identifiers sent, and records nothing.
func TestCreateRequestValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	badCPF := "123.456.789-00"
	pep := f.scenario(seed.ScenarioPEP)
	subject := &lgpdv1.Subject{Cpf: pep.CPF}
	consent := func(c *lgpdv1.ConsentChange) *lgpdv1.CreateRequestRequest {
		return &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONSENT, Subject: subject, Consent: c}
	}
	ev := &lgpdv1.ConsentEvidence{Channel: "portal"}
	cases := []struct {
		name   string
		key    string // the caller's key: the DPO's when empty, none when "-"
		req    *lgpdv1.CreateRequestRequest
		code   codes.Code
		reason string
	}{
		{"no credentials", "-", &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM, Subject: subject},
			codes.Unauthenticated, "MISSING_CREDENTIALS"},
		{"wrong key", "nope", &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM, Subject: subject},
			codes.Unauthenticated, "INVALID_CREDENTIALS"},
		{"auditor may not create", keyAuditor, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM, Subject: subject},
			codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"another tenant's key", keyOther, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM, Subject: subject},
			codes.PermissionDenied, "TENANT_NOT_ALLOWED"},
		{"foreign tenant", keyBackend, &lgpdv1.CreateRequestRequest{Tenant: "other", Kind: lgpdv1.RequestKind_CONFIRM, Subject: subject},
			codes.PermissionDenied, "TENANT_NOT_ALLOWED"},
		{"unknown tenant", "", &lgpdv1.CreateRequestRequest{Tenant: "nowhere", Kind: lgpdv1.RequestKind_CONFIRM, Subject: subject},
			codes.NotFound, "TENANT_NOT_FOUND"},
		{"no tenant", "", &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: subject},
			codes.InvalidArgument, "TENANT_REQUIRED"},
		{"no kind", "", &lgpdv1.CreateRequestRequest{Tenant: "demo", Subject: subject}, codes.InvalidArgument, "KIND_REQUIRED"},
		{"unknown kind", "", &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind(99), Subject: subject}, codes.InvalidArgument, "KIND_REQUIRED"},
		{"idempotency key too long", "", &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM, Subject: subject,
			IdempotencyKey: strings.Repeat("k", 201)}, codes.InvalidArgument, "BAD_IDEMPOTENCY_KEY"},
		{"idempotency key not UTF-8", "", &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM, Subject: subject,
			IdempotencyKey: "k\xff"}, codes.InvalidArgument, "BAD_IDEMPOTENCY_KEY"},
		{"no subject", "", &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_EXTRACT}, codes.InvalidArgument, "SUBJECT_REQUIRED"},
		{"empty subject", "", &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{}},
			codes.InvalidArgument, "SUBJECT_REQUIRED"},
		{"invalid cpf", "", &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: badCPF}},
			codes.InvalidArgument, "INVALID_IDENTIFIER"},
		{"invalid e-mail and phone", "", &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_DELETE,
			Subject: &lgpdv1.Subject{Email: "no-at-sign", Phone: "12"}}, codes.InvalidArgument, "INVALID_IDENTIFIER"},
		{"correct without fields", "", &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CORRECT, Subject: subject},
			codes.InvalidArgument, "CORRECTION_REQUIRED"},
		{"consent without change", "", consent(nil), codes.InvalidArgument, "CONSENT_REQUIRED"},
		{"consent bad purpose id", "", consent(&lgpdv1.ConsentChange{Purpose: "Marketing!", Action: lgpdv1.ConsentAction_REVOKE, Evidence: ev}),
			codes.InvalidArgument, "BAD_PURPOSE_ID"},
		{"consent without action", "", consent(&lgpdv1.ConsentChange{Purpose: "marketing_email", Evidence: ev}),
			codes.InvalidArgument, "CONSENT_ACTION_REQUIRED"},
		{"grant without term", "", consent(&lgpdv1.ConsentChange{Purpose: "marketing_email", Action: lgpdv1.ConsentAction_GRANT, Evidence: ev}),
			codes.InvalidArgument, "TERM_VERSION_REQUIRED"},
		{"bad term version", "", consent(&lgpdv1.ConsentChange{Purpose: "marketing_email", Action: lgpdv1.ConsentAction_REVOKE, TermVersion: "v 1", Evidence: ev}),
			codes.InvalidArgument, "BAD_TERM_VERSION"},
		{"no channel", "", consent(&lgpdv1.ConsentChange{Purpose: "marketing_email", Action: lgpdv1.ConsentAction_REVOKE}),
			codes.InvalidArgument, "CHANNEL_REQUIRED"},
		{"user agent too long", "", consent(&lgpdv1.ConsentChange{Purpose: "marketing_email", Action: lgpdv1.ConsentAction_REVOKE,
			Evidence: &lgpdv1.ConsentEvidence{Channel: "portal", UserAgent: strings.Repeat("a", 513)}}), codes.InvalidArgument, "BAD_EVIDENCE"},
		{"captured_by too long", "", consent(&lgpdv1.ConsentChange{Purpose: "marketing_email", Action: lgpdv1.ConsentAction_REVOKE,
			Evidence: &lgpdv1.ConsentEvidence{Channel: "portal", CapturedBy: strings.Repeat("a", 201)}}), codes.InvalidArgument, "BAD_EVIDENCE"},
		{"bad ip", "", consent(&lgpdv1.ConsentChange{Purpose: "marketing_email", Action: lgpdv1.ConsentAction_REVOKE,
			Evidence: &lgpdv1.ConsentEvidence{Channel: "portal", Ip: "300.1.1.1"}}), codes.InvalidArgument, "BAD_EVIDENCE"},
		{"unknown purpose", "", consent(&lgpdv1.ConsentChange{Purpose: "nao_existe", Action: lgpdv1.ConsentAction_REVOKE, Evidence: ev}),
			codes.NotFound, "PURPOSE_NOT_FOUND"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := f.dpo
			switch c.key {
			case "-":
				ctx = context.Background()
			case "":
			default:
				ctx = caller(c.key)
			}
			_, err := call[*lgpdv1.Request](ctx, f, createMethod, c.req)
			wantCode(t, err, c.code, c.reason, badCPF, "123456789", "no-at-sign", pep.CPF, brdoc.FormatCPF(pep.CPF))
		})
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_requests"); n != 0 {
		t.Errorf("refused calls left %d requests behind", n)
	}
}

// TestCreateRequestIdempotency: a retry with the same key by the same
// caller returns the first request, whatever its state now; another caller's
// key never collides; reusing a key for another request is a conflict.
func TestCreateRequestIdempotency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioPEP)
	x := &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: s.CPF}, IdempotencyKey: "crm-ticket-1"}
	a := f.create(f.backend, x)
	b := f.create(f.backend, x)
	if a.GetId() != b.GetId() || b.GetIdempotencyKey() != "crm-ticket-1" || b.GetStatus() != lgpdv1.RequestStatus_RECEIVED {
		t.Fatalf("the same key created two requests: %v %v", a, b)
	}
	if other := f.create(f.dpo, x); other.GetId() == a.GetId() {
		t.Error("another caller's key must not collide")
	}
	// After the worker completed it, a retry returns it with its exports.
	if n := f.work(); n != 2 {
		t.Fatalf("worker took %d requests, want 2", n)
	}
	again := f.create(f.backend, x)
	if again.GetId() != a.GetId() || again.GetStatus() != lgpdv1.RequestStatus_COMPLETED || len(again.GetExports()) != 3 {
		t.Errorf("retry after completion: %v", again)
	}
	// The same key for another kind or another titular is refused.
	for _, other := range []*lgpdv1.CreateRequestRequest{
		{Tenant: "demo", Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Cpf: s.CPF}, IdempotencyKey: "crm-ticket-1"},
		{Tenant: "demo", Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: unknownCPF}, IdempotencyKey: "crm-ticket-1"},
	} {
		_, err := call[*lgpdv1.Request](f.backend, f, createMethod, other)
		wantCode(t, err, codes.AlreadyExists, "IDEMPOTENCY_KEY_REUSED", unknownCPF, s.CPF)
	}
	// CONFIRM is idempotent too, and its retry reads the stored result.
	c := &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Email: s.Email}, IdempotencyKey: "confirm-1"}
	c1, c2 := f.create(f.backend, c), f.create(f.backend, c)
	if c1.GetId() != c2.GetId() || !c2.GetResult().GetConfirm().GetHasPersonalData() {
		t.Errorf("CONFIRM retry: %v then %v", c1, c2)
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_requests"); n != 3 {
		t.Errorf("%d requests recorded, want 3", n)
	}
}

// TestListAndGetRequests: newest first, filtered by kind and status, paged
// with tokens that never repeat a request; bad pages and ids are refused.
func TestListAndGetRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioPEP)
	var confirms []string
	for range 5 {
		confirms = append(confirms, f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: s.CPF}}).GetId())
	}
	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: s.CPF}})

	seen := map[string]bool{}
	var order []string
	token, pages := "", 0
	for {
		page := must[*lgpdv1.ListRequestsResponse](f.auditor, f, listMethod, &lgpdv1.ListRequestsRequest{Tenant: "demo",
			Kind: lgpdv1.RequestKind_CONFIRM, Status: lgpdv1.RequestStatus_COMPLETED, PageSize: 2, PageToken: token})
		pages++
		for _, r := range page.GetRequests() {
			if seen[r.GetId()] || r.GetKind() != lgpdv1.RequestKind_CONFIRM || r.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
				t.Errorf("listed %s (%s %s) twice or outside the filter", r.GetId(), r.GetKind(), r.GetStatus())
			}
			if r.GetResult().GetConfirm() == nil {
				t.Errorf("listed request %s lacks its result", r.GetId())
			}
			seen[r.GetId()] = true
			order = append(order, r.GetId())
		}
		if token = page.GetNextPageToken(); token == "" {
			break
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 5 || pages != 3 {
		t.Errorf("listed %d requests in %d pages, want 5 in 3", len(seen), pages)
	}
	if slices.Reverse(confirms); !slices.Equal(order, confirms) {
		t.Errorf("order %v, want newest first %v", order, confirms)
	}
	all := must[*lgpdv1.ListRequestsResponse](f.backend, f, listMethod, &lgpdv1.ListRequestsRequest{Tenant: "demo"})
	if len(all.GetRequests()) != 6 || all.GetRequests()[0].GetId() != x.GetId() || all.GetNextPageToken() != "" {
		t.Errorf("unfiltered list: %d requests, first %s, next %q", len(all.GetRequests()), all.GetRequests()[0].GetId(), all.GetNextPageToken())
	}
	received := must[*lgpdv1.ListRequestsResponse](f.dpo, f, listMethod, &lgpdv1.ListRequestsRequest{Tenant: "demo", Status: lgpdv1.RequestStatus_RECEIVED})
	if len(received.GetRequests()) != 1 || received.GetRequests()[0].GetKind() != lgpdv1.RequestKind_EXTRACT {
		t.Errorf("RECEIVED filter: %v", received)
	}
	got := must[*lgpdv1.Request](f.auditor, f, getMethod, &lgpdv1.GetRequestRequest{Tenant: "demo", Id: x.GetId()})
	if got.GetId() != x.GetId() || got.GetStatus() != lgpdv1.RequestStatus_RECEIVED ||
		got.GetDueAt().AsTime().Sub(got.GetReceivedAt().AsTime()) != 15*24*time.Hour {
		t.Errorf("GetRequest: %v; want RECEIVED due 15 days after receipt (LGPD art. 19 II)", got)
	}

	for _, c := range []struct {
		name   string
		method string
		req    any
		code   codes.Code
		reason string
	}{
		{"page size too large", listMethod, &lgpdv1.ListRequestsRequest{Tenant: "demo", PageSize: 501}, codes.InvalidArgument, "BAD_PAGE_SIZE"},
		{"negative page size", listMethod, &lgpdv1.ListRequestsRequest{Tenant: "demo", PageSize: -1}, codes.InvalidArgument, "BAD_PAGE_SIZE"},
		{"bad page token", listMethod, &lgpdv1.ListRequestsRequest{Tenant: "demo", PageToken: "zzz"}, codes.InvalidArgument, "BAD_PAGE_TOKEN"},
		{"list of an unknown tenant", listMethod, &lgpdv1.ListRequestsRequest{Tenant: "nowhere"}, codes.NotFound, "TENANT_NOT_FOUND"},
		{"malformed id", getMethod, &lgpdv1.GetRequestRequest{Tenant: "demo", Id: "x"}, codes.InvalidArgument, "BAD_REQUEST_ID"},
		{"upper-case id", getMethod, &lgpdv1.GetRequestRequest{Tenant: "demo", Id: strings.ToUpper(x.GetId())}, codes.InvalidArgument, "BAD_REQUEST_ID"},
		{"unknown id", getMethod, &lgpdv1.GetRequestRequest{Tenant: "demo", Id: "00000000-0000-0000-0000-000000000000"}, codes.NotFound, "NOT_FOUND"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.method == listMethod {
				_, err = call[*lgpdv1.ListRequestsResponse](f.dpo, f, c.method, c.req.(*lgpdv1.ListRequestsRequest))
			} else {
				_, err = call[*lgpdv1.Request](f.dpo, f, c.method, c.req.(*lgpdv1.GetRequestRequest))
			}
			wantCode(t, err, c.code, c.reason)
		})
	}
	// Another tenant's credential cannot read demo's requests.
	_, err := call[*lgpdv1.Request](f.other, f, getMethod, &lgpdv1.GetRequestRequest{Tenant: "demo", Id: x.GetId()})
	wantCode(t, err, codes.PermissionDenied, "TENANT_NOT_ALLOWED")
}

// TestConcurrentCreation: callers racing on the same idempotency key get
// one request; first requests racing for a titular never seen get one
// subject reference, through the inline path and the consent batches alike.
func TestConcurrentCreation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 10
	ids, refs, consentRefs := make([]string, n), make([]string, n), make([]string, 2*n)
	errs := make([]error, 4*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := call[*lgpdv1.Request](f.backend, f, createMethod, &lgpdv1.CreateRequestRequest{Tenant: "demo",
				Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: unknownCPF}, IdempotencyKey: "same-ticket"})
			ids[i], errs[i] = r.GetId(), err
		})
		wg.Go(func() {
			r, err := call[*lgpdv1.Request](f.backend, f, createMethod, &lgpdv1.CreateRequestRequest{Tenant: "demo",
				Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: brdoc.CPFFromSeed(55_555)}})
			refs[i], errs[n+i] = r.GetSubjectRef(), err
		})
	}
	for i := range 2 * n {
		wg.Go(func() {
			r, err := call[*lgpdv1.Request](f.backend, f, createMethod,
				consentReq(&lgpdv1.Subject{Email: "primeira-vez@example.com"}, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", ""))
			consentRefs[i], errs[2*n+i] = r.GetSubjectRef(), err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	for name, got := range map[string][]string{"request id": ids, "CONFIRM subject ref": refs, "CONSENT subject ref": consentRefs} {
		if got[0] == "" || slices.ContainsFunc(got, func(s string) bool { return s != got[0] }) {
			t.Errorf("%s: %v, want one", name, got)
		}
	}
	if c := f.count("SELECT COUNT(*) FROM lgpd_requests WHERE kind = 'EXTRACT'"); c != 1 {
		t.Errorf("%d EXTRACT requests for one key", c)
	}
	if c := f.count("SELECT COUNT(*) FROM lgpd_requests WHERE kind = 'CONSENT'"); c != 2*n {
		t.Errorf("%d CONSENT requests, want %d", c, 2*n)
	}
}
