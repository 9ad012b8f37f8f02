package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/metadata"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
)

// consentPurpose is a demo purpose (examples/realestate/purposes.yaml)
// whose revocation goes to the configured webhook.
const consentPurpose = "marketing_email"

func consentScenario() Scenario {
	return Scenario{
		Name: "consent",
		About: "concurrent consent writes: full CONSENT requests (a REVOKE: request, state events and ledger leaves, " +
			"consent record, outbox event and webhook delivery row, one transaction) through gRPC and REST, " +
			"vs plain single-row INSERT transactions at the same concurrency",
		Run: func(ctx context.Context, env *Env) ([]Result, error) {
			if _, err := env.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_consent_baseline (
 id BIGINT NOT NULL AUTO_INCREMENT, subject VARCHAR(100) NOT NULL, purpose VARCHAR(64) NOT NULL,
 action VARCHAR(8) NOT NULL, at DATETIME(6) NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB`); err != nil {
				return nil, fmt.Errorf("baseline table: %w", err)
			}
			// Each operation is a new titular, so no request waits on another's row locks.
			run, next := randomHex(4), atomic.Uint64{}
			email := func(variant string) string {
				return fmt.Sprintf("bench-%s-%s-%d@example.com", variant, run, next.Add(1))
			}
			n := env.opts.Clients
			return compare(ctx, env, comparison{
				scenario: "consent",
				variants: []variant{
					{name: "baseline", clients: n, what: "INSERT of one consent-shaped row in its own transaction",
						op: func(ctx context.Context) (int64, error) { return 1, env.insertConsentRow(ctx, email("raw")) }},
					{name: "grpc", clients: n, what: "gRPC CreateRequest CONSENT (REVOKE " + consentPurpose + ") answered COMPLETED",
						op:   func(ctx context.Context) (int64, error) { return 1, env.grpcConsent(ctx, email("grpc")) },
						goal: &goal{text: "ratio ≥ 0.5", met: func(r Result) bool { return r.Ratio >= 0.5 }}},
					{name: "rest", clients: n, what: "REST POST /v1/tenants/{tenant}/requests CONSENT (REVOKE " + consentPurpose + ") answered COMPLETED",
						op:   func(ctx context.Context) (int64, error) { return 1, env.restConsent(ctx, email("rest")) },
						goal: &goal{text: "ratio ≥ 0.4", met: func(r Result) bool { return r.Ratio >= 0.4 }}},
				},
				ratio: rateRatio, ratioMeans: "consent records/s relative to the baseline's INSERT transactions/s",
			})
		},
	}
}

func (e *Env) insertConsentRow(ctx context.Context, subject string) error {
	return inTx(ctx, e.db, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO bench_consent_baseline (subject, purpose, action, at) VALUES (?, ?, ?, ?)",
			subject, consentPurpose, "REVOKE", time.Now().UTC())
		return err
	})
}

func consentEvidence() *lgpdv1.ConsentEvidence {
	return &lgpdv1.ConsentEvidence{Channel: "portal", Ip: "198.51.100.1", UserAgent: "titular-bench"}
}

func (e *Env) grpcConsent(ctx context.Context, email string) error {
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+e.apiKey)
	r, err := lgpdv1.NewRequestServiceClient(e.grpc).CreateRequest(ctx, &lgpdv1.CreateRequestRequest{Tenant: tenantID,
		Kind: lgpdv1.RequestKind_CONSENT, Subject: &lgpdv1.Subject{Email: email},
		Consent: &lgpdv1.ConsentChange{Purpose: consentPurpose, Action: lgpdv1.ConsentAction_REVOKE, Evidence: consentEvidence()}})
	if err != nil {
		return fmt.Errorf("CreateRequest CONSENT: %w", err)
	}
	if r.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		return fmt.Errorf("the CONSENT request ended %s", r.GetStatus())
	}
	return nil
}

func (e *Env) restConsent(ctx context.Context, email string) error {
	body, err := json.Marshal(map[string]any{"kind": "CONSENT", "subject": map[string]string{"email": email},
		"consent": map[string]any{"purpose": consentPurpose, "action": "REVOKE",
			"evidence": map[string]string{"channel": "portal", "ip": "198.51.100.1", "user_agent": "titular-bench"}}})
	if err != nil {
		return err
	}
	var r restRequest
	if err := e.rest(ctx, http.MethodPost, "/v1/tenants/"+tenantID+"/requests", string(body), &r); err != nil {
		return err
	}
	if !strings.EqualFold(r.Status, "COMPLETED") {
		return fmt.Errorf("the CONSENT request ended %s", r.Status)
	}
	return nil
}
