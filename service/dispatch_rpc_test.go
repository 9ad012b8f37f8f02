package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/webhook"
)

const (
	listDeliveriesMethod = lgpdv1.ConsentService_ListDeliveries_FullMethodName
	retryMethod          = lgpdv1.ConsentService_RetryDeliveries_FullMethodName
)

// receiver is a webhook endpoint that answers with status() and keeps
// what it received.
type receiver struct {
	srv    *httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	got    []received
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{}
	r.status.Store(int32(status))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Clone(), b})
		r.mu.Unlock()
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// dispatch runs one batch of the dispatcher.
func (f *fixture) dispatch() (bool, time.Time) {
	f.t.Helper()
	more, retryAt, err := f.dispatcher.RunOnce(context.Background(), f.tenant())
	if err != nil {
		f.t.Fatalf("dispatcher: %v", err)
	}
	return more, retryAt
}

func (f *fixture) listDeliveries(state lgpdv1.DeliveryState) []*lgpdv1.Delivery {
	f.t.Helper()
	return must[*lgpdv1.ListDeliveriesResponse](f.dpo, f, listDeliveriesMethod, &lgpdv1.ListDeliveriesRequest{Tenant: "demo", State: state}).GetDeliveries()
}

// waitUntil sleeps until at (bounded): a retry becomes due.
func waitUntil(t *testing.T, at time.Time) {
	t.Helper()
	d := time.Until(at)
	if d > 10*time.Second {
		t.Fatalf("retry due in %s; the tests' backoffs are at most a second", d)
	}
	time.Sleep(d + 10*time.Millisecond)
}

