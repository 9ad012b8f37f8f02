package server

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestConsolePropagationScale checks the console's counts over a tenant
// with 325k consent records (two references merged into a third) and 100k
// deliveries, and logs how long the pages take (set TITULAR_PROP_SCALE=1;
// filling takes about 30 s). Measured on the shared 2-vCPU test machine
// under load: consent page 3.5-4.3 s reading the history, and since it
// reads lgpd_consent_current (64-104 ms); propagation page 0.07-0.22 s.
func TestConsolePropagationScale(t *testing.T) {
	if os.Getenv("TITULAR_PROP_SCALE") == "" {
		t.Skip("set TITULAR_PROP_SCALE=1 to time the pages over 300k consent records and 100k deliveries")
	}
	env := newTestEnv(t, 20)
	loadDemoPurposes(t, env)
	db := env.demoDB(t)
	for _, q := range []string{
		// 100k references × 3 purposes: a GRANT each, a later REVOKE for every 4th.
		`INSERT INTO lgpd_consents (subject_ref, purpose_id, action, term_version, at, channel, request_id)
		 SELECT CONCAT('00000000-0000-4000-8000-', LPAD(s.seq, 12, '0')), p.id, 'GRANT', '1', NOW(6), 'crm', UUID()
		 FROM seq_1_to_100000 s CROSS JOIN (SELECT 'marketing_email' AS id UNION ALL SELECT 'partner_sharing' UNION ALL SELECT 'satisfaction_survey') p`,
		`INSERT INTO lgpd_consents (subject_ref, purpose_id, action, at, channel, request_id)
		 SELECT CONCAT('00000000-0000-4000-8000-', LPAD(s.seq, 12, '0')), 'partner_sharing', 'REVOKE', NOW(6), 'crm', UUID()
		 FROM seq_1_to_100000 s WHERE s.seq % 4 = 0`,
		// Titulares 4 and 7 were merged into 5 (flat): one person, whose
		// latest partner_sharing record is 4's REVOKE.
		`INSERT INTO lgpd_subject_merges (old_ref, into_ref, person_ref, reason, kinds, merged_at) VALUES
		 ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000005', '00000000-0000-4000-8000-000000000005', 'request', 'cpf+email', NOW(6)),
		 ('00000000-0000-4000-8000-000000000007', '00000000-0000-4000-8000-000000000005', '00000000-0000-4000-8000-000000000005', 'request', 'cpf+email', NOW(6))`,
		// Rows written behind titular's back: the current consent per
		// reference rebuilt from them, as migration 0024 does.
		`INSERT IGNORE INTO lgpd_consent_current (subject_ref, purpose_id, action, consent_id)
		 SELECT c.subject_ref, c.purpose_id, c.action, c.id FROM lgpd_consents c
		 JOIN (SELECT MAX(id) AS id FROM lgpd_consents GROUP BY subject_ref, purpose_id) latest ON latest.id = c.id`,
		`INSERT INTO lgpd_outbox (seq, event_id, type, subject_ref, request_id, data_json, created_at)
		 SELECT s.seq, UUID(), 'consent.revoked', UUID(), UUID(), '{}', NOW(6) FROM seq_1_to_100000 s`,
		`INSERT INTO lgpd_outbox_deliveries (seq, endpoint, state, attempts, next_attempt_at, delivered_at)
		 SELECT s.seq, 'crm', IF(s.seq % 100 = 0, 'FAILED', 'DELIVERED'), 1, NOW(6), NOW(6) FROM seq_1_to_100000 s`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
	dpo, _ := consoleSignIn(t, env, keyDPO)
	for _, p := range []string{"/consentimento", "/propagacao", "/consentimento", "/propagacao"} {
		start := time.Now()
		code, _, body := consoleGet(t, dpo, env.baseURL+"/console/t/demo"+p)
		took := time.Since(start)
		t.Logf("%s: %s", p, took)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", p, code)
		}
		for _, want := range []string{`data-count="partner_sharing.REVOKE">25000<`, `data-count="partner_sharing.GRANT">74998<`, `data-count="marketing_email.GRANT">99998<`} {
			if p == "/consentimento" && !strings.Contains(body, want) {
				t.Errorf("consent counts at scale: %s missing", want)
			}
		}
		if p == "/propagacao" && !strings.Contains(body, `data-count="delivered">99000<`) {
			t.Errorf("delivery counts wrong at scale")
		}
	}
}
