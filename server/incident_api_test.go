package server

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/service"
	"github.com/titular/titular/store"
	"github.com/titular/titular/webhook"
)

// withIncidentWebhook points the demo tenant's incident.notified events at
// rc, the CRM that e-mails the titulares.
func withIncidentWebhook(t *testing.T, rc *receiver) envOption {
	t.Setenv("TITULAR_TEST_WEBHOOK_SECRET", webhookSecret)
	return func(y string) string {
		y = strings.Replace(y, "{id: demo, ", fmt.Sprintf(`{id: demo, webhooks: [{name: crm, url: %q, secret_env: TITULAR_TEST_WEBHOOK_SECRET, events: [incident.notified]}], `, rc.srv.URL+"/lgpd"), 1)
		return y + "webhook_delivery: {timeout: 500ms, min_backoff: 200ms, max_backoff: 400ms, max_attempts: 8}\n"
	}
}

// restIncident is an Incident as the REST gateway writes it.
type restIncident struct {
	ID               string   `json:"id"`
	KnownAt          string   `json:"known_at"`
	DueAt            string   `json:"due_at"`
	Overdue          bool     `json:"overdue"`
	Categories       []string `json:"categories"`
	SubjectsAffected int      `json:"subjects_affected"`
	Measures         string   `json:"measures"`
	UpdatedBy        string   `json:"updated_by"`
	ANPD             *struct {
		Protocol string `json:"protocol"`
		OnTime   bool   `json:"on_time"`
		By       string `json:"by"`
	} `json:"anpd_notification"`
}

