package service

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/seed"
)

// grantList returns the subject references ListConsentSubjects gives for a
// purpose and status, every page.
func (f *fixture) grantList(purpose string, status lgpdv1.ConsentAction) []string {
	f.t.Helper()
	var out []string
	token := ""
	for {
		page := must[*lgpdv1.ListConsentSubjectsResponse](f.backend, f, consentSubjectsMethod,
			&lgpdv1.ListConsentSubjectsRequest{Tenant: "demo", Purpose: purpose, Status: status, PageSize: 2, PageToken: token})
		out = append(out, page.GetSubjectRefs()...)
		if token = page.GetNextPageToken(); token == "" {
			return out
		}
	}
}

// searchConsents is SearchConsents as the backend.
func (f *fixture) searchConsents(s *lgpdv1.Subject) *lgpdv1.SearchConsentsResponse {
	f.t.Helper()
	return must[*lgpdv1.SearchConsentsResponse](f.backend, f, searchConsentsMethod, &lgpdv1.SearchConsentsRequest{Tenant: "demo", Subject: s})
}

// currentOf is the current record of purpose in a search, or nil.
func currentOf(s *lgpdv1.SearchConsentsResponse, purpose string) *lgpdv1.ConsentRecord {
	for _, c := range s.GetCurrent() {
		if c.GetPurpose() == purpose {
			return c
		}
	}
	return nil
}

// mergeLeaves returns the subject.merged ledger leaves (pending or integrated).
func (f *fixture) mergeLeaves() []ledger.Leaf {
	f.t.Helper()
	rows, err := f.db.Query("SELECT leaf FROM lgpd_ledger_pending UNION ALL SELECT leaf FROM lgpd_ledger_entries")
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []ledger.Leaf
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			f.t.Fatal(err)
		}
		l, err := ledger.Unmarshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		if l.Event == "subject.merged" {
			out = append(out, l)
		}
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// TestConsentOnePersonByCPFAndEmail (issue #15): marketing_email granted by
// the titular's CPF and revoked by her e-mail alone is one person: the
// CPF's pessoa row holds the e-mail, so both requests get one subject_ref;
// her status reads REVOKE by either identifier, the history holds both, she
// leaves the GRANT list, and her EXTRACT's consent receipt shows both.
func TestConsentOnePersonByCPFAndEmail(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.scenario(seed.ScenarioSameCPF)
	grant := f.create(f.backend, consentReq(&lgpdv1.Subject{Cpf: p.CPF}, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", ""))
	if got := f.grantList("marketing_email", lgpdv1.ConsentAction_GRANT); !slices.Contains(got, grant.GetSubjectRef()) {
		t.Fatalf("after the grant the GRANT list %v lacks %s", got, grant.GetSubjectRef())
	}
	revoke := f.create(f.backend, consentReq(&lgpdv1.Subject{Email: p.Email}, "marketing_email", lgpdv1.ConsentAction_REVOKE, "1", ""))
	if revoke.GetSubjectRef() != grant.GetSubjectRef() {
		t.Fatalf("one person, two subject refs: grant %s, revoke %s", grant.GetSubjectRef(), revoke.GetSubjectRef())
	}
	for _, s := range []*lgpdv1.Subject{{Cpf: p.CPF}, {Email: p.Email}, {Phone: p.Phone}} {
		got := f.searchConsents(s)
		if c := currentOf(got, "marketing_email"); c.GetAction() != lgpdv1.ConsentAction_REVOKE {
			t.Errorf("search by %v: current %v, want REVOKE", s, c)
		}
		h := got.GetHistory()
		if len(h) != 2 || h[0].GetRequestId() != grant.GetId() || h[1].GetRequestId() != revoke.GetId() {
			t.Errorf("search by %v: history %v, want the grant then the revocation", s, h)
		}
	}
	if got := f.grantList("marketing_email", lgpdv1.ConsentAction_GRANT); slices.Contains(got, grant.GetSubjectRef()) {
		t.Errorf("the revoked titular is still in the GRANT list %v", got)
	}
	if got := f.grantList("marketing_email", lgpdv1.ConsentAction_REVOKE); !slices.Equal(got, []string{grant.GetSubjectRef()}) {
		t.Errorf("REVOKE list %v, want only %s", got, grant.GetSubjectRef())
	}
	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: p.CPF}})
	f.work()
	body, _, _, err := f.download(f.dpo, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	var doc exportDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	receipt := doc.rows(consentReceiptEntity)
	if len(receipt) != 2 || receipt[0]["action"] != "Consentimento concedido" || receipt[1]["action"] != "Consentimento revogado" {
		t.Errorf("EXTRACT consent receipt %v, want the grant and the revocation", receipt)
	}
}

