package service

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/seed"
)

// outbox lists the types of the outbox events of a request.
func (f *fixture) outbox(requestID string) []string {
	f.t.Helper()
	rows, err := f.db.Query("SELECT type FROM lgpd_outbox WHERE request_id = ? ORDER BY seq", requestID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// TestDeleteRequest: a consent-only lead is erased completely; the 2023
// buyer's sale stays blocked under its retention hold, which the result and
// the reasons name with basis, reference and release date (Art. 16, 18 §4
// II); both propagate to sharing recipients through the outbox, and the
// COMPLETED leaf commits to the outcome the titular was given.
func TestDeleteRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	lead := f.scenario(seed.ScenarioConsentOnlyLead)
	if n := f.count("SELECT COUNT(*) FROM leads WHERE email = ?", lead.Email); n == 0 {
		t.Fatal("the consent-only lead is not in the seeded CRM")
	}
	d := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Email: lead.Email}})
	if d.GetStatus() != lgpdv1.RequestStatus_RECEIVED || !slices.Contains(f.wakes(), "demo") {
		t.Fatalf("DELETE must be queued and wake the workers: %v", d)
	}
	if n := f.work(); n != 1 {
		t.Fatalf("worker took %d requests", n)
	}
	d = f.get(d.GetId())
	del := d.GetResult().GetDelete()
	if d.GetStatus() != lgpdv1.RequestStatus_COMPLETED || !del.GetComplete() || len(d.GetReasons()) != 0 || len(del.GetHolds()) != 0 {
		t.Fatalf("consent-only lead DELETE: %v", d)
	}
	deleted := map[string]int64{}
	for _, e := range del.GetEntities() {
		deleted[e.GetEntity()] = e.GetDeleted()
	}
	if deleted["lead"] == 0 || deleted["consentimento"] == 0 {
		t.Errorf("deleted %v: want the lead and its consentimentos", deleted)
	}
	if n := f.count("SELECT COUNT(*) FROM leads WHERE email = ?", lead.Email); n != 0 {
		t.Errorf("%d leads rows of the titular remain", n)
	}
	// The recipients' event, then the request's completion for the portal.
	if got := f.outbox(d.GetId()); !slices.Equal(got, []string{"subject.deleted", "request.completed"}) {
		t.Errorf("outbox %v, want subject.deleted then request.completed", got)
	}
	c := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: lead.CPF}})
	if c.GetResult().GetConfirm().GetHasPersonalData() {
		t.Errorf("CONFIRM after a complete DELETE still finds %v", c.GetResult().GetConfirm().GetEntities())
	}

	buyer := f.scenario(seed.ScenarioBuyer2023)
	b := f.create(f.dpo, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_DELETE, Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	f.work()
	b = f.get(b.GetId())
	bd := b.GetResult().GetDelete()
	if b.GetStatus() != lgpdv1.RequestStatus_COMPLETED || bd.GetComplete() {
		t.Fatalf("the buyer's DELETE must complete partially: %v", b)
	}
	var held, reason bool
	for _, h := range bd.GetHolds() {
		held = held || (h.GetEntity() == "reserva" && h.GetBasis() == "obrigacao_legal" && h.GetLegalReference() != "" && h.GetUntil() != nil && h.GetRows() > 0)
	}
	for _, r := range b.GetReasons() {
		reason = reason || (r.GetCode() == "RETENTION_HOLD" && r.GetEntity() == "reserva" && r.GetLegalReference() != "" && r.GetUntil() != nil &&
			strings.Contains(r.GetMessage(), "bloqueados"))
	}
	if !held || !reason {
		t.Errorf("the sale's hold must be named with basis, reference and date, with a reason: holds %v reasons %v", bd.GetHolds(), b.GetReasons())
	}
	// The lead the sale came from stays too: the CRM's fk_reservas_lead (ON
	// DELETE SET NULL) would empty the held sale's reference to it. It is
	// looked at again with the titular's last held row (its date).
	var fkReason bool
	for _, r := range b.GetReasons() {
		fkReason = fkReason || (r.GetCode() == "FK_ACTION_WOULD_CHANGE_HELD_ROWS" && r.GetEntity() == "lead" &&
			strings.Contains(r.GetMessage(), "fk_reservas_lead") && r.GetUntil() != nil)
	}
	if !fkReason {
		t.Errorf("no reason names fk_reservas_lead keeping the buyer's lead: %v", b.GetReasons())
	}
	var blocked int64
	for _, e := range bd.GetEntities() {
		blocked += e.GetBlocked()
	}
	if blocked == 0 {
		t.Errorf("no rows blocked: %v", bd.GetEntities())
	}
	shapes, args := inShapes(brdoc.CPFShapes(buyer.CPF))
	if n := f.count("SELECT COUNT(*) FROM reservas WHERE cliente_cpf IN "+shapes, args...); n == 0 {
		t.Error("the held sale was deleted")
	}
	if got := f.outbox(b.GetId()); !slices.Equal(got, []string{"subject.deleted", "subject.blocked", "request.completed"}) {
		t.Errorf("outbox %v, want subject.deleted, subject.blocked and request.completed", got)
	}
	for _, r := range b.GetReasons() {
		if strings.Contains(r.GetMessage(), buyer.CPF) || strings.Contains(r.GetMessage(), buyer.Email) {
			t.Error("a reason echoes the titular's identifiers")
		}
	}
	// The COMPLETED leaf carries the digest of the stored outcome.
	rc := must[*lgpdv1.Receipt](f.dpo, f, lgpdv1.RequestService_GetReceipt_FullMethodName, &lgpdv1.GetReceiptRequest{Tenant: "demo", Id: b.GetId()})
	leaf := f.verifyReceipt(t, rc)
	var result, reasons string
	if err := f.db.QueryRow("SELECT result_json, reasons_json FROM lgpd_requests WHERE id = ?", b.GetId()).Scan(&result, &reasons); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte(result + "\n" + reasons))
	var committed bool
	for _, dg := range leaf.Digests {
		committed = committed || (dg.Name == "outcome" && dg.SHA256 == want)
	}
	if leaf.To != "COMPLETED" || !committed {
		t.Errorf("receipt leaf %+v must be the COMPLETED one with the outcome's digest", leaf)
	}
}

