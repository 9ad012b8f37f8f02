package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/store"
	"github.com/titular/titular/webhook"
)

const webhookSecret = "test-webhook-secret-0123456789abcdef"

// hit is one request the receiver got.
type hit struct {
	id, attempt, typ string
	signed           bool
	body             []byte
	at               time.Time
	status           int
}

// receiver is a real local HTTP endpoint standing in for the CRM or a
// partner: it checks each delivery's signature and answers with the status
// its mode says.
type receiver struct {
	srv  *httptest.Server
	fail atomic.Int32 // answer 500 to this many more requests; < 0: always
	mu   sync.Mutex
	hits []hit
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := hit{id: r.Header.Get(webhook.HeaderEventID), attempt: r.Header.Get(webhook.HeaderAttempt),
			typ: r.Header.Get(webhook.HeaderEventType), body: body, at: time.Now(), status: http.StatusOK,
			signed: webhook.Verify([]byte(webhookSecret), body, r.Header.Get(webhook.HeaderSignature))}
		if n := rc.fail.Load(); n != 0 {
			if n > 0 {
				rc.fail.Add(-1)
			}
			h.status = http.StatusInternalServerError
		}
		rc.mu.Lock()
		rc.hits = append(rc.hits, h)
		rc.mu.Unlock()
		w.WriteHeader(h.status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) got() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

// withWebhook points the demo tenant's revocations at rc, with fast retries.
func withWebhook(t *testing.T, rc *receiver) envOption {
	t.Setenv("TITULAR_TEST_WEBHOOK_SECRET", webhookSecret)
	return func(y string) string {
		y = strings.Replace(y, "{id: demo, ", fmt.Sprintf(`{id: demo, webhooks: [{name: crm, url: %q, secret_env: TITULAR_TEST_WEBHOOK_SECRET, events: [consent.revoked]}], `, rc.srv.URL+"/lgpd"), 1)
		return y + "webhook_delivery: {timeout: 500ms, min_backoff: 200ms, max_backoff: 400ms, max_attempts: 8}\n"
	}
}

func (e *testEnv) revoke(t *testing.T, cpf, purpose string) restRequest {
	t.Helper()
	body := consentBody(map[string]any{"cpf": cpf}, purpose, "REVOKE", "", "")
	return e.createREST(t, keyBackend, body)
}

// TestWebhookRetriesSignatureAndIDs: a revocation reaches the endpoint
// signed, is retried after 500s with the same event id, and is listed for
// the DPO until delivered. The body carries no identifier.
func TestWebhookRetriesSignatureAndIDs(t *testing.T) {
	rc := newReceiver(t)
	rc.fail.Store(2)
	env := newTestEnv(t, 30, withWebhook(t, rc))
	loadDemoPurposes(t, env)
	lead := env.scenario(t, "lead_somente_consentimento")
	env.createREST(t, keyBackend, consentBody(map[string]any{"cpf": lead.CPF}, "partner_sharing", "GRANT", "1", ""))
	rev := env.revoke(t, lead.CPF, "partner_sharing")

	waitFor(t, "the delivery to succeed", func() bool {
		hs := rc.got()
		return len(hs) > 0 && hs[len(hs)-1].status == http.StatusOK
	})
	hs := rc.got()
	if len(hs) != 3 {
		t.Fatalf("receiver got %d requests, want 2 failures then 1 success (grants send nothing)", len(hs))
	}
	for i, h := range hs {
		if !h.signed || h.id != hs[0].id || h.attempt != fmt.Sprint(i+1) || h.typ != store.EventConsentRevoked || string(h.body) != string(hs[0].body) {
			t.Errorf("attempt %d: signed=%v id=%s attempt=%s type=%s; want a valid signature, one event id, attempts 1..3, the same body", i+1, h.signed, h.id, h.attempt, h.typ)
		}
	}
	if webhook.Verify([]byte("another secret, not the endpoint's"), hs[0].body, "sha256=00") {
		t.Error("a forged signature verified")
	}
	var ev webhook.Event
	if err := json.Unmarshal(hs[0].body, &ev); err != nil {
		t.Fatal(err)
	}
	var data struct {
		Purpose    string   `json:"purpose"`
		SharedWith []string `json:"shared_with"`
	}
	_ = json.Unmarshal(ev.Data, &data)
	if ev.ID != hs[0].id || ev.Type != store.EventConsentRevoked || ev.Tenant != "demo" || ev.SubjectRef != rev.SubjectRef ||
		ev.RequestID != rev.ID || ev.Seq <= 0 || data.Purpose != "partner_sharing" || len(data.SharedWith) != 2 {
		t.Errorf("event body: %+v data %+v", ev, data)
	}
	for _, n := range append(append(brdoc.CPFShapes(lead.CPF), lead.Email, evidenceIP, evidenceUA), brdoc.PhoneShapes(lead.Phone)...) {
		if strings.Contains(strings.ToLower(string(hs[0].body)), strings.ToLower(n)) {
			t.Errorf("the event body carries personal data (%s)", n)
		}
	}
	code, _, b := env.rest(t, "GET", "/v1/tenants/demo/deliveries?state=DELIVERY_DELIVERED", keyDPO, nil)
	listed := decode[struct {
		Deliveries []struct {
			EventID  string `json:"event_id"`
			Endpoint string `json:"endpoint"`
			State    string `json:"state"`
			Attempts int    `json:"attempts"`
		} `json:"deliveries"`
	}](t, b)
	if code != http.StatusOK || len(listed.Deliveries) != 1 || listed.Deliveries[0].EventID != ev.ID ||
		listed.Deliveries[0].Attempts != 3 || listed.Deliveries[0].Endpoint != "crm" {
		t.Errorf("DPO's delivered list: HTTP %d %s", code, b)
	}
	if code, _, _ := env.rest(t, "GET", "/v1/tenants/demo/deliveries", keyBackend, nil); code != http.StatusForbidden {
		t.Errorf("backend listed deliveries: HTTP %d; the list is the DPO's", code)
	}
}

// TestWebhookAtLeastOnceAcrossRestart: a delivery failing when titular
// stops is sent by the next process; one claimed by a dispatcher that died
// before recording the outcome is sent again once its lease ends. The
// receiver sees the same event id each time and de-duplicates on it.
func TestWebhookAtLeastOnceAcrossRestart(t *testing.T) {
	rc := newReceiver(t)
	rc.fail.Store(-1)
	env := newTestEnv(t, 30, withWebhook(t, rc))
	loadDemoPurposes(t, env)
	lead := env.scenario(t, "lead_com_pessoa_sem_venda")
	env.revoke(t, lead.CPF, "marketing_email")
	waitFor(t, "a first, failing attempt", func() bool { return len(rc.got()) > 0 })
	env.app.Stop()
	failed := len(rc.got())

	// A replica claims the due retry and dies before it can report.
	crashed := store.New(env.demoDB(t))
	const lease = 2 * time.Second
	var claimedAt time.Time
	waitFor(t, "the retry to fall due", func() bool {
		ds, err := crashed.ClaimDeliveries(context.Background(), 10, lease)
		if err != nil {
			t.Fatal(err)
		}
		claimedAt = time.Now()
		return len(ds) == 1
	})

	rc.fail.Store(0)
	log := slog.New(slog.NewJSONHandler(env.logs, nil))
	restarted, err := Start(context.Background(), env.cfg, log, Options{})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(restarted.Stop)
	waitFor(t, "delivery after the restart", func() bool {
		hs := rc.got()
		return len(hs) > failed && hs[len(hs)-1].status == http.StatusOK
	})
	hs := rc.got()
	last := hs[len(hs)-1]
	if last.at.Sub(claimedAt) < lease-100*time.Millisecond {
		t.Errorf("delivered %s after the crashed claim, before its %s lease ended", last.at.Sub(claimedAt), lease)
	}
	for _, h := range hs {
		if h.id != hs[0].id || !h.signed {
			t.Errorf("attempts carry event ids %s and %s (signed=%v); one event keeps one id", hs[0].id, h.id, h.signed)
		}
	}
	if failed < 1 || len(hs) < failed+1 {
		t.Errorf("receiver saw %d failing and %d total requests", failed, len(hs))
	}
}

// TestRetryFailedDeliveries: a delivery given up on while the endpoint was
// down is requeued by the DPO once it is back, and arrives with the same
// event id and its attempts restarted.
func TestRetryFailedDeliveries(t *testing.T) {
	rc := newReceiver(t)
	rc.fail.Store(-1) // down
	withHook := withWebhook(t, rc)
	env := newTestEnv(t, 30, func(y string) string {
		return strings.Replace(withHook(y), "max_attempts: 8", "max_attempts: 2", 1)
	})
	loadDemoPurposes(t, env)
	lead := env.scenario(t, "lead_somente_consentimento")
	env.revoke(t, lead.CPF, "partner_sharing")

	type listed struct {
		Deliveries []struct {
			EventID  string `json:"event_id"`
			State    string `json:"state"`
			Attempts int    `json:"attempts"`
		} `json:"deliveries"`
	}
	var failed listed
	waitFor(t, "the delivery to be given up", func() bool {
		_, _, b := env.rest(t, "GET", "/v1/tenants/demo/deliveries?state=DELIVERY_FAILED", keyDPO, nil)
		failed = decode[listed](t, b)
		return len(failed.Deliveries) == 1
	})
	if n := len(rc.got()); n != 2 || failed.Deliveries[0].Attempts != 2 {
		t.Fatalf("before giving up: %d requests, %d attempts recorded; want 2 and 2", n, failed.Deliveries[0].Attempts)
	}
	eventID := failed.Deliveries[0].EventID

	for _, c := range []struct {
		key    string
		body   map[string]any
		status int
		reason string
	}{
		{keyBackend, map[string]any{}, http.StatusForbidden, ""},
		{keyDPO, map[string]any{"endpoint": "nao-existe"}, http.StatusNotFound, "ENDPOINT_NOT_FOUND"},
		{keyDPO, map[string]any{"event_ids": []string{"not-an-id"}}, http.StatusBadRequest, "BAD_EVENT_ID"},
	} {
		code, _, b := env.rest(t, "POST", "/v1/tenants/demo/deliveries:retry", c.key, c.body)
		if code != c.status || !strings.Contains(string(b), c.reason) {
			t.Errorf("retry %v: HTTP %d %s; want %d %s", c.body, code, b, c.status, c.reason)
		}
	}
	if n := len(rc.got()); n != 2 {
		t.Fatalf("refused retries sent something: %d requests", n)
	}

	rc.fail.Store(0) // back up
	code, _, b := env.rest(t, "POST", "/v1/tenants/demo/deliveries:retry", keyDPO, map[string]any{"endpoint": "crm", "event_ids": []string{eventID}})
	if got := decode[struct {
		Requeued string `json:"requeued"`
	}](t, b); code != http.StatusOK || got.Requeued != "1" {
		t.Fatalf("retry: HTTP %d %s, want 1 requeued", code, b)
	}
	waitFor(t, "the requeued delivery", func() bool { return len(rc.got()) == 3 })
	last := rc.got()[2]
	if last.status != http.StatusOK || last.id != eventID || last.attempt != "1" || !last.signed {
		t.Errorf("redelivery: status %d id %s attempt %s signed %v; want 200, the same event id, attempt 1, signed", last.status, last.id, last.attempt, last.signed)
	}
	waitFor(t, "the delivery to be recorded", func() bool {
		_, _, b := env.rest(t, "GET", "/v1/tenants/demo/deliveries?state=DELIVERY_DELIVERED", keyDPO, nil)
		d := decode[listed](t, b)
		return len(d.Deliveries) == 1 && d.Deliveries[0].EventID == eventID
	})
	code, _, b = env.rest(t, "POST", "/v1/tenants/demo/deliveries:retry", keyDPO, map[string]any{})
	if got := decode[struct {
		Requeued *string `json:"requeued"`
	}](t, b); code != http.StatusOK || got.Requeued != nil && *got.Requeued != "0" {
		t.Errorf("retry with nothing failed: HTTP %d %s, want 0 requeued", code, b)
	}
}