// TestSubjectRefsMerge (issue #15): a CPF and an e-mail the CRM does not
// link, first seen apart, are two references; a request carrying both
// merges the younger into the older, recorded (lgpd_subject_merges, a
// subject.merged leaf with no personal data), and from then on status,
// history and GRANT lists act on the person. A second merge (a phone first
// seen alone, then linked by CRM rows added later) folds into the same
// person.
func TestSubjectRefsMerge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cpf, email, phone := brdoc.CPFFromSeed(515_151_515), "pessoa.merge@example.com", "+5511987650001"
	a := f.create(f.backend, consentReq(&lgpdv1.Subject{Cpf: cpf}, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", ""))
	b := f.create(f.backend, consentReq(&lgpdv1.Subject{Email: email}, "marketing_email", lgpdv1.ConsentAction_REVOKE, "1", ""))
	if a.GetSubjectRef() == b.GetSubjectRef() {
		t.Fatal("identifiers nothing links must not share a reference")
	}
	if got := f.grantList("marketing_email", lgpdv1.ConsentAction_GRANT); !slices.Contains(got, a.GetSubjectRef()) {
		t.Fatalf("before the merge the CPF's grant stands: %v", got)
	}
	// One request carries both: they are one person from now on.
	both := f.create(f.backend, consentReq(&lgpdv1.Subject{Cpf: cpf, Email: email}, "marketing_whatsapp", lgpdv1.ConsentAction_GRANT, "1", ""))
	if both.GetSubjectRef() != a.GetSubjectRef() {
		t.Fatalf("merged reference %s, want the older %s", both.GetSubjectRef(), a.GetSubjectRef())
	}
	var old, into, person, reason, kinds string
	if err := f.db.QueryRow("SELECT old_ref, into_ref, person_ref, reason, kinds FROM lgpd_subject_merges").Scan(&old, &into, &person, &reason, &kinds); err != nil {
		t.Fatalf("merge record: %v", err)
	}
	if old != b.GetSubjectRef() || into != a.GetSubjectRef() || person != a.GetSubjectRef() || reason != "request" || kinds != "cpf+email" {
		t.Errorf("merge record %s -> %s (person %s, %s, %s)", old, into, person, reason, kinds)
	}
	leaves := f.mergeLeaves()
	if len(leaves) != 1 || leaves[0].SubjectRef != b.GetSubjectRef() || leaves[0].To != a.GetSubjectRef() || leaves[0].From != "request" {
		t.Errorf("merge leaves %+v", leaves)
	}
	// The CRM is told, to re-key what it keeps under the old reference.
	var data string
	if err := f.db.QueryRow("SELECT data_json FROM lgpd_outbox WHERE type = 'subject.merged' AND subject_ref = ?", b.GetSubjectRef()).Scan(&data); err != nil {
		t.Fatalf("subject.merged event: %v", err)
	}
	if want := `{"person_ref":"` + a.GetSubjectRef() + `","reason":"request"}`; data != want {
		t.Errorf("subject.merged data %s, want %s", data, want)
	}
	// The merge was recorded with the request that taught it: nothing half done.
	if n := f.count("SELECT COUNT(*) FROM lgpd_subject_index WHERE subject_ref = ?", b.GetSubjectRef()); n != 0 {
		t.Errorf("%d identifiers still under the merged reference", n)
	}
	// The e-mail's REVOKE is later than the CPF's GRANT: the person revoked.
	for _, s := range []*lgpdv1.Subject{{Cpf: cpf}, {Email: email}} {
		got := f.searchConsents(s)
		if c := currentOf(got, "marketing_email"); c.GetAction() != lgpdv1.ConsentAction_REVOKE {
			t.Errorf("search by %v: marketing_email %v, want REVOKE", s, c)
		}
		if len(got.GetHistory()) != 3 || got.GetSubjectRefs()[0] != a.GetSubjectRef() {
			t.Errorf("search by %v: refs %v history %v", s, got.GetSubjectRefs(), got.GetHistory())
		}
	}
	grants := f.grantList("marketing_email", lgpdv1.ConsentAction_GRANT)
	if slices.Contains(grants, a.GetSubjectRef()) || slices.Contains(grants, b.GetSubjectRef()) {
		t.Errorf("the person is still in the marketing_email GRANT list %v", grants)
	}
	if got := f.grantList("marketing_email", lgpdv1.ConsentAction_REVOKE); !slices.Equal(got, []string{a.GetSubjectRef()}) {
		t.Errorf("REVOKE list %v, want the person once, by the surviving reference", got)
	}
	if got := f.grantList("marketing_whatsapp", lgpdv1.ConsentAction_GRANT); !slices.Equal(got, []string{a.GetSubjectRef()}) {
		t.Errorf("marketing_whatsapp GRANT list %v", got)
	}

	// A phone seen alone, then a CRM lead holding the CPF and that phone:
	// a request by the CPF finds the lead and merges the phone's reference.
	c := f.create(f.backend, consentReq(&lgpdv1.Subject{Phone: phone}, "marketing_whatsapp", lgpdv1.ConsentAction_REVOKE, "", ""))
	if c.GetSubjectRef() == a.GetSubjectRef() {
		t.Fatal("the phone is linked to nothing yet")
	}
	if _, err := f.db.Exec(`INSERT INTO leads (nome, telefone, cpf, origem, status, criado_em, atualizado_em)
 VALUES ('Pessoa Sintética', ?, ?, 'site', 'novo', NOW(), NOW())`, brdoc.PhoneShapes(phone)[0], cpf); err != nil {
		t.Fatal(err)
	}
	conf := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: cpf}})
	if conf.GetSubjectRef() != a.GetSubjectRef() {
		t.Fatalf("CONFIRM ref %s, want the person's %s", conf.GetSubjectRef(), a.GetSubjectRef())
	}
	if n := f.count("SELECT COUNT(*) FROM lgpd_subject_merges WHERE old_ref = ? AND person_ref = ? AND reason = 'crm'", c.GetSubjectRef(), a.GetSubjectRef()); n != 1 {
		t.Errorf("the CRM-learned merge is not recorded")
	}
	if got := f.grantList("marketing_whatsapp", lgpdv1.ConsentAction_GRANT); len(got) != 0 {
		t.Errorf("the phone's later REVOKE ends the person's marketing_whatsapp grant: GRANT list %v", got)
	}
}