// TestDispatcherDeliversAndRetries: a revocation reaches the tenant's
// endpoint signed, with its id, type and attempt in headers and no personal
// data in the body; a failed attempt is recorded and retried after a
// backoff with the same bytes and signature; the DPO sees each state.
func TestDispatcherDeliversAndRetries(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, http.StatusServiceUnavailable)
	// Backoff long enough to see the delivery wait, in [200ms, 400ms].
	f := newFixture(t, withWebhook(rcv.srv.URL+"/hook"),
		withDelivery("{timeout: 5s, min_backoff: 400ms, max_backoff: 1s, max_attempts: 3}"))
	var failures atomic.Int32
	f.dispatcher.OnFailure = func(tenant string) {
		if tenant == "demo" {
			failures.Add(1)
		}
	}
	lead := f.scenario(seed.ScenarioSameCPF)
	revoke := f.create(f.backend, consentReq(&lgpdv1.Subject{Cpf: lead.CPF, Email: lead.Email}, "partner_sharing", lgpdv1.ConsentAction_REVOKE, "1", ""))

	// The endpoint takes every event: the revocation and the CONSENT
	// request's completion (request.completed), newest first.
	pending := f.listDeliveries(lgpdv1.DeliveryState_DELIVERY_STATE_UNSPECIFIED)
	if len(pending) != 2 || pending[0].GetType() != "request.completed" || pending[0].GetRequestId() != revoke.GetId() {
		t.Fatalf("pending deliveries: %v; want the revocation and its request's completion", pending)
	}
	pending = pending[1:]
	if pending[0].GetType() != "consent.revoked" || pending[0].GetEndpoint() != "crm" || pending[0].GetAttempts() != 0 ||
		pending[0].GetState() != lgpdv1.DeliveryState_DELIVERY_PENDING || pending[0].GetRequestId() != revoke.GetId() ||
		pending[0].GetSubjectRef() != revoke.GetSubjectRef() || pending[0].GetEventId() == "" {
		t.Fatalf("pending deliveries: %v", pending)
	}

	more, retryAt := f.dispatch()
	if more || retryAt.IsZero() || time.Until(retryAt) > 400*time.Millisecond {
		t.Fatalf("failed attempt: more %v, retry at %s; want a retry within the backoff", more, retryAt)
	}
	if failures.Load() != 2 {
		t.Errorf("OnFailure counted %d failures, want one per event", failures.Load())
	}
	d := f.listDeliveries(lgpdv1.DeliveryState_DELIVERY_PENDING)
	if len(d) != 2 {
		t.Fatalf("after a 503: %v", d)
	}
	for _, d := range d {
		if d.GetAttempts() != 1 || d.GetLastError() != "HTTP 503" || d.GetNextAttemptAt() == nil {
			t.Fatalf("after a 503: %v", d)
		}
	}
	// Not due yet: nothing is sent.
	if _, at := f.dispatch(); len(rcv.deliveries()) != 2 || !at.IsZero() {
		t.Errorf("a delivery in backoff was sent again (%d received)", len(rcv.deliveries()))
	}
	rcv.status.Store(http.StatusNoContent)
	// Each event's retry has its own jitter: wait for the later one.
	for _, d := range d {
		if at := d.GetNextAttemptAt().AsTime(); at.After(retryAt) {
			retryAt = at
		}
	}
	waitUntil(t, retryAt)
	if more, retryAt := f.dispatch(); more || !retryAt.IsZero() {
		t.Errorf("delivered: more %v retry %s", more, retryAt)
	}
	all := rcv.deliveries()
	if len(all) != 4 {
		t.Fatalf("the endpoint received %d posts, want 4 (two events, two attempts each)", len(all))
	}
	var got []received
	for i, g := range all {
		if !webhook.Verify([]byte(webhookSecret), g.body, g.header.Get(webhook.HeaderSignature)) {
			t.Errorf("post %d: the signature does not verify", i)
		}
		low := strings.ToLower(string(g.body))
		if strings.Contains(low, lead.CPF) || strings.Contains(low, lead.Email) || strings.Contains(low, evidenceIP) {
			t.Errorf("post %d carries personal data: %s", i, g.body)
		}
		if g.header.Get(webhook.HeaderEventType) == "consent.revoked" {
			got = append(got, g)
		}
	}
	if len(got) != 2 {
		t.Fatalf("the revocation was posted %d times, want 2", len(got))
	}
	for i, g := range got {
		if g.header.Get(webhook.HeaderEventID) != pending[0].GetEventId() ||
			g.header.Get(webhook.HeaderAttempt) != []string{"1", "2"}[i] || g.header.Get("Content-Type") != "application/json" {
			t.Errorf("post %d headers: %v", i, g.header)
		}
	}
	if string(got[0].body) != string(got[1].body) {
		t.Error("a retry must carry the same bytes")
	}
	var ev webhook.Event
	if err := json.Unmarshal(got[1].body, &ev); err != nil {
		t.Fatal(err)
	}
	var data struct {
		Purpose    string   `json:"purpose"`
		SharedWith []string `json:"shared_with"`
	}
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		t.Fatal(err)
	}
	if ev.Tenant != "demo" || ev.Type != "consent.revoked" || ev.RequestID != revoke.GetId() || ev.SubjectRef != revoke.GetSubjectRef() ||
		ev.ID != pending[0].GetEventId() || data.Purpose != "partner_sharing" || len(data.SharedWith) != 2 {
		t.Errorf("event %+v data %+v: want the purpose and its recipients (LGPD art. 18 §6)", ev, data)
	}
	done := f.listDeliveries(lgpdv1.DeliveryState_DELIVERY_DELIVERED)
	if len(done) != 2 {
		t.Errorf("delivered: %v", done)
	}
	for _, d := range done {
		if d.GetDeliveredAt() == nil || d.GetNextAttemptAt() != nil || d.GetAttempts() != 2 {
			t.Errorf("delivered: %v", d)
		}
	}
	if left := f.listDeliveries(lgpdv1.DeliveryState_DELIVERY_STATE_UNSPECIFIED); len(left) != 0 {
		t.Errorf("pending or failed after delivery: %v", left)
	}
	if more, retryAt := f.dispatch(); more || !retryAt.IsZero() || len(rcv.deliveries()) != 4 {
		t.Error("an empty outbox sent something")
	}
}