func incidentBody(known time.Time, extra map[string]any) map[string]any {
	b := map[string]any{
		"title":           "Vazamento de planilha de clientes",
		"description":     "Planilha exportada do CRM enviada por engano a um fornecedor.",
		"titular_notice":  "Seus dados cadastrais foram enviados por engano a um fornecedor, que confirmou a exclusão.",
		"known_at":        known.UTC().Format(time.RFC3339Nano),
		"categories":      []string{"identificacao", "contato"},
		"measures":        "Fornecedor apagou o arquivo; exportações restritas ao perfil administrador.",
		"relevant_risk":   true,
		"risk_assessment": "Dados de contato e CPF permitem golpes de engenharia social.",
		"dpo_contact":     "encarregado@incorporadora.example.com",
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// TestIncidentNotifiedWithinItsClock registers an incident from a list of
// identifiers through REST, checks that only subject references were
// stored, notifies the titulares over gRPC and sees one signed
// incident.notified event per titular reach the CRM's webhook before the
// 3-business-day deadline, records the ANPD's protocol, and finds each step
// in the ledger with no personal data. Backend and auditor keys are
// refused.
func TestIncidentNotifiedWithinItsClock(t *testing.T) {
	rc := newReceiver(t)
	env := newTestEnv(t, 30, withIncidentWebhook(t, rc))
	buyer := env.scenario(t, "comprador_2023")
	lead := env.scenario(t, "lead_somente_consentimento")
	known := time.Now().Add(-2 * time.Hour).Truncate(time.Microsecond)
	body := incidentBody(known, map[string]any{"subjects": []map[string]any{
		{"cpf": brdoc.FormatCPF(buyer.CPF)}, {"email": strings.ToUpper(lead.Email)}, {"cpf": buyer.CPF},
	}})

	for _, key := range []string{keyBackend, keyAuditor} {
		if code, _, b := env.rest(t, "POST", "/v1/tenants/demo/incidents", key, body); code != http.StatusForbidden {
			t.Errorf("a %s key registered an incident: HTTP %d %s", key, code, b)
		}
	}
	code, _, b := env.rest(t, "POST", "/v1/tenants/demo/incidents", keyDPO, body)
	if code != http.StatusOK {
		t.Fatalf("create incident: HTTP %d %s", code, b)
	}
	inc := decode[restIncident](t, b)
	due, _ := time.Parse(time.RFC3339Nano, inc.DueAt)
	if want := service.IncidentDueAt(known); !due.Equal(want) || inc.Overdue || inc.SubjectsAffected != 2 {
		t.Errorf("incident: due %s (want %s), overdue %v, %d subjects (want 2: the buyer twice is one titular)", due, want, inc.Overdue, inc.SubjectsAffected)
	}

	db := env.demoDB(t)
	// The identifiers are nowhere in the register: only references.
	var row string
	if err := db.QueryRow(`SELECT CONCAT_WS('|', title, description, titular_notice, categories_json, entities_json, measures,
 risk_assessment, dpo_contact, created_by) FROM lgpd_incidents WHERE id = ?`, inc.ID).Scan(&row); err != nil {
		t.Fatal(err)
	}
	refs := incidentRefs(t, db, inc.ID)
	stored := row + "|" + strings.Join(refs, "|")
	for _, n := range append(append(brdoc.CPFShapes(buyer.CPF), brdoc.CPFShapes(lead.CPF)...), buyer.Email, lead.Email) {
		if n != "" && strings.Contains(strings.ToLower(stored), strings.ToLower(n)) {
			t.Errorf("the incident register stores an identifier (%s)", n)
		}
	}
	// The references are the titulares' own: a request about the buyer
	// resolves to one of them.
	confirm := env.createREST(t, keyBackend, map[string]any{"kind": "CONFIRM", "subject": map[string]any{"cpf": buyer.CPF}})
	if len(refs) != 2 || !slices.Contains(refs, confirm.SubjectRef) {
		t.Errorf("incident subjects %v; want 2, among them the buyer's reference %s", refs, confirm.SubjectRef)
	}

	// An update and the titulares' notification, over gRPC.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyDPO)
	client := lgpdv1.NewIncidentServiceClient(env.grpc)
	measures := "Fornecedor apagou o arquivo; senhas redefinidas; exportações restritas."
	up, err := client.UpdateIncident(ctx, &lgpdv1.UpdateIncidentRequest{Tenant: "demo", Id: inc.ID, Measures: &measures})
	if err != nil || up.GetMeasures() != measures || up.GetUpdatedBy() != "dpo" || up.GetTitle() == "" {
		t.Fatalf("update: %v %+v", err, up)
	}
	notified, err := client.NotifyIncident(ctx, &lgpdv1.NotifyIncidentRequest{Tenant: "demo", Id: inc.ID, Target: lgpdv1.NotifyTarget_TITULARES})
	if err != nil {
		t.Fatal(err)
	}
	if n := notified.GetTitularesNotification(); n.GetEvents() != 2 || !n.GetOnTime() || n.GetBy() != "dpo" {
		t.Errorf("titulares notification: %+v", n)
	}
	_, err = client.NotifyIncident(ctx, &lgpdv1.NotifyIncidentRequest{Tenant: "demo", Id: inc.ID, Target: lgpdv1.NotifyTarget_TITULARES})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "already notified") {
		t.Errorf("a second notification of the titulares: %v; want FAILED_PRECONDITION saying they were", err)
	}
	backendCtx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyBackend)
	if _, err := client.GetIncident(backendCtx, &lgpdv1.GetIncidentRequest{Tenant: "demo", Id: inc.ID}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("backend read an incident over gRPC: %v", err)
	}

	waitFor(t, "both incident events delivered", func() bool {
		n := 0
		for _, h := range rc.got() {
			if h.status == http.StatusOK {
				n++
			}
		}
		return n >= 2
	})
	var got []string
	for _, h := range rc.got() {
		if h.at.After(due) {
			t.Errorf("an event arrived at %s, after the deadline %s", h.at, due)
		}
		var ev webhook.Event
		if err := json.Unmarshal(h.body, &ev); err != nil {
			t.Fatal(err)
		}
		var data struct {
			IncidentID   string   `json:"incident_id"`
			Categories   []string `json:"categories"`
			WhatHappened string   `json:"what_happened"`
			Measures     string   `json:"measures"`
			DPOContact   string   `json:"dpo_contact"`
		}
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatal(err)
		}
		if !h.signed || h.typ != store.EventIncidentNotified || ev.Tenant != "demo" || data.IncidentID != inc.ID ||
			data.WhatHappened != body["titular_notice"] || data.Measures != measures || data.DPOContact != body["dpo_contact"] ||
			!slices.Equal(data.Categories, []string{"identificacao", "contato"}) {
			t.Errorf("event: signed=%v type=%s %+v data %+v", h.signed, h.typ, ev, data)
		}
		for _, n := range append(append(brdoc.CPFShapes(buyer.CPF), brdoc.CPFShapes(lead.CPF)...), buyer.Email, lead.Email, buyer.FullName) {
			if n != "" && strings.Contains(strings.ToLower(string(h.body)), strings.ToLower(n)) {
				t.Errorf("the event body carries personal data (%s)", n)
			}
		}
		got = append(got, ev.SubjectRef)
	}
	slices.Sort(got)
	if !slices.Equal(got, refs) {
		t.Errorf("events went to %v; want one per subject reference %v", got, refs)
	}

	// The ANPD's communication, over REST.
	code, _, b = env.rest(t, "POST", "/v1/tenants/demo/incidents/"+inc.ID+":notify", keyDPO, map[string]any{"target": "ANPD", "protocol": "00261.000123/2026-11"})
	if code != http.StatusOK {
		t.Fatalf("notify ANPD: HTTP %d %s", code, b)
	}
	if got := decode[restIncident](t, b); got.ANPD == nil || got.ANPD.Protocol != "00261.000123/2026-11" || !got.ANPD.OnTime || got.Overdue {
		t.Errorf("ANPD notification: %s", b)
	}
	if code, _, b := env.rest(t, "POST", "/v1/tenants/demo/incidents/"+inc.ID+":notify", keyDPO, map[string]any{"target": "ANPD"}); code != http.StatusBadRequest || !strings.Contains(string(b), "protocol is required") {
		t.Errorf("ANPD notification without a protocol: HTTP %d %s", code, b)
	}

	// The ledger: registered, updated, titulares notified, ANPD notified;
	// no subject reference or text in the leaves.
	var events []string
	for _, l := range incidentLeaves(t, db, inc.ID) {
		events = append(events, l.Event+":"+l.To)
		digests := map[string][32]byte{}
		for _, d := range l.Digests {
			digests[d.Name] = d.SHA256
		}
		if _, ok := digests["incident.record"]; l.Kind != store.KindIncident || l.SubjectRef != "" || !ok {
			t.Errorf("leaf %+v", l)
		}
		// The titulares' notification vouches for exactly the references
		// told; the ANPD's for the protocol.
		if l.To == "TITULARES_NOTIFIED" && digests["incident.subjects"] != sha256.Sum256([]byte(strings.Join(refs, "\n"))) {
			t.Errorf("the titulares' notification leaf does not carry the digest of %v: %+v", refs, l.Digests)
		}
		if _, ok := digests["incident.anpd"]; l.To == "ANPD_NOTIFIED" && !ok {
			t.Errorf("the ANPD's notification leaf has no incident.anpd digest: %+v", l.Digests)
		}
	}
	slices.Sort(events)
	want := []string{"incident.notified:ANPD_NOTIFIED", "incident.notified:TITULARES_NOTIFIED", "incident.registered:REGISTERED", "incident.updated:UPDATED"}
	if !slices.Equal(events, want) {
		t.Errorf("ledger leaves %v, want %v", events, want)
	}
}

