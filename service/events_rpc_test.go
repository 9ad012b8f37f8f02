package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
	"github.com/titular/titular/webhook"
)

// completionPost is a delivered completion event, its signature checked.
type completionPost struct {
	ev   webhook.Event
	data store.CompletionData
	body string
}

// completionPosts decodes what rcv received, checking each signature.
func completionPosts(t *testing.T, rcv *receiver) map[string]completionPost {
	t.Helper()
	out := map[string]completionPost{}
	for i, g := range rcv.deliveries() {
		if !webhook.Verify([]byte(webhookSecret), g.body, g.header.Get(webhook.HeaderSignature)) {
			t.Errorf("post %d: the signature does not verify", i)
		}
		var p completionPost
		if err := json.Unmarshal(g.body, &p.ev); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
		if err := json.Unmarshal(p.ev.Data, &p.data); err != nil {
			t.Fatalf("post %d data: %v", i, err)
		}
		if g.header.Get(webhook.HeaderEventType) != p.ev.Type {
			t.Errorf("post %d: header type %q, body type %q", i, g.header.Get(webhook.HeaderEventType), p.ev.Type)
		}
		p.body = string(g.body)
		out[p.ev.Type] = p
	}
	return out
}

// TestCompletionEventsDelivered: an EXTRACT completed by the worker, a
// DELETE held for the DPO and then denied, and an EXTRACT failed for good
// each reach an endpoint subscribed to the completion events, signed, with
// kind, status, due date, reasons' codes and counts, and no personal data.
func TestCompletionEventsDelivered(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, http.StatusOK)
	f := newFixture(t, withApproval("DELETE"), withWorkers("{per_tenant: 2, poll_interval: 1s, lease: 1m, max_attempts: 1}"),
		withWebhooks(func(secret string) string {
			return fmt.Sprintf("[{name: portal, url: %q, secret_file: %q, events: [request.completed, request.denied, request.failed, request.awaiting_approval]}]",
				rcv.srv.URL+"/events", secret)
		}))
	ctx := context.Background()
	buyer := f.scenario(seed.ScenarioBuyer2023)
	pep := f.scenario(seed.ScenarioPEP)

	extract := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	if found, _, err := f.worker.RunOnce(ctx, f.tenant()); !found || err != nil {
		t.Fatalf("worker: %v %v", found, err)
	}
	if r := f.get(extract.GetId()); r.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		t.Fatalf("extract: %v", r)
	}
	del := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Cpf: pep.CPF}})
	if del.GetStatus() != lgpdv1.RequestStatus_AWAITING_APPROVAL {
		t.Fatalf("delete under approval: %v", del)
	}
	must[*lgpdv1.Request](f.dpo, f, denyMethod, &lgpdv1.DenyRequestRequest{Tenant: "demo", Id: del.GetId(),
		Reasons: []*lgpdv1.Reason{{Code: "IDENTITY_NOT_CONFIRMED", Message: "Não foi possível confirmar a identidade do titular."}}})
	// The same EXTRACT again, with a table the map reads gone: one attempt
	// (max_attempts 1) and it is FAILED.
	if _, err := f.db.Exec("RENAME TABLE documentos TO documentos_fora"); err != nil {
		t.Fatal(err)
	}
	failing := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	if found, _, err := f.worker.RunOnce(ctx, f.tenant()); !found || err != nil {
		t.Fatalf("worker: %v %v", found, err)
	}
	if _, err := f.db.Exec("RENAME TABLE documentos_fora TO documentos"); err != nil {
		t.Fatal(err)
	}
	if r := f.get(failing.GetId()); r.GetStatus() != lgpdv1.RequestStatus_FAILED {
		t.Fatalf("failing extract: %v", r)
	}

	if more, retryAt, err := f.dispatcher.RunOnce(ctx, f.tenant()); more || !retryAt.IsZero() || err != nil {
		t.Fatalf("dispatch: %v %s %v", more, retryAt, err)
	}
	got := completionPosts(t, rcv)
	if len(rcv.deliveries()) != 4 || len(got) != 4 {
		t.Fatalf("received %d posts of types %v; want completed, awaiting_approval, denied and failed", len(rcv.deliveries()), slices.Sorted(func(y func(string) bool) {
			for k := range got {
				y(k)
			}
		}))
	}
	for typ, p := range got {
		for _, v := range []string{buyer.CPF, buyer.Email, pep.CPF, pep.Email} {
			if strings.Contains(strings.ToLower(p.body), v) {
				t.Errorf("%s carries personal data: %s", typ, p.body)
			}
		}
		if p.ev.Subject != nil || p.ev.Tenant != "demo" || p.ev.SubjectRef == "" || p.data.DueAt.IsZero() || p.data.ReceivedAt.IsZero() {
			t.Errorf("%s: %s", typ, p.body)
		}
	}
	c := got[store.EventRequestCompleted]
	if c.ev.RequestID != extract.GetId() || c.ev.SubjectRef != extract.GetSubjectRef() || c.data.Kind != store.KindExtract ||
		c.data.Status != store.StatusCompleted || c.data.CompletedAt == nil || c.data.TotalRows == 0 || len(c.data.Reasons) != 0 ||
		!c.data.DueAt.Equal(extract.GetDueAt().AsTime()) {
		t.Errorf("request.completed: %s", c.body)
	}
	var sum int64
	for _, e := range c.data.Entities {
		sum += e.Rows
	}
	if sum != c.data.TotalRows || !slices.ContainsFunc(c.data.Entities, func(e store.EntityCount) bool { return e.Entity == "pessoa" && e.Rows > 0 }) {
		t.Errorf("request.completed counts: %+v", c.data.Entities)
	}
	a := got[store.EventRequestAwaitingApproval]
	if a.ev.RequestID != del.GetId() || a.data.Kind != store.KindDelete || a.data.Status != store.StatusAwaitingApproval || a.data.CompletedAt != nil {
		t.Errorf("request.awaiting_approval: %s", a.body)
	}
	d := got[store.EventRequestDenied]
	if d.ev.RequestID != del.GetId() || d.data.Status != store.StatusDenied || !slices.Equal(d.data.Reasons, []string{"IDENTITY_NOT_CONFIRMED"}) ||
		strings.Contains(d.body, "identidade") || d.data.CompletedAt == nil {
		t.Errorf("request.denied: want the reason's code only: %s", d.body)
	}
	fl := got[store.EventRequestFailed]
	if fl.ev.RequestID != failing.GetId() || fl.data.Status != store.StatusFailed || !slices.Equal(fl.data.Reasons, []string{"PROCESSING_FAILED"}) {
		t.Errorf("request.failed: %s", fl.body)
	}
	done := f.listDeliveries(lgpdv1.DeliveryState_DELIVERY_DELIVERED)
	if len(done) != 4 {
		t.Fatalf("delivered: %v", done)
	}
	for _, dl := range done {
		if dl.GetEndpoint() != "portal" || dl.GetRecipient() != "" || len(dl.GetIdentifiersSent()) != 0 {
			t.Errorf("delivery %v: an endpoint tied to no recipient, without identifiers", dl)
		}
	}
}

