package service

import (
	"encoding/json"
	"testing"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
)

// TestExportConsentEvidenceByRole: the consent receipt in an EXTRACT's
// export carries the evidence (IP, user agent) when the DPO asked, and
// not when the CRM backend did, unless the tenant allows it.
func TestExportConsentEvidenceByRole(t *testing.T) {
	t.Parallel()
	receiptOf := func(t *testing.T, f *fixture, key string) []map[string]any {
		t.Helper()
		ctx := caller(key)
		buyer := f.scenario(seed.ScenarioBuyer2023)
		x := f.create(ctx, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
		if n := f.work(); n != 1 {
			t.Fatalf("worked %d requests", n)
		}
		body, _, _, err := f.download(ctx, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"})
		if err != nil {
			t.Fatal(err)
		}
		var doc exportDoc
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.rows(consentReceiptEntity)
	}
	grant := func(f *fixture) {
		buyer := f.scenario(seed.ScenarioBuyer2023)
		f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONSENT, Subject: &lgpdv1.Subject{Cpf: buyer.CPF},
			Consent: &lgpdv1.ConsentChange{Purpose: "marketing_email", Action: lgpdv1.ConsentAction_GRANT, TermVersion: "1",
				Evidence: &lgpdv1.ConsentEvidence{Channel: "portal", Ip: evidenceIP, UserAgent: evidenceUA}}})
	}

	f := newFixture(t)
	grant(f)
	if rows := receiptOf(t, f, keyBackend); len(rows) != 1 || rows[0]["ip"] != nil || rows[0]["user_agent"] != nil {
		t.Errorf("backend's export: %v, want the grant without IP or user agent", rows)
	}
	if rows := receiptOf(t, f, keyDPO); len(rows) != 1 || rows[0]["ip"] != evidenceIP || rows[0]["user_agent"] != evidenceUA {
		t.Errorf("DPO's export: %v, want the grant with its evidence", rows)
	}

	allowed := newFixture(t, withBackendEvidence())
	grant(allowed)
	if rows := receiptOf(t, allowed, keyBackend); len(rows) != 1 || rows[0]["ip"] != evidenceIP {
		t.Errorf("backend's export where the tenant allows it: %v, want the evidence", rows)
	}
}