// TestAnonymizeRequest: the titular whose CPF sits in pessoas, leads and the
// sale snapshot is anonymized in every copy to one fake CPF; a second
// request changes nothing; a held sale is named with a reason; the change is
// propagated. A map that would only pseudonymize is refused at creation.
func TestAnonymizeRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioSameCPF)
	shapes, args := inShapes(brdoc.CPFShapes(s.CPF))
	var idpessoa int64
	if err := f.db.QueryRow("SELECT idpessoa FROM pessoas WHERE cpf IN "+shapes, args...).Scan(&idpessoa); err != nil {
		t.Fatal(err)
	}
	anonymize := func(subject *lgpdv1.Subject) *lgpdv1.Request {
		t.Helper()
		r := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_ANONYMIZE, Subject: subject})
		if r.GetStatus() != lgpdv1.RequestStatus_RECEIVED {
			t.Fatalf("ANONYMIZE must be queued: %v", r)
		}
		if n := f.work(); n != 1 {
			t.Fatalf("worker took %d requests", n)
		}
		r = f.get(r.GetId())
		if r.GetStatus() != lgpdv1.RequestStatus_COMPLETED || r.GetResult().GetAnonymize() == nil {
			t.Fatalf("ANONYMIZE: %v", r)
		}
		return r
	}
	a := anonymize(&lgpdv1.Subject{Cpf: s.CPF, Email: s.Email})
	rows := map[string]int64{}
	for _, e := range a.GetResult().GetAnonymize().GetEntities() {
		rows[e.GetEntity()] = e.GetRows()
	}
	if a.GetResult().GetAnonymize().GetTotalRows() == 0 || rows["pessoa"] != 1 || rows["lead"] == 0 || rows["reserva"] == 0 {
		t.Fatalf("ANONYMIZE result: %v", a.GetResult())
	}
	if n := f.count("SELECT COUNT(*) FROM pessoas WHERE cpf IN "+shapes, args...) + f.count("SELECT COUNT(*) FROM leads WHERE cpf IN "+shapes, args...); n != 0 {
		t.Errorf("%d rows still hold the titular's CPF", n)
	}
	var pessoa, lead, reserva string
	if err := f.db.QueryRow(`SELECT p.cpf, l.cpf, r.cliente_cpf FROM pessoas p
 JOIN leads l ON l.idpessoa = p.idpessoa JOIN reservas r ON r.idpessoa = p.idpessoa
 WHERE p.idpessoa = ? LIMIT 1`, idpessoa).Scan(&pessoa, &lead, &reserva); err != nil {
		t.Fatal(err)
	}
	var norms []string
	for _, v := range []string{pessoa, lead, reserva} {
		n, err := brdoc.NormalizeCPF(v)
		if err != nil {
			t.Fatal("a stored CPF is not a valid fake after anonymization")
		}
		norms = append(norms, n)
	}
	if norms[0] == s.CPF || norms[0] != norms[1] || norms[1] != norms[2] {
		t.Error("pessoas, leads and reservas must share one fake CPF after anonymization")
	}
	if got := f.outbox(a.GetId()); !slices.Equal(got, []string{"subject.anonymized", "request.completed"}) {
		t.Errorf("outbox %v, want subject.anonymized then request.completed", got)
	}
	if again := anonymize(&lgpdv1.Subject{Cpf: s.CPF, Email: s.Email}); again.GetResult().GetAnonymize().GetTotalRows() != 0 {
		t.Errorf("a second ANONYMIZE changed %d rows", again.GetResult().GetAnonymize().GetTotalRows())
	}

	buyer := anonymize(&lgpdv1.Subject{Cpf: f.scenario(seed.ScenarioBuyer2023).CPF})
	var held, reason bool
	for _, h := range buyer.GetResult().GetAnonymize().GetHolds() {
		held = held || (h.GetEntity() == "reserva" && h.GetBasis() == "obrigacao_legal" && h.GetLegalReference() != "" && h.GetUntil() != nil)
	}
	for _, r := range buyer.GetReasons() {
		reason = reason || (r.GetCode() == "RETENTION_HOLD" && r.GetEntity() == "reserva" && r.GetUntil() != nil)
	}
	if !held || !reason {
		t.Errorf("the buyer's held sale must be named with a reason: %v", buyer)
	}
}