// TestIncidentEntitiesAndOverdue registers an incident over every titular
// with rows in an entity (compared with the test's own count), another
// known 10 days ago (overdue, listed as such), and refuses bad input with
// the fix.
func TestIncidentEntitiesAndOverdue(t *testing.T) {
	env := newTestEnv(t, 20)
	db := env.demoDB(t)
	var rows, distinct int
	if err := db.QueryRow("SELECT COUNT(*), COUNT(DISTINCT cpf) FROM usuarios WHERE cpf IS NOT NULL").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows == 0 {
		t.Fatal("the seed has no usuarios; the entity scope would be vacuous")
	}
	code, _, b := env.rest(t, "POST", "/v1/tenants/demo/incidents", keyDPO, incidentBody(time.Now().Add(-time.Hour), map[string]any{"entities": []string{"usuario"}}))
	if code != http.StatusOK {
		t.Fatalf("create incident over usuario: HTTP %d %s", code, b)
	}
	byEntity := decode[restIncident](t, b)
	if byEntity.SubjectsAffected != distinct {
		t.Errorf("usuario holds %d distinct CPFs; the incident counted %d titulares", distinct, byEntity.SubjectsAffected)
	}

	code, _, b = env.rest(t, "PATCH", "/v1/tenants/demo/incidents/"+byEntity.ID, keyDPO, map[string]any{"measures": "Senhas de todos os usuários redefinidas."})
	if patched := decode[restIncident](t, b); code != http.StatusOK || patched.Measures != "Senhas de todos os usuários redefinidas." || patched.SubjectsAffected != distinct {
		t.Errorf("PATCH measures: HTTP %d %s", code, b)
	}
	if code, _, b := env.rest(t, "PATCH", "/v1/tenants/demo/incidents/"+byEntity.ID, keyDPO, map[string]any{}); code != http.StatusBadRequest || !strings.Contains(string(b), "set at least one of") {
		t.Errorf("an empty PATCH: HTTP %d %s", code, b)
	}

	old := time.Now().AddDate(0, 0, -10)
	code, _, b = env.rest(t, "POST", "/v1/tenants/demo/incidents", keyDPO, incidentBody(old, map[string]any{"entities": []string{"usuario"}}))
	if code != http.StatusOK {
		t.Fatalf("create old incident: HTTP %d %s", code, b)
	}
	late := decode[restIncident](t, b)
	if !late.Overdue {
		t.Errorf("an incident known 10 days ago and never notified is not overdue: %s", b)
	}
	code, _, b = env.rest(t, "GET", "/v1/tenants/demo/incidents?overdue_only=true", keyDPO, nil)
	listed := decode[struct {
		Incidents []restIncident `json:"incidents"`
	}](t, b)
	if code != http.StatusOK || len(listed.Incidents) != 1 || listed.Incidents[0].ID != late.ID {
		t.Errorf("overdue list: HTTP %d %s; want only %s", code, b, late.ID)
	}
	code, _, b = env.rest(t, "GET", "/v1/tenants/demo/incidents?page_size=1", keyDPO, nil)
	page := decode[struct {
		Incidents []restIncident `json:"incidents"`
		Next      string         `json:"next_page_token"`
	}](t, b)
	if code != http.StatusOK || len(page.Incidents) != 1 || page.Incidents[0].ID != byEntity.ID || page.Next == "" {
		t.Errorf("first page: HTTP %d %s; want the newest known, %s, and a next page", code, b, byEntity.ID)
	}

	for name, c := range map[string]struct {
		body map[string]any
		want string
	}{
		"a child entity":      {incidentBody(time.Now(), map[string]any{"entities": []string{"repasse"}}), "use pessoa, lead"},
		"an unknown category": {incidentBody(time.Now(), map[string]any{"subjects": []map[string]any{{"cpf": env.scenario(t, "pep").CPF}}, "categories": []string{"gostos"}}), "is not a category of this tenant's data map"},
		"no titulares":        {incidentBody(time.Now(), nil), "name the titulares affected"},
		"a bad CPF":           {incidentBody(time.Now(), map[string]any{"subjects": []map[string]any{{"cpf": "111.111.111-11"}}}), "subjects[0]"},
		"known in the future": {incidentBody(time.Now().Add(time.Hour), map[string]any{"entities": []string{"usuario"}}), "known_at is in the future"},
		"no notice":           {incidentBody(time.Now(), map[string]any{"entities": []string{"usuario"}, "titular_notice": " "}), "titular_notice is required"},
	} {
		code, _, b := env.rest(t, "POST", "/v1/tenants/demo/incidents", keyDPO, c.body)
		if code != http.StatusBadRequest || !strings.Contains(string(b), c.want) || strings.Contains(string(b), "111.111.111-11") {
			t.Errorf("%s: HTTP %d %s; want 400 saying %q", name, code, b, c.want)
		}
	}
}

