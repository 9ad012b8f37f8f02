package service

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
)

// TestIdempotencyKeyAndBody: the same key with the same body returns the
// first request; the same key with another body (here a BLOCK's key reused
// for a DELETE, a CORRECT's for other values) is ALREADY_EXISTS with the
// reason IDEMPOTENCY_KEY_REUSED, and records nothing.
func TestIdempotencyKeyAndBody(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioProspect)
	subject := &lgpdv1.Subject{Cpf: s.CPF}
	b := &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_BLOCK, Subject: subject, IdempotencyKey: "crm-ticket-9"}
	first, again := f.create(f.backend, b), f.create(f.backend, b)
	if first.GetId() != again.GetId() {
		t.Fatalf("the same key and body created two requests: %s %s", first.GetId(), again.GetId())
	}
	c := &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CORRECT, Subject: subject, IdempotencyKey: "crm-ticket-10",
		Correction: &lgpdv1.Correction{Fields: map[string]string{"profissao": "Arquiteta"}}}
	corrected := f.create(f.backend, c)
	for name, other := range map[string]*lgpdv1.CreateRequestRequest{
		"another kind":  {Tenant: "demo", Kind: lgpdv1.RequestKind_DELETE, Subject: subject, IdempotencyKey: "crm-ticket-9"},
		"another value": {Tenant: "demo", Kind: lgpdv1.RequestKind_CORRECT, Subject: subject, IdempotencyKey: "crm-ticket-10", Correction: &lgpdv1.Correction{Fields: map[string]string{"profissao": "Engenheira"}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := call[*lgpdv1.Request](f.backend, f, createMethod, other)
			wantCode(t, err, codes.AlreadyExists, "IDEMPOTENCY_KEY_REUSED", s.CPF, "Engenheira")
		})
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_requests"); n != 2 {
		t.Errorf("%d requests recorded, want the BLOCK and the CORRECT", n)
	}
	if got := f.create(f.backend, c); got.GetId() != corrected.GetId() || got.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		t.Errorf("CORRECT retried with its key: %v, want %s COMPLETED", got, corrected.GetId())
	}
}

// TestOpenRequestOfTheSameKindIsLinked: a request created while another of
// the same kind for the same titular is still open carries that one's id
// (linked_request_id); another kind, or once the first has ended, none.
func TestOpenRequestOfTheSameKindIsLinked(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioPEP)
	first := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
	if first.GetLinkedRequestId() != "" {
		t.Fatalf("the first request is linked to %s", first.GetLinkedRequestId())
	}
	// The titular asks again, this time through the DPO.
	second := f.create(f.dpo, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
	if second.GetId() == first.GetId() || second.GetLinkedRequestId() != first.GetId() {
		t.Errorf("second EXTRACT: id %s linked to %q, want a new request linked to %s", second.GetId(), second.GetLinkedRequestId(), first.GetId())
	}
	if got := f.get(second.GetId()); got.GetLinkedRequestId() != first.GetId() {
		t.Errorf("GetRequest lost the link: %q", got.GetLinkedRequestId())
	}
	if block := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_BLOCK, Subject: &lgpdv1.Subject{Cpf: s.CPF}}); block.GetLinkedRequestId() != "" {
		t.Errorf("a BLOCK is linked to an EXTRACT: %s", block.GetLinkedRequestId())
	}
	if n := f.work(); n != 3 {
		t.Fatalf("worker took %d requests, want 3", n)
	}
	if later := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: s.CPF}}); later.GetLinkedRequestId() != "" {
		t.Errorf("an EXTRACT after the others completed is linked to %s", later.GetLinkedRequestId())
	}
}

// TestConsentRetryAfterCancelledCall: a CONSENT whose caller gave up while
// its batch waited is recorded once; the retry with the same key returns
// that request instead of recording a second consent.
func TestConsentRetryAfterCancelledCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	subject := &lgpdv1.Subject{Email: "retentativa@example.com"}
	req := consentReq(subject, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", "portal-consent-77")

	// Hold the purpose so the batch writing the CONSENT waits on it.
	hold, err := f.db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Exec("SELECT id FROM lgpd_purposes WHERE id = 'marketing_email' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(f.backend)
	errc := make(chan error, 1)
	go func() {
		_, err := call[*lgpdv1.Request](ctx, f, createMethod, req)
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond) // the batch has taken the job and waits on the purpose
	cancel()
	wantCode(t, <-errc, codes.Canceled, "")
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	// The batch goes on without the caller and commits the CONSENT.
	deadline := time.Now().Add(10 * time.Second)
	for f.count("SELECT COUNT(*) FROM lgpd_requests WHERE idempotency_key = 'portal-consent-77'") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the cancelled CONSENT was never recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var recorded string
	if err := f.db.QueryRow("SELECT id FROM lgpd_requests WHERE idempotency_key = 'portal-consent-77'").Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	retry := f.create(f.backend, req)
	if retry.GetId() != recorded || retry.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		t.Errorf("retry returned %s %s, want the recorded %s COMPLETED", retry.GetId(), retry.GetStatus(), recorded)
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_consents"); n != 1 {
		t.Errorf("%d consent records, want 1", n)
	}

	// A call cancelled before its batch starts records nothing, and its
	// retry records the consent once.
	done, stop := context.WithCancel(f.backend)
	stop()
	other := consentReq(subject, "marketing_email", lgpdv1.ConsentAction_REVOKE, "", "portal-consent-78")
	if _, err := call[*lgpdv1.Request](done, f, createMethod, other); err == nil {
		t.Log("the call won the race with its own cancellation")
	}
	first := f.create(f.backend, other)
	if again := f.create(f.backend, other); again.GetId() != first.GetId() {
		t.Errorf("retries recorded two revocations: %s %s", first.GetId(), again.GetId())
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_requests WHERE idempotency_key = 'portal-consent-78'"); n != 1 {
		t.Errorf("%d requests under the key, want 1", n)
	}
}