// hmacEmail makes the example map keep pessoa.email as a keyed hash:
// pseudonymization, which an ANONYMIZE must refuse (Art. 12, 13).
func hmacEmail(t *testing.T) func(string) string {
	const from = "email:            {category: contato, anonymizer: fake.email, correctable: true,"
	return func(doc string) string {
		if !strings.Contains(doc, from) {
			t.Fatal("example map changed; update the test")
		}
		return strings.Replace(doc, from, "email:            {category: contato, anonymizer: hmac, correctable: true,", 1)
	}
}

// TestAnonymizeRefusedByMap: with a map that keeps a keyed transform on a
// personal field, an ANONYMIZE is refused at creation, naming the field,
// and nothing is recorded.
func TestAnonymizeRefusedByMap(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withoutPurposes(), withDatamap(hmacEmail(t)))
	_, err := call[*lgpdv1.Request](f.backend, f, createMethod, &lgpdv1.CreateRequestRequest{Tenant: "demo",
		Kind: lgpdv1.RequestKind_ANONYMIZE, Subject: &lgpdv1.Subject{Cpf: f.scenario(seed.ScenarioPEP).CPF}})
	wantCode(t, err, codes.FailedPrecondition, "MAP_NOT_ANONYMIZING")
	if err != nil && !strings.Contains(err.Error(), "pessoa.email") {
		t.Errorf("the refusal must name the field: %v", err)
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_requests"); n != 0 {
		t.Errorf("a refused ANONYMIZE left %d requests", n)
	}
}

// TestAnonymizeDeniedAfterMapChange: an ANONYMIZE accepted under one map is
// DENIED by the worker, with reasons naming the field, when the map was
// reloaded meanwhile with a transform that only pseudonymizes; no CRM row
// changes.
func TestAnonymizeDeniedAfterMapChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withoutPurposes())
	s := f.scenario(seed.ScenarioPEP)
	a := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_ANONYMIZE, Subject: &lgpdv1.Subject{Cpf: s.CPF}})
	if a.GetStatus() != lgpdv1.RequestStatus_RECEIVED {
		t.Fatalf("ANONYMIZE: %v", a)
	}
	shapes, args := inShapes(brdoc.CPFShapes(s.CPF))
	before := f.count("SELECT COUNT(*) FROM pessoas WHERE cpf IN "+shapes, args...)
	reloaded := f.reloaded(hmacEmail(t))
	found, _, err := f.worker.RunOnce(context.Background(), reloaded)
	if !found || err != nil {
		t.Fatalf("worker: %v %v", found, err)
	}
	got := f.get(a.GetId())
	var named bool
	for _, r := range got.GetReasons() {
		named = named || strings.Contains(r.GetMessage()+r.GetEntity(), "email")
	}
	if got.GetStatus() != lgpdv1.RequestStatus_DENIED || len(got.GetReasons()) == 0 || !named || got.GetResult().GetAnonymize() != nil {
		t.Fatalf("ANONYMIZE under a pseudonymizing map: %v; want DENIED with reasons naming the field", got)
	}
	if after := f.count("SELECT COUNT(*) FROM pessoas WHERE cpf IN "+shapes, args...); after != before || before != 1 {
		t.Errorf("the titular's pessoa rows: %d before, %d after a denied ANONYMIZE", before, after)
	}
	if got := f.events(a.GetId()); got[len(got)-1] != "PROCESSING>DENIED" {
		t.Errorf("events %v", got)
	}
}