// incidentRefs reads an incident's subject references with the test's own SQL.
func incidentRefs(t *testing.T, db *sql.DB, id string) []string {
	t.Helper()
	return queryStrings(t, db, "SELECT subject_ref FROM lgpd_incident_subjects WHERE incident_id = ? ORDER BY subject_ref", id)
}

// incidentLeaves decodes the ledger leaves naming an incident, integrated
// or pending.
func incidentLeaves(t *testing.T, db *sql.DB, id string) []ledger.Leaf {
	t.Helper()
	rs, err := db.Query("SELECT leaf FROM lgpd_ledger_entries WHERE request_id = ? UNION ALL SELECT leaf FROM lgpd_ledger_pending WHERE request_id = ?", id, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []ledger.Leaf
	for rs.Next() {
		var b []byte
		if err := rs.Scan(&b); err != nil {
			t.Fatal(err)
		}
		l, err := ledger.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIncidentRoleMatrix calls every IncidentService RPC over gRPC with
// each API key: only the tenant's DPO gets past authorization (to a
// validation or not-found answer, as the calls are empty), on its own
// tenant only; no key is UNAUTHENTICATED.
func TestIncidentRoleMatrix(t *testing.T) {
	env := newTestEnv(t, 20)
	client := lgpdv1.NewIncidentServiceClient(env.grpc)
	id := "00000000-0000-0000-0000-000000000000"
	calls := map[string]func(context.Context, string) error{
		"CreateIncident": func(ctx context.Context, tn string) error {
			_, err := client.CreateIncident(ctx, &lgpdv1.CreateIncidentRequest{Tenant: tn})
			return err
		},
		"GetIncident": func(ctx context.Context, tn string) error {
			_, err := client.GetIncident(ctx, &lgpdv1.GetIncidentRequest{Tenant: tn, Id: id})
			return err
		},
		"ListIncidents": func(ctx context.Context, tn string) error {
			_, err := client.ListIncidents(ctx, &lgpdv1.ListIncidentsRequest{Tenant: tn})
			return err
		},
		"UpdateIncident": func(ctx context.Context, tn string) error {
			m := "x"
			_, err := client.UpdateIncident(ctx, &lgpdv1.UpdateIncidentRequest{Tenant: tn, Id: id, Measures: &m})
			return err
		},
		"NotifyIncident": func(ctx context.Context, tn string) error {
			_, err := client.NotifyIncident(ctx, &lgpdv1.NotifyIncidentRequest{Tenant: tn, Id: id, Target: lgpdv1.NotifyTarget_TITULARES})
			return err
		},
	}
	if len(calls) != len(lgpdv1.IncidentService_ServiceDesc.Methods) {
		t.Fatalf("the matrix covers %d RPCs, IncidentService has %d", len(calls), len(lgpdv1.IncidentService_ServiceDesc.Methods))
	}
	allowed := map[string]codes.Code{"ListIncidents": codes.OK, "CreateIncident": codes.InvalidArgument,
		"GetIncident": codes.NotFound, "UpdateIncident": codes.NotFound, "NotifyIncident": codes.NotFound}
	for method, call := range calls {
		for _, key := range []string{keyDPO, keyBackend, keyAuditor, keyOther} {
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+key)
			err := call(ctx, "demo")
			want := codes.PermissionDenied
			if key == keyDPO {
				want = allowed[method]
			}
			if status.Code(err) != want {
				t.Errorf("%s with %s on demo: %v; want %s", method, key, err, want)
			}
			if key == keyDPO {
				if err := call(ctx, "other"); status.Code(err) != codes.PermissionDenied {
					t.Errorf("%s by demo's DPO on another tenant: %v; want PERMISSION_DENIED", method, err)
				}
			}
		}
		if err := call(context.Background(), "demo"); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s without a key: %v; want UNAUTHENTICATED", method, err)
		}
	}
}

// TestIncidentNotifyOnceUnderRace: two DPOs notifying the titulares at the
// same moment enqueue the events once; the other is told it was done.
func TestIncidentNotifyOnceUnderRace(t *testing.T) {
	env := newTestEnv(t, 20)
	code, _, b := env.rest(t, "POST", "/v1/tenants/demo/incidents", keyDPO, incidentBody(time.Now().Add(-time.Hour), map[string]any{"entities": []string{"usuario"}}))
	if code != http.StatusOK {
		t.Fatalf("create: HTTP %d %s", code, b)
	}
	inc := decode[restIncident](t, b)
	client := lgpdv1.NewIncidentServiceClient(env.grpc)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keyDPO)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := client.NotifyIncident(ctx, &lgpdv1.NotifyIncidentRequest{Tenant: "demo", Id: inc.ID, Target: lgpdv1.NotifyTarget_TITULARES})
			errs <- err
		}()
	}
	var ok, refused int
	for range 2 {
		switch err := <-errs; status.Code(err) {
		case codes.OK:
			ok++
		case codes.FailedPrecondition:
			refused++
		default:
			t.Errorf("concurrent notification: %v", err)
		}
	}
	var events int
	if err := env.demoDB(t).QueryRow("SELECT COUNT(*) FROM lgpd_outbox WHERE type = ?", store.EventIncidentNotified).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if ok != 1 || refused != 1 || events != inc.SubjectsAffected || events == 0 {
		t.Errorf("%d notifications passed, %d refused, %d events for %d titulares; want 1, 1 and one event each", ok, refused, events, inc.SubjectsAffected)
	}
}