// TestDispatcherGivesUpThenRetried: a delivery failing max_attempts times
// is FAILED and no longer retried; the DPO requeues it by event or by
// endpoint once the endpoint is back, and it is delivered. Malformed retry
// and list calls are refused.
func TestDispatcherGivesUpThenRetried(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, http.StatusInternalServerError)
	f := newFixture(t, withWebhook(rcv.srv.URL+"/hook"),
		withDelivery("{timeout: 5s, min_backoff: 20ms, max_backoff: 40ms, max_attempts: 2}"))
	s := f.scenario(seed.ScenarioPEP)
	f.create(f.backend, consentReq(&lgpdv1.Subject{Cpf: s.CPF}, "marketing_email", lgpdv1.ConsentAction_REVOKE, "", ""))
	f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CORRECT, Subject: &lgpdv1.Subject{Cpf: s.CPF},
		Correction: &lgpdv1.Correction{Fields: map[string]string{"profissao": "Arquiteta"}}})

	_, retryAt := f.dispatch()
	if retryAt.IsZero() {
		t.Fatal("first failures must be retried")
	}
	waitUntil(t, retryAt)
	if _, retryAt := f.dispatch(); !retryAt.IsZero() {
		t.Errorf("deliveries failed for good are retried at %s", retryAt)
	}
	// Each request's propagation event and its completion event.
	failed := f.listDeliveries(lgpdv1.DeliveryState_DELIVERY_FAILED)
	if len(failed) != 4 {
		t.Fatalf("failed deliveries: %v", failed)
	}
	types := map[string]string{}
	for _, d := range failed {
		types[d.GetType()] = d.GetEventId()
		if d.GetAttempts() != 2 || d.GetLastError() != "HTTP 500" || d.GetState() != lgpdv1.DeliveryState_DELIVERY_FAILED {
			t.Errorf("failed delivery %v", d)
		}
	}
	if types["consent.revoked"] == "" || types["subject.corrected"] == "" || types["request.completed"] == "" {
		t.Fatalf("failed deliveries %v: want the revocation, the correction and their completions", types)
	}
	if _, at := f.dispatch(); !at.IsZero() || len(rcv.deliveries()) != 8 {
		t.Errorf("a failed delivery was sent again: %d posts", len(rcv.deliveries()))
	}
	// Pages of one.
	page := must[*lgpdv1.ListDeliveriesResponse](f.dpo, f, listDeliveriesMethod, &lgpdv1.ListDeliveriesRequest{Tenant: "demo", State: lgpdv1.DeliveryState_DELIVERY_FAILED, PageSize: 1})
	next := must[*lgpdv1.ListDeliveriesResponse](f.dpo, f, listDeliveriesMethod, &lgpdv1.ListDeliveriesRequest{Tenant: "demo", State: lgpdv1.DeliveryState_DELIVERY_FAILED, PageSize: 1, PageToken: page.GetNextPageToken()})
	if len(page.GetDeliveries()) != 1 || page.GetNextPageToken() == "" || len(next.GetDeliveries()) != 1 ||
		next.GetDeliveries()[0].GetEventId() == page.GetDeliveries()[0].GetEventId() {
		t.Errorf("paging failed deliveries: %v then %v", page, next)
	}

	for _, tc := range []struct {
		name, key string
		req       *lgpdv1.RetryDeliveriesRequest
		code      codes.Code
		reason    string
	}{
		{"bad event id", keyDPO, &lgpdv1.RetryDeliveriesRequest{Tenant: "demo", EventIds: []string{"not-a-uuid"}}, codes.InvalidArgument, "BAD_EVENT_ID"},
		{"too many ids", keyDPO, &lgpdv1.RetryDeliveriesRequest{Tenant: "demo", EventIds: make([]string, 501)}, codes.InvalidArgument, "TOO_MANY_EVENTS"},
		{"unknown endpoint", keyDPO, &lgpdv1.RetryDeliveriesRequest{Tenant: "demo", Endpoint: "erp"}, codes.NotFound, "ENDPOINT_NOT_FOUND"},
		{"backend", keyBackend, &lgpdv1.RetryDeliveriesRequest{Tenant: "demo"}, codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
	} {
		t.Run("retry/"+tc.name, func(t *testing.T) {
			_, err := call[*lgpdv1.RetryDeliveriesResponse](caller(tc.key), f, retryMethod, tc.req)
			wantCode(t, err, tc.code, tc.reason)
		})
	}
	for _, tc := range []struct {
		name, key string
		req       *lgpdv1.ListDeliveriesRequest
		code      codes.Code
		reason    string
	}{
		{"bad state", keyDPO, &lgpdv1.ListDeliveriesRequest{Tenant: "demo", State: lgpdv1.DeliveryState(77)}, codes.InvalidArgument, "BAD_STATE"},
		{"bad page size", keyDPO, &lgpdv1.ListDeliveriesRequest{Tenant: "demo", PageSize: 501}, codes.InvalidArgument, "BAD_PAGE_SIZE"},
		{"bad page token", keyDPO, &lgpdv1.ListDeliveriesRequest{Tenant: "demo", PageToken: "%%%"}, codes.InvalidArgument, "BAD_PAGE_TOKEN"},
		{"auditor", keyAuditor, &lgpdv1.ListDeliveriesRequest{Tenant: "demo"}, codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
	} {
		t.Run("list/"+tc.name, func(t *testing.T) {
			_, err := call[*lgpdv1.ListDeliveriesResponse](caller(tc.key), f, listDeliveriesMethod, tc.req)
			wantCode(t, err, tc.code, tc.reason)
		})
	}

	rcv.status.Store(http.StatusOK)
	one := must[*lgpdv1.RetryDeliveriesResponse](f.dpo, f, retryMethod, &lgpdv1.RetryDeliveriesRequest{Tenant: "demo", EventIds: []string{types["consent.revoked"]}})
	if one.GetRequeued() != 1 {
		t.Errorf("requeued %d, want the one named", one.GetRequeued())
	}
	f.dispatch()
	if d := f.listDeliveries(lgpdv1.DeliveryState_DELIVERY_DELIVERED); len(d) != 1 || d[0].GetType() != "consent.revoked" {
		t.Errorf("after retrying the revocation: %v", d)
	}
	rest := must[*lgpdv1.RetryDeliveriesResponse](f.dpo, f, retryMethod, &lgpdv1.RetryDeliveriesRequest{Tenant: "demo", Endpoint: "crm"})
	if rest.GetRequeued() != 3 {
		t.Errorf("requeued %d by endpoint, want the correction and both completions", rest.GetRequeued())
	}
	f.dispatch()
	if d := f.listDeliveries(lgpdv1.DeliveryState_DELIVERY_DELIVERED); len(d) != 4 {
		t.Errorf("delivered after the retries: %v", d)
	}
	if none := must[*lgpdv1.RetryDeliveriesResponse](f.dpo, f, retryMethod, &lgpdv1.RetryDeliveriesRequest{Tenant: "demo"}); none.GetRequeued() != 0 {
		t.Errorf("requeued %d with nothing failed", none.GetRequeued())
	}
}

// TestDispatcherUnreachableAndRemovedEndpoint: a network failure is
// recorded by class, never with the URL; a delivery to an endpoint no
// longer configured fails for good at once.
func TestDispatcherUnreachableAndRemovedEndpoint(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, http.StatusOK)
	url := rcv.srv.URL + "/hook?token=s3cr3t"
	f := newFixture(t, withWebhook(url))
	rcv.srv.Close()
	s := f.scenario(seed.ScenarioPEP)
	f.create(f.backend, consentReq(&lgpdv1.Subject{Cpf: s.CPF}, "marketing_email", lgpdv1.ConsentAction_REVOKE, "", ""))
	if _, retryAt := f.dispatch(); retryAt.IsZero() {
		t.Error("a network failure must be retried")
	}
	// The revocation and its request's completion.
	d := f.listDeliveries(lgpdv1.DeliveryState_DELIVERY_PENDING)
	if len(d) != 2 {
		t.Fatalf("after a refused connection: %v", d)
	}
	for _, d := range d {
		if !strings.HasPrefix(d.GetLastError(), "network: ") || strings.Contains(d.GetLastError(), "s3cr3t") ||
			strings.Contains(d.GetLastError(), "127.0.0.1") {
			t.Fatalf("after a refused connection: %v", d)
		}
	}
	if strings.Contains(f.logs.String(), "s3cr3t") {
		t.Error("the endpoint's token reached the logs")
	}

	// The tenant's endpoint is removed (as a reload would leave it).
	delete(f.tenant().Endpoints, "crm")
	f.create(f.backend, consentReq(&lgpdv1.Subject{Cpf: s.CPF}, "marketing_whatsapp", lgpdv1.ConsentAction_REVOKE, "", ""))
	time.Sleep(150 * time.Millisecond) // the first delivery's backoff
	if _, retryAt := f.dispatch(); !retryAt.IsZero() {
		t.Errorf("deliveries to a removed endpoint are retried at %s", retryAt)
	}
	failed := f.listDeliveries(lgpdv1.DeliveryState_DELIVERY_FAILED)
	if len(failed) != 4 {
		t.Fatalf("failed deliveries: %v", failed)
	}
	for _, d := range failed {
		if !strings.Contains(d.GetLastError(), "no longer configured") {
			t.Errorf("failed delivery %v: want the reason", d)
		}
	}
}