// TestCorrectRequest: CORRECT runs in the call, reaches every copy of the
// field, is propagated naming the field and not the value; what it refuses
// (unknown or invalid fields, another person's CPF, values that do not fit)
// leaves nothing behind and never echoes the value.
func TestCorrectRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.scenario(seed.ScenarioSameCPF)
	r := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CORRECT, Subject: &lgpdv1.Subject{Cpf: s.CPF},
		Correction: &lgpdv1.Correction{Fields: map[string]string{"email": "  Novo.Email@Example.ORG ", "data_nascimento": "1990-12-31"}}})
	c := r.GetResult().GetCorrect()
	if r.GetStatus() != lgpdv1.RequestStatus_COMPLETED || c.GetTotalRows() == 0 || len(c.GetEntities()) < 2 {
		t.Fatalf("CORRECT must complete in the call and reach every copy: %v", r)
	}
	shapes, args := inShapes(brdoc.CPFShapes(s.CPF))
	if n := f.count("SELECT COUNT(*) FROM pessoas WHERE email = 'novo.email@example.org' AND data_nascimento = '1990-12-31' AND cpf IN "+shapes, args...); n != 1 {
		t.Error("the pessoa row does not hold the corrected, normalized values")
	}
	if n := f.count("SELECT COUNT(*) FROM leads WHERE email = ? ", s.Email); n != 0 {
		t.Errorf("%d leads rows keep the old e-mail", n)
	}
	if got := f.events(r.GetId()); !slices.Equal(got, []string{">RECEIVED", "RECEIVED>PROCESSING", "PROCESSING>COMPLETED"}) {
		t.Errorf("events %v", got)
	}
	var data string
	if err := f.db.QueryRow("SELECT data_json FROM lgpd_outbox WHERE request_id = ? AND type = 'subject.corrected'", r.GetId()).Scan(&data); err != nil {
		t.Fatalf("no subject.corrected event: %v", err)
	}
	if !strings.Contains(data, `"email"`) || !strings.Contains(data, `"data_nascimento"`) || strings.Contains(strings.ToLower(data), "novo.email") {
		t.Errorf("propagation payload %s must name the fields and hold no value", data)
	}
	// The titular is found by the new e-mail.
	if c := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Email: "novo.email@example.org"}}); !c.GetResult().GetConfirm().GetHasPersonalData() {
		t.Error("CONFIRM by the corrected e-mail finds nothing")
	}

	other := f.scenario(seed.ScenarioPEP)
	before := f.count("SELECT COUNT(*) FROM lgpd_requests WHERE kind = 'CORRECT'")
	for _, tc := range []struct {
		name   string
		fields map[string]string
		code   codes.Code
		reason string
	}{
		{"unknown field", map[string]string{"salario": "1"}, codes.InvalidArgument, "FIELD_NOT_CORRECTABLE"},
		{"unknown long field name", map[string]string{strings.Repeat("x", 80): "1"}, codes.InvalidArgument, "FIELD_NOT_CORRECTABLE"},
		{"invalid e-mail", map[string]string{"email": "not-an-email"}, codes.InvalidArgument, "INVALID_VALUE"},
		{"invalid date", map[string]string{"data_nascimento": "31/12/1990"}, codes.InvalidArgument, "INVALID_VALUE"},
		{"invalid cpf", map[string]string{"cpf": "111.111.111-11"}, codes.InvalidArgument, "INVALID_VALUE"},
		{"invalid phone", map[string]string{"celular": "12"}, codes.InvalidArgument, "INVALID_VALUE"},
		{"invalid cep", map[string]string{"cep": "1234"}, codes.InvalidArgument, "INVALID_VALUE"},
		{"blank text", map[string]string{"nome": "   "}, codes.InvalidArgument, "INVALID_VALUE"},
		{"nothing to correct", map[string]string{}, codes.InvalidArgument, "CORRECTION_REQUIRED"},
		{"another person's CPF", map[string]string{"cpf": other.CPF}, codes.FailedPrecondition, "UNIQUE_CONFLICT"},
		{"value too long", map[string]string{"uf": "SPX"}, codes.InvalidArgument, "VALUE_TOO_LONG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := call[*lgpdv1.Request](f.backend, f, createMethod, &lgpdv1.CreateRequestRequest{Tenant: "demo",
				Kind: lgpdv1.RequestKind_CORRECT, Subject: &lgpdv1.Subject{Cpf: s.CPF}, Correction: &lgpdv1.Correction{Fields: tc.fields}})
			wantCode(t, err, tc.code, tc.reason, other.CPF, "not-an-email", "31/12/1990", strings.Repeat("x", 80))
		})
	}
	if after := f.count("SELECT COUNT(*) FROM lgpd_requests WHERE kind = 'CORRECT'"); after != before {
		t.Errorf("refused corrections left %d requests behind", after-before)
	}
	if n := f.count("SELECT COUNT(*) FROM pessoas WHERE uf <> 'SPX' AND cpf IN "+shapes, args...); n != 1 {
		t.Error("a refused correction changed the titular's pessoa row")
	}
}
