package service

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/config"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/tenant"
)

func newIncidentRequest(s seed.Scenario, contact string) *lgpdv1.CreateIncidentRequest {
	return &lgpdv1.CreateIncidentRequest{Tenant: "demo", Title: "Acesso indevido ao CRM",
		Description:   "Credencial de um corretor usada por terceiro para consultar fichas de clientes.",
		TitularNotice: "Um terceiro consultou sua ficha cadastral usando a senha de um corretor; a senha foi trocada.",
		KnownAt:       timestamppb.New(time.Now().Add(-3 * time.Hour)), Categories: []string{"identificacao", "contato"},
		Subjects: []*lgpdv1.Subject{{Cpf: s.CPF}}, Measures: "Senha trocada e acesso por segundo fator exigido.",
		RelevantRisk: true, RiskAssessment: "Dados de contato permitem golpes dirigidos.", DpoContact: contact}
}

// TestIncidentDPOContactDefault: an incident the DPO registers without
// dpo_contact takes the tenant config's dpo.contact — the encarregado's
// contact the titular's copy already names — and that is what the
// register keeps and the titulares' notification tells them; a contact
// given (not blank) is kept as given.
func TestIncidentDPOContactDefault(t *testing.T) {
	t.Parallel()
	const configured = "encarregado@incorporadora-teste.example"
	f := newFixture(t, withTenantKeys(`, dpo: {name: "Encarregada Teste", contact: "`+configured+`"}`))
	s := f.scenario(seed.ScenarioBuyer2023)
	create := lgpdv1.IncidentService_CreateIncident_FullMethodName

	for _, c := range []struct{ name, given, want string }{
		{"left empty", "", configured},
		{"blank", "   ", configured},
		{"given", "https://incorporadora-teste.example/privacidade", "https://incorporadora-teste.example/privacidade"},
	} {
		t.Run(c.name, func(t *testing.T) {
			inc, err := call[*lgpdv1.Incident](f.dpo, f, create, newIncidentRequest(s, c.given))
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if inc.GetDpoContact() != c.want {
				t.Errorf("dpo_contact %q, want %q", inc.GetDpoContact(), c.want)
			}
			got, err := call[*lgpdv1.Incident](f.dpo, f, lgpdv1.IncidentService_GetIncident_FullMethodName,
				&lgpdv1.GetIncidentRequest{Tenant: "demo", Id: inc.GetId()})
			if err != nil || got.GetDpoContact() != c.want {
				t.Errorf("GetIncident: dpo_contact %q (%v), want %q", got.GetDpoContact(), err, c.want)
			}
			var stored string
			if err := f.db.QueryRow("SELECT dpo_contact FROM lgpd_incidents WHERE id = ?", inc.GetId()).Scan(&stored); err != nil || stored != c.want {
				t.Errorf("stored dpo_contact %q (%v), want %q", stored, err, c.want)
			}
		})
	}

	// The titulares' notification of a defaulted incident carries it.
	inc, err := call[*lgpdv1.Incident](f.dpo, f, create, newIncidentRequest(s, ""))
	if err != nil {
		t.Fatal(err)
	}
	n, err := call[*lgpdv1.Incident](f.dpo, f, lgpdv1.IncidentService_NotifyIncident_FullMethodName,
		&lgpdv1.NotifyIncidentRequest{Tenant: "demo", Id: inc.GetId(), Target: lgpdv1.NotifyTarget_TITULARES})
	if err != nil || n.GetTitularesNotification().GetEvents() != 1 {
		t.Fatalf("notify the titulares: %v (%v), want one event", n, err)
	}
	var raw string
	if err := f.db.QueryRow("SELECT data_json FROM lgpd_outbox WHERE type = 'incident.notified' AND data_json LIKE ?",
		"%"+inc.GetId()+"%").Scan(&raw); err != nil {
		t.Fatalf("incident.notified event: %v", err)
	}
	var data struct {
		IncidentID string `json:"incident_id"`
		DPOContact string `json:"dpo_contact"`
	}
	if err := json.Unmarshal([]byte(raw), &data); err != nil || data.IncidentID != inc.GetId() || data.DPOContact != configured {
		t.Errorf("incident.notified data %s (%v): want the configured dpo_contact", raw, err)
	}
	f.assertNoPersonalData([]seed.Scenario{s})
}

// TestIncidentDPOContactRefused: with no dpo_contact and no dpo.contact in
// the tenant config, a registration is refused saying both ways to fix it,
// and nothing is registered; a config contact longer than the register
// keeps is refused as such, not as a missing field.
func TestIncidentDPOContactRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // the demo tenant's config names no encarregado
	s := f.scenario(seed.ScenarioBuyer2023)
	_, err := call[*lgpdv1.Incident](f.dpo, f, lgpdv1.IncidentService_CreateIncident_FullMethodName, newIncidentRequest(s, ""))
	wantCode(t, err, codes.InvalidArgument, "BAD_INCIDENT", s.CPF)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "dpo_contact is required") || !strings.Contains(msg, "dpo.contact in the tenant config") {
		t.Errorf("refusal %q does not say how to fix it", msg)
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_incidents"); n != 0 {
		t.Errorf("a refused incident left %d rows", n)
	}
	if _, err := call[*lgpdv1.Incident](f.dpo, f, lgpdv1.IncidentService_CreateIncident_FullMethodName,
		newIncidentRequest(s, "dpo@teste.example")); err != nil {
		t.Errorf("with dpo_contact given and none configured: %v", err)
	}

	// The config allows 300 characters per notice value; an incident
	// keeps 255 bytes.
	long := &tenant.Tenant{Config: config.Tenant{DPO: config.Contact{Contact: "https://teste.example/" + strings.Repeat("privacidade/", 22)}}}
	_, err = incidentDPOContact(long, "")
	if st := status.Convert(toStatus(context.Background(), f.log, "test", err)); st.Code() != codes.InvalidArgument ||
		!strings.Contains(st.Message(), "tenant config's dpo.contact is longer than the 255 bytes") {
		t.Errorf("a too long config contact: %v", err)
	}
	if got, err := incidentDPOContact(long, "dpo@teste.example"); err != nil || got != "dpo@teste.example" {
		t.Errorf("a contact given beside a too long config one: %q %v", got, err)
	}
}