// TestSubjectMergeConcurrent: requests learning the same link at once make
// one person: every one answers the older reference and one merge is
// recorded.
func TestSubjectMergeConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cpf, email := brdoc.CPFFromSeed(616_161_616), "concorrente@example.com"
	a := f.create(f.backend, consentReq(&lgpdv1.Subject{Cpf: cpf}, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", ""))
	b := f.create(f.backend, consentReq(&lgpdv1.Subject{Email: email}, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", ""))
	const n = 8
	refs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := consentReq(&lgpdv1.Subject{Cpf: cpf, Email: email}, "partner_sharing", lgpdv1.ConsentAction_REFUSE, "", "")
			if i%2 == 1 {
				in = &lgpdv1.CreateRequestRequest{Tenant: "demo", Kind: lgpdv1.RequestKind_CONFIRM, Subject: &lgpdv1.Subject{Cpf: cpf, Email: email}}
			}
			r, err := call[*lgpdv1.Request](f.backend, f, createMethod, in)
			refs[i], errs[i] = r.GetSubjectRef(), err
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if refs[i] != a.GetSubjectRef() {
			t.Errorf("request %d answered %s, want the older reference %s", i, refs[i], a.GetSubjectRef())
		}
	}
	if got := f.count("SELECT COUNT(*) FROM lgpd_subject_merges WHERE old_ref = ?", b.GetSubjectRef()); got != 1 {
		t.Errorf("%d merges recorded, want 1", got)
	}
	if got := len(f.mergeLeaves()); got != 1 {
		t.Errorf("%d merge leaves, want 1", got)
	}
	if got := f.count("SELECT COUNT(*) FROM lgpd_outbox WHERE type = 'subject.merged'"); got != 1 {
		t.Errorf("%d subject.merged events, want 1", got)
	}
}

// TestPersonAcrossTables (issue #15): a person known by CPF in pessoas and
// by e-mail only in her lead (under that pessoa) resolves to one reference,
// whichever identifier comes first: consent granted by the e-mail and
// revoked by the CPF is one person's.
func TestPersonAcrossTables(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cpf, email := brdoc.CPFFromSeed(717_171_717), "so.no.lead.servico@example.com"
	res, err := f.db.Exec("INSERT INTO pessoas (cpf, nome, criado_em, atualizado_em) VALUES (?, 'Pessoa Sintética', NOW(), NOW())", brdoc.FormatCPF(cpf))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	if _, err := f.db.Exec(`INSERT INTO leads (idpessoa, nome, email, origem, status, criado_em, atualizado_em)
 VALUES (?, 'Pessoa Sintética', ?, 'site', 'novo', NOW(), NOW())`, id, email); err != nil {
		t.Fatal(err)
	}
	g := f.create(f.backend, consentReq(&lgpdv1.Subject{Email: email}, "marketing_email", lgpdv1.ConsentAction_GRANT, "1", ""))
	r := f.create(f.backend, consentReq(&lgpdv1.Subject{Cpf: cpf}, "marketing_email", lgpdv1.ConsentAction_REVOKE, "1", ""))
	if g.GetSubjectRef() != r.GetSubjectRef() {
		t.Fatalf("one person, two refs: %s (e-mail) %s (CPF)", g.GetSubjectRef(), r.GetSubjectRef())
	}
	if c := currentOf(f.searchConsents(&lgpdv1.Subject{Email: email}), "marketing_email"); c.GetAction() != lgpdv1.ConsentAction_REVOKE {
		t.Errorf("status by e-mail %v, want REVOKE", c)
	}
	if got := f.grantList("marketing_email", lgpdv1.ConsentAction_GRANT); slices.Contains(got, g.GetSubjectRef()) {
		t.Errorf("still in the GRANT list %v", got)
	}
}