// bancoX is the recipient the tests' data map shares the client's record
// with.
const bancoX = "Banco X Financiamentos S.A."

// TestRecipientEndpointsGetIdentifiers: of three endpoints subscribed to
// corrections, the one tied to the recipient the corrected entity is
// shared with, opted in to identifiers, receives (signed) the titular's
// CPF and e-mail and the new value; the endpoint tied to no recipient gets
// only the subject reference; the one tied to a recipient the entity is not
// shared with gets nothing. The outbox holds the identifiers only sealed,
// and not at all once delivered; the DPO sees who was told which kinds.
func TestRecipientEndpointsGetIdentifiers(t *testing.T) {
	t.Parallel()
	banco, crm, parceira := newReceiver(t, http.StatusOK), newReceiver(t, http.StatusOK), newReceiver(t, http.StatusOK)
	f := newFixture(t,
		withDatamap(func(doc string) string {
			return strings.Replace(doc, "    origin: Informado pelo titular ao corretor ou no stand de vendas, no cadastro de cliente\n",
				"    origin: Informado pelo titular ao corretor ou no stand de vendas, no cadastro de cliente\n    shared_with: ["+bancoX+"]\n", 1)
		}),
		withWebhooks(func(secret string) string {
			return fmt.Sprintf(`[{name: banco, url: %q, secret_file: %q, events: [subject.corrected], recipient: %q, identifiers: [cpf, email]},
  {name: crm, url: %q, secret_file: %q, events: [subject.corrected]},
  {name: parceira, url: %q, secret_file: %q, events: [subject.corrected], identifiers: [cpf],
   recipient: "Imobiliária parceira do corretor responsável pelo atendimento"}]`,
				banco.srv.URL, secret, bancoX, crm.srv.URL, secret, parceira.srv.URL, secret)
		}))
	s := f.scenario(seed.ScenarioPEP)
	const newValue = "Arquiteta de interiores"
	fix := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CORRECT, Subject: &lgpdv1.Subject{Cpf: s.CPF, Email: s.Email},
		Correction: &lgpdv1.Correction{Fields: map[string]string{"profissao": newValue}}})
	if fix.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		t.Fatalf("correction: %v", fix)
	}

	// At rest: the sealed part exists, and no identifier or new value is
	// readable in any column of the outbox.
	if n := f.count("SELECT COUNT(*) FROM lgpd_outbox WHERE request_id = ? AND type = 'subject.corrected' AND private_enc IS NOT NULL", fix.GetId()); n != 1 {
		t.Fatalf("sealed identifiers of the correction: %d rows", n)
	}
	for _, v := range []string{s.CPF, s.Email, newValue} {
		if n := f.count(`SELECT COUNT(*) FROM lgpd_outbox o LEFT JOIN lgpd_outbox_deliveries d ON d.seq = o.seq
 WHERE LOCATE(?, o.data_json) > 0 OR LOCATE(?, o.private_enc) > 0 OR LOCATE(?, IFNULL(d.last_error, '')) > 0
 OR LOCATE(?, IFNULL(d.identifiers_sent, '')) > 0 OR LOCATE(?, IFNULL(d.recipient, '')) > 0`, v, []byte(v), v, v, v); n != 0 {
			t.Errorf("the outbox holds a personal value in plain text (%d rows)", n)
		}
	}
	pending := f.listDeliveries(lgpdv1.DeliveryState_DELIVERY_PENDING)
	told := map[string]*lgpdv1.Delivery{}
	for _, d := range pending {
		if d.GetType() == "subject.corrected" {
			told[d.GetEndpoint()] = d
		}
	}
	if len(told) != 2 || told["banco"].GetRecipient() != bancoX || !slices.Equal(told["banco"].GetIdentifiersSent(), []string{"cpf", "email"}) ||
		told["crm"].GetRecipient() != "" || len(told["crm"].GetIdentifiersSent()) != 0 {
		t.Fatalf("deliveries of the correction: %v; want banco (Banco X, cpf and email) and crm (nothing more)", told)
	}

	f.dispatch()
	if n := len(parceira.deliveries()); n != 0 {
		t.Errorf("the recipient the corrected entity is not shared with was told (%d posts)", n)
	}
	bp, cp := banco.deliveries(), crm.deliveries()
	if len(bp) != 1 || len(cp) != 1 {
		t.Fatalf("banco got %d posts, crm %d; want one each", len(bp), len(cp))
	}
	for _, g := range []received{bp[0], cp[0]} {
		if !webhook.Verify([]byte(webhookSecret), g.body, g.header.Get(webhook.HeaderSignature)) {
			t.Errorf("the signature does not verify: %s", g.header)
		}
	}
	var be, ce webhook.Event
	if err := json.Unmarshal(bp[0].body, &be); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(cp[0].body, &ce); err != nil {
		t.Fatal(err)
	}
	if be.Subject == nil || be.Subject.CPF != s.CPF || be.Subject.Email != s.Email || be.Subject.Phone != "" ||
		be.Subject.NewValues["profissao"] != newValue || be.Recipient != bancoX || be.SubjectRef != fix.GetSubjectRef() {
		t.Errorf("banco's event: want the CPF, the e-mail and the new value for %s: %s", bancoX, bp[0].body)
	}
	for _, v := range []string{s.CPF, s.Email, newValue} {
		if strings.Contains(string(cp[0].body), v) {
			t.Errorf("the endpoint that did not opt in received a personal value: %s", cp[0].body)
		}
	}
	if ce.Subject != nil || ce.Recipient != "" || ce.SubjectRef != fix.GetSubjectRef() {
		t.Errorf("crm's event: %s", cp[0].body)
	}
	// Delivered everywhere: nothing left to send, nothing kept.
	if n := f.count("SELECT COUNT(*) FROM lgpd_outbox WHERE private_enc IS NOT NULL"); n != 0 {
		t.Errorf("%d events keep sealed identifiers after every delivery ended", n)
	}
	done := f.listDeliveries(lgpdv1.DeliveryState_DELIVERY_DELIVERED)
	if len(done) != 2 {
		t.Fatalf("delivered: %v", done)
	}
	for _, d := range done {
		if d.GetEndpoint() == "banco" && (d.GetRecipient() != bancoX || !slices.Equal(d.GetIdentifiersSent(), []string{"cpf", "email"})) {
			t.Errorf("the DPO cannot see what banco was told: %v", d)
		}
	}
	if logs := f.logs.String(); strings.Contains(logs, s.CPF) || strings.Contains(logs, s.Email) || strings.Contains(logs, newValue) {
		t.Error("a personal value reached the logs")
	}
}
