package server

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
)

// TestConsentBatchConcurrent sends many CONSENTs at once so they share
// batch transactions: each caller gets its own outcome, every request has
// one event and one ledger leaf (→ COMPLETED), revocations their outbox rows, a
// stale GRANT fails alone and a repeated idempotency key yields one request.
func TestConsentBatchConcurrent(t *testing.T) {
	env := newTestEnv(t, 20)
	loadDemoPurposes(t, env)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyBackend)
	reqs := lgpdv1.NewRequestServiceClient(env.grpc)
	const n = 40
	type out struct {
		r   *lgpdv1.Request
		err error
	}
	results := make([]out, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			action, version, key := lgpdv1.ConsentAction_REVOKE, "", ""
			if i%2 == 0 {
				action, version = lgpdv1.ConsentAction_GRANT, "1"
			}
			if i == 1 {
				action, version = lgpdv1.ConsentAction_GRANT, "9" // not the term in force
			}
			email := fmt.Sprintf("batch-%d@example.com", i)
			if i == 2 || i == 3 {
				action, version, key, email = lgpdv1.ConsentAction_GRANT, "1", "same-key", "batch-dup@example.com"
			}
			r, err := reqs.CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONSENT,
				IdempotencyKey: key, Subject: &lgpdv1.Subject{Email: email},
				Consent: &lgpdv1.ConsentChange{Purpose: "marketing_email", Action: action, TermVersion: version,
					Evidence: &lgpdv1.ConsentEvidence{Channel: "portal", Ip: evidenceIP}}})
			results[i] = out{r, err}
		}()
	}
	wg.Wait()
	ids := map[string]bool{}
	revokes := 0
	for i, o := range results {
		if i == 1 {
			if status.Code(o.err) != codes.FailedPrecondition {
				t.Errorf("stale GRANT: %v, want FAILED_PRECONDITION", o.err)
			}
			continue
		}
		if o.err != nil || o.r.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
			t.Fatalf("CONSENT %d: %v %v", i, o.r, o.err)
		}
		ids[o.r.GetId()] = true
		if i%2 == 1 && i != 3 {
			revokes++
		}
	}
	if results[2].r.GetId() != results[3].r.GetId() {
		t.Errorf("same idempotency key gave two requests: %s %s", results[2].r.GetId(), results[3].r.GetId())
	}
	if len(ids) != n-2 {
		t.Errorf("%d distinct requests, want %d", len(ids), n-2)
	}
	db := env.demoDB(t)
	var reqCount, events, leaves, consents, outbox, deliveries int
	if err := db.QueryRow(`SELECT
 (SELECT COUNT(*) FROM lgpd_requests WHERE kind = 'CONSENT'),
 (SELECT COUNT(*) FROM lgpd_request_events e JOIN lgpd_requests r ON r.id = e.request_id WHERE r.kind = 'CONSENT'),
 (SELECT COUNT(*) FROM lgpd_ledger_pending p JOIN lgpd_requests r ON r.id = p.request_id WHERE r.kind = 'CONSENT') +
 (SELECT COUNT(*) FROM lgpd_ledger_entries p JOIN lgpd_requests r ON r.id = p.request_id WHERE r.kind = 'CONSENT'),
 (SELECT COUNT(*) FROM lgpd_consents),
 (SELECT COUNT(*) FROM lgpd_outbox WHERE type = 'consent.revoked'),
 (SELECT COUNT(*) FROM lgpd_outbox_deliveries)`).Scan(&reqCount, &events, &leaves, &consents, &outbox, &deliveries); err != nil {
		t.Fatal(err)
	}
	if reqCount != n-2 || events != n-2 || leaves != n-2 || consents != n-2 || outbox != revokes {
		t.Errorf("requests %d events %d leaves %d consents %d outbox %d; want %d, %d, %d, %d, %d",
			reqCount, events, leaves, consents, outbox, n-2, n-2, n-2, n-2, revokes)
	}
	// The one event is the single step a CONSENT takes, with its note.
	var badEvents int
	if err := db.QueryRow(`SELECT COUNT(*) FROM lgpd_request_events e JOIN lgpd_requests r ON r.id = e.request_id
 WHERE r.kind = 'CONSENT' AND NOT (e.from_status IS NULL AND e.to_status = 'COMPLETED' AND e.note LIKE 'consent %')`).Scan(&badEvents); err != nil {
		t.Fatal(err)
	}
	if badEvents != 0 {
		t.Errorf("%d CONSENT events are not the single NULL -> COMPLETED step with its note", badEvents)
	}
	var buf bytes.Buffer
	if err := runCLI(t, &buf, "ledger", "verify", "--config", filepath.Join(env.cfg.Dir, "titular.yaml"), "--tenant", "demo"); err != nil {
		t.Fatalf("ledger verify: %v\n%s", err, buf.String())
	}
}
