package server

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"testing"

	"github.com/titular/titular/ledger"
)

// restDelete is the JSON shape of a DELETE's result over REST.
type restDelete struct {
	Status string `json:"status"`
	Result struct {
		Delete struct {
			Complete bool `json:"complete"`
			Entities []struct {
				Entity  string `json:"entity"`
				Deleted string `json:"deleted"`
				Blocked string `json:"blocked"`
			} `json:"entities"`
			Holds []struct {
				Entity         string `json:"entity"`
				Basis          string `json:"basis"`
				LegalReference string `json:"legal_reference"`
				Until          string `json:"until"`
			} `json:"holds"`
			Attachments []struct {
				Entity, Key, State string
			} `json:"attachments"`
		} `json:"delete"`
		Correct struct {
			Entities []struct {
				Entity string `json:"entity"`
				Rows   string `json:"rows"`
			} `json:"entities"`
			TotalRows string `json:"total_rows"`
		} `json:"correct"`
	} `json:"result"`
	Reasons []struct {
		Code           string `json:"code"`
		Entity         string `json:"entity"`
		LegalReference string `json:"legal_reference"`
		Until          string `json:"until"`
	} `json:"reasons"`
}

// TestRESTDeleteAndCorrect runs the erasure and correction rights through
// REST on the seeded scenarios.
func TestRESTDeleteAndCorrect(t *testing.T) {
	env := newTestEnv(t, 120)

	// A consent-only lead disappears: CONFIRM afterwards finds nothing.
	lead := env.scenario(t, "lead_somente_consentimento")
	d := env.createREST(t, keyBackend, map[string]any{"kind": "DELETE", "subject": map[string]any{"email": lead.Email}})
	done := env.waitREST(t, d.ID)
	_, _, raw := env.rest(t, "GET", "/v1/tenants/demo/requests/"+d.ID, keyDPO, nil)
	res := decode[restDelete](t, raw)
	if done.Status != "COMPLETED" || !res.Result.Delete.Complete || len(res.Reasons) != 0 {
		t.Fatalf("consent-only lead DELETE: %s", raw)
	}
	c := env.createREST(t, keyBackend, map[string]any{"kind": "CONFIRM", "subject": map[string]any{"cpf": lead.CPF}})
	if c.Result == nil || c.Result.Confirm == nil || c.Result.Confirm.HasPersonalData {
		t.Errorf("CONFIRM after a complete DELETE still finds data: %+v", c.Result)
	}

	// The 2023 buyer: partial, each hold named with basis, reference and date.
	buyer := env.scenario(t, "comprador_2023")
	d = env.createREST(t, keyDPO, map[string]any{"kind": "DELETE", "subject": map[string]any{"cpf": buyer.CPF}})
	env.waitREST(t, d.ID)
	_, _, raw = env.rest(t, "GET", "/v1/tenants/demo/requests/"+d.ID, keyDPO, nil)
	res = decode[restDelete](t, raw)
	if res.Status != "COMPLETED" || res.Result.Delete.Complete {
		t.Fatalf("buyer DELETE must complete partially: %s", raw)
	}
	var saleHold bool
	for _, r := range res.Reasons {
		saleHold = saleHold || (r.Code == "RETENTION_HOLD" && r.Entity == "reserva" && r.LegalReference != "" && r.Until != "")
	}
	if !saleHold {
		t.Errorf("no RETENTION_HOLD reason for the sale with reference and date: %s", raw)
	}
	if strings.Contains(string(raw), buyer.CPF) || strings.Contains(string(raw), buyer.Email) {
		t.Error("the DELETE result echoes the titular's identifiers")
	}
	// The ledger's COMPLETED leaf commits to the outcome the titular was
	// given, holds included: the SHA-256 of the recorded result and reasons.
	rc := get[restReceipt](t, env, "/v1/tenants/demo/requests/"+d.ID+"/receipt", keyDPO)
	leaf, err := ledger.Unmarshal(rc.Leaf)
	if err != nil || leaf.To != "COMPLETED" {
		t.Fatalf("receipt leaf: %+v, %v", leaf, err)
	}
	var result, reasons string
	if err := env.demoDB(t).QueryRow("SELECT result_json, reasons_json FROM lgpd_requests WHERE id = ?", d.ID).Scan(&result, &reasons); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte(result + "\n" + reasons))
	var committed bool
	for _, dg := range leaf.Digests {
		committed = committed || (dg.Name == "outcome" && dg.SHA256 == want)
	}
	if !committed || !strings.Contains(reasons, "RETENTION_HOLD") {
		t.Errorf("the COMPLETED leaf must carry the digest of the outcome naming the holds: %+v", leaf.Digests)
	}
	var events int
	if err := env.demoDB(t).QueryRow("SELECT COUNT(*) FROM lgpd_outbox WHERE request_id = ? AND type IN ('subject.deleted', 'subject.blocked')", d.ID).Scan(&events); err != nil || events != 2 {
		t.Errorf("a partial DELETE must enqueue subject.deleted and subject.blocked: %d, %v", events, err)
	}
}

