package service

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
)

// TestWorkerRetriesThenFails: a request whose processing fails (a CRM
// table the map reads is gone) is released for a retry after a backoff,
// with the error's class only; after max_attempts it is FAILED with a
// reason; the same failure reaches an API caller as INTERNAL without the
// database's message. Once the table is back, requests complete again.
func TestWorkerRetriesThenFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withWorkers("{per_tenant: 2, poll_interval: 1s, lease: 1m, max_attempts: 2}"))
	var mu sync.Mutex
	var failed []bool
	f.worker.OnProcessed = func(_, kind string, _ time.Duration, fail bool) {
		mu.Lock()
		failed = append(failed, fail)
		mu.Unlock()
	}
	s := f.scenario(seed.ScenarioBuyer2023)
	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
	if _, err := f.db.Exec("RENAME TABLE documentos TO documentos_fora"); err != nil {
		t.Fatal(err)
	}

	found, retryAt, err := f.worker.RunOnce(context.Background(), f.tenant())
	if err != nil || !found || retryAt.IsZero() || time.Until(retryAt) > 2*time.Second {
		t.Fatalf("first attempt: found %v, retry at %s, %v; want a retry after the 1s backoff", found, retryAt, err)
	}
	r := f.get(x.GetId())
	if r.GetStatus() != lgpdv1.RequestStatus_RECEIVED || len(r.GetExports()) != 0 {
		t.Fatalf("after a failed attempt: %v", r)
	}
	var note string
	if err := f.db.QueryRow("SELECT note FROM lgpd_request_events WHERE request_id = ? AND from_status = 'PROCESSING' AND to_status = 'RECEIVED'",
		x.GetId()).Scan(&note); err != nil || note != "attempt failed; retrying: database error 1146" {
		t.Errorf("retry event note %q (%v): want the error class only", note, err)
	}
	if found, _, err := f.worker.RunOnce(context.Background(), f.tenant()); found || err != nil {
		t.Errorf("a request in backoff was claimed again: %v %v", found, err)
	}
	waitUntil(t, retryAt)
	if found, retryAt, err := f.worker.RunOnce(context.Background(), f.tenant()); !found || err != nil || retryAt.IsZero() {
		t.Fatalf("second attempt: %v %s %v", found, retryAt, err)
	}
	r = f.get(x.GetId())
	if r.GetStatus() != lgpdv1.RequestStatus_FAILED || len(r.GetReasons()) != 1 || r.GetReasons()[0].GetCode() != "PROCESSING_FAILED" ||
		!strings.Contains(r.GetReasons()[0].GetMessage(), "2 attempts") || r.GetCompletedAt() == nil {
		t.Fatalf("after max_attempts: %v", r)
	}
	if !slices.Equal(failed, []bool{true, true}) {
		t.Errorf("OnProcessed saw %v", failed)
	}
	if !strings.Contains(f.logs.String(), `"msg":"worker: request failed"`) {
		t.Error("the failure was not logged")
	}
	if n := f.work(); n != 0 {
		t.Errorf("a FAILED request was claimed again (%d)", n)
	}

	// In the call, the same failure is INTERNAL and says where to look.
	_, err = call[*lgpdv1.Request](f.backend, f, createMethod, &lgpdv1.CreateRequestRequest{Tenant: "demo",
		Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
	wantCode(t, err, codes.Internal, "", "documentos", "1146", "Table")
	if !strings.Contains(f.logs.String(), `"msg":"internal error"`) {
		t.Error("an internal error must be logged for the operator")
	}

	if _, err := f.db.Exec("RENAME TABLE documentos_fora TO documentos"); err != nil {
		t.Fatal(err)
	}
	y := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
	if n := f.work(); n != 1 {
		t.Fatalf("worker took %d", n)
	}
	if got := f.get(y.GetId()); got.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		t.Errorf("DELETE after the table is back: %v", got)
	}
}

// TestWorkerLease: a request a live worker holds is left alone; one whose
// worker stopped (its lease ran out) is claimed again and completed, the
// history saying why; a worker shutting down claims nothing. Each worker
// claims under a name of its own.
func TestWorkerLease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioProspect)
	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Email: s.Email}})

	// A worker that cannot start claims nothing, and leaves the request waiting.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if found, _, err := f.worker.RunOnce(ctx, f.tenant()); found || !errors.Is(err, context.Canceled) {
		t.Errorf("RunOnce on an ended context: %v %v", found, err)
	}
	if got := f.get(x.GetId()); got.GetStatus() != lgpdv1.RequestStatus_RECEIVED {
		t.Fatalf("after an aborted claim: %v", got)
	}

	// Another replica holds it, with time left on its lease.
	if _, err := f.db.Exec("UPDATE lgpd_requests SET status = 'PROCESSING', lease_owner = 'replica-b/1/dead', lease_until = ?, attempts = 1 WHERE id = ?",
		time.Now().UTC().Add(time.Hour), x.GetId()); err != nil {
		t.Fatal(err)
	}
	if n := f.work(); n != 0 {
		t.Fatalf("a worker took a request under another's live lease")
	}
	// The replica died: its lease ran out.
	if _, err := f.db.Exec("UPDATE lgpd_requests SET lease_until = ? WHERE id = ?", time.Now().UTC().Add(-time.Second), x.GetId()); err != nil {
		t.Fatal(err)
	}
	if n := f.work(); n != 1 {
		t.Fatalf("worker took %d requests, want the abandoned one", n)
	}
	got := f.get(x.GetId())
	if got.GetStatus() != lgpdv1.RequestStatus_COMPLETED || len(got.GetExports()) != 3 {
		t.Fatalf("abandoned request after the takeover: %v", got)
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_request_events WHERE request_id = ? AND from_status = 'PROCESSING' AND to_status = 'PROCESSING' AND note LIKE 'lease of a stopped worker expired%'",
		x.GetId()); n != 1 {
		t.Errorf("the takeover is not in the request's history: %v", f.events(x.GetId()))
	}
	var owner string
	if err := f.db.QueryRow("SELECT COALESCE(lease_owner, '') FROM lgpd_requests WHERE id = ?", x.GetId()).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if owner != "" && owner != f.worker.Owner() {
		t.Errorf("lease owner %q is neither cleared nor this worker's %q", owner, f.worker.Owner())
	}
	other := NewWorker(f.cfg.Workers, f.cfg.Exports.TTL, f.log)
	if f.worker.Owner() == "" || other.Owner() == f.worker.Owner() || strings.Count(other.Owner(), "/") != 2 {
		t.Errorf("worker names %q and %q: want host/pid/random, distinct", f.worker.Owner(), other.Owner())
	}
}

