package demo_test

import "testing"

// TestDemoConsole: every console page answers on the demo's embedded
// engine (go-mysql-server), as `titular demo` serves it, after an EXTRACT
// and a CONSENT: the queries behind the queue, the report, the consent
// counts, the record and a verify run are ones that engine runs too.
func TestDemoConsole(t *testing.T) {
	api, d := startDemoAPI(t)
	cpf := d.Scenarios[0].CPF
	var ext, con demoRequest
	var purpose, term map[string]any
	api.call(t, "POST", "/purposes", map[string]any{"id": "marketing_email", "name": "Ofertas por e-mail", "description": "Ofertas de imóveis por e-mail.",
		"legal_basis": "consentimento", "consent_required": true, "refusal_consequences": "Nenhuma."}, &purpose)
	api.call(t, "POST", "/purposes/marketing_email/terms", map[string]any{"version": "1", "text": "Aceito receber ofertas por e-mail."}, &term)
	api.call(t, "POST", "/requests", map[string]any{"kind": "EXTRACT", "subject": map[string]any{"cpf": cpf}}, &ext)
	api.call(t, "POST", "/requests", map[string]any{"kind": "CONSENT", "subject": map[string]any{"cpf": cpf},
		"consent": map[string]any{"purpose": "marketing_email", "action": "GRANT", "term_version": "1", "evidence": map[string]any{"channel": "portal"}}}, &con)
	waitDone(t, api, ext.ID)
	waitDone(t, api, con.ID)
}