func TestRESTCorrect(t *testing.T) {
	env := newTestEnv(t, 120)
	s := env.scenario(t, "mesmo_cpf_varias_tabelas")
	code, _, raw := env.rest(t, "POST", "/v1/tenants/demo/requests", keyBackend, map[string]any{
		"kind": "CORRECT", "subject": map[string]any{"cpf": s.CPF},
		"correction": map[string]any{"fields": map[string]any{"email": "  Novo.Email@Example.ORG "}},
	})
	if code != http.StatusOK {
		t.Fatalf("CORRECT: HTTP %d %s", code, raw)
	}
	res := decode[restDelete](t, raw)
	if res.Status != "COMPLETED" || res.Result.Correct.TotalRows == "0" || len(res.Result.Correct.Entities) < 2 {
		t.Fatalf("CORRECT must complete in the call and reach every copy: %s", raw)
	}
	// The titular is now found by the new, normalized e-mail.
	c := env.createREST(t, keyBackend, map[string]any{"kind": "CONFIRM", "subject": map[string]any{"email": "novo.email@example.org"}})
	if c.Result == nil || c.Result.Confirm == nil || !c.Result.Confirm.HasPersonalData {
		t.Errorf("CONFIRM by the corrected e-mail finds nothing: %+v", c.Result)
	}

	// The correction is propagated to sharing recipients through the
	// outbox, naming the field, never the values.
	var data string
	if err := env.demoDB(t).QueryRow("SELECT data_json FROM lgpd_outbox WHERE type = 'subject.corrected' ORDER BY seq DESC LIMIT 1").Scan(&data); err != nil {
		t.Fatalf("no subject.corrected event in the outbox: %v", err)
	}
	if !strings.Contains(data, `"email"`) || strings.Contains(strings.ToLower(data), "novo.email") {
		t.Errorf("propagation payload %s must name the field and hold no value", data)
	}

	other := env.scenario(t, "pep")
	for _, tc := range []struct {
		name   string
		fields map[string]any
		reason string
	}{
		{"unknown field", map[string]any{"salario": "1"}, "FIELD_NOT_CORRECTABLE"},
		{"invalid e-mail", map[string]any{"email": "not-an-email"}, "INVALID_VALUE"},
		{"nothing to correct", map[string]any{}, "CORRECTION_REQUIRED"},
		{"another person's CPF", map[string]any{"cpf": other.CPF}, "UNIQUE_CONFLICT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, raw := env.rest(t, "POST", "/v1/tenants/demo/requests", keyBackend, map[string]any{
				"kind": "CORRECT", "subject": map[string]any{"cpf": s.CPF}, "correction": map[string]any{"fields": tc.fields},
			})
			if code != http.StatusBadRequest || decode[restError](t, raw).reason() != tc.reason {
				t.Errorf("HTTP %d %s, want 400 %s", code, raw, tc.reason)
			}
			if strings.Contains(string(raw), other.CPF) || strings.Contains(string(raw), "not-an-email") {
				t.Errorf("error echoes the value: %s", raw)
			}
		})
	}
}