// TestTenantErrors: a tenant whose database does not answer is
// UNAVAILABLE with a message that holds no DSN; a call out of time is
// DEADLINE_EXCEEDED; an unknown tenant reached past the interceptor (a
// programming slip) is still NOT_FOUND.
func TestTenantErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withoutPurposes())
	_, err := call[*lgpdv1.ListRequestsResponse](f.other, f, listMethod, &lgpdv1.ListRequestsRequest{Tenant: "down"})
	wantCode(t, err, codes.Unavailable, "TENANT_UNAVAILABLE", "titular:pw", "127.0.0.1:1", "nowhere")
	if !strings.Contains(f.logs.String(), "tenant unavailable") {
		t.Error("the reason must be logged for the operator")
	}
	ctx, cancel := context.WithDeadline(f.dpo, time.Now().Add(-time.Second))
	defer cancel()
	f.tenant() // opened: the store's query meets the deadline
	_, err = call[*lgpdv1.ListRequestsResponse](ctx, f, listMethod, &lgpdv1.ListRequestsRequest{Tenant: "demo"})
	wantCode(t, err, codes.DeadlineExceeded, "")

	_, err = f.consent.ListPurposes(f.dpo, &lgpdv1.ListPurposesRequest{Tenant: "nowhere"})
	info := &grpc.UnaryServerInfo{FullMethod: listPurposesMethod}
	_, err = ErrorUnary(f.log)(f.dpo, nil, info, func(context.Context, any) (any, error) { return nil, err })
	wantCode(t, err, codes.NotFound, "TENANT_NOT_FOUND")
}

// TestWorkerShutdownGivesTheRequestBack: a worker cut off by a shutdown
// while processing gives its request back at once, and the attempt does
// not count: on its last attempt (max_attempts 1) the request is not
// FAILED but RECEIVED, and the next worker completes it.
func TestWorkerShutdownGivesTheRequestBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withWorkers("{per_tenant: 2, poll_interval: 1s, lease: 1m, max_attempts: 1}"))
	s := f.scenario(seed.ScenarioProspect)
	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Email: s.Email}})

	// Another transaction holds the titular's lead: the DELETE waits on it.
	lock, err := f.db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	var leadID int64
	if err := lock.QueryRow("SELECT idlead FROM leads WHERE email = ? LIMIT 1 FOR UPDATE", s.Email).Scan(&leadID); err != nil {
		t.Fatal(err)
	}
	tn := f.tenant()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := f.worker.RunOnce(ctx, tn)
		done <- err
	}()
	waitFor(t, "the worker to wait on the locked row", func() bool {
		return f.count("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND COMMAND = 'Query' AND INFO LIKE '%`leads`%' AND ID <> CONNECTION_ID()") > 0
	})
	cancel() // shutdown
	// The cut-off transaction lives on in the server until its lock wait
	// ends (the driver closes the connection; the server notices when the
	// statement returns): giving the request back waits for it.
	waitFor(t, "the worker to give the request back", func() bool {
		return f.count("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND COMMAND = 'Query' AND INFO LIKE '%lgpd_requests%' AND ID <> CONNECTION_ID()") > 0
	})
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("RunOnce cut off by shutdown: %v", err)
	}
	r := f.get(x.GetId())
	var attempts int
	if err := f.db.QueryRow("SELECT attempts FROM lgpd_requests WHERE id = ?", x.GetId()).Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if r.GetStatus() != lgpdv1.RequestStatus_RECEIVED || attempts != 0 {
		t.Fatalf("after a shutdown on its only attempt: %s with %d attempts; want RECEIVED with 0", r.GetStatus(), attempts)
	}
	if f.work() != 1 || f.get(x.GetId()).GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		t.Fatalf("the next worker did not complete it: %v", f.get(x.GetId()))
	}
}

// waitFor polls cond every 20 ms for up to 30 s (not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for until := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(until) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
