package service

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/config"
	"github.com/titular/titular/export/exporttest"
	"github.com/titular/titular/seed"
)

// withTenantKeys adds keys to the demo tenant's config entry.
func withTenantKeys(yaml string) fixtureOption {
	return func(o *fixtureOptions) { o.tenantKeys = yaml }
}

// noticeDoc is the part of the JSON export this file checks.
type noticeDoc struct {
	Notice struct {
		Controller, DPO struct{ Name, Contact string }
		Purposes        []struct {
			Code, Name, Description string
			LegalBasis              struct{ Code, Label, Article string } `json:"legal_basis"`
		}
		Retention  []struct{ What, Rule string }
		Recipients []struct {
			Name    string
			What    []string
			Purpose string
		}
		Rights []struct{ Right, How string }
	}
}

// extractNotice runs an EXTRACT of the 2023 buyer, who consented to share
// data with partners and to a credit analysis, and returns its JSON export
// after checking it against the published schema.
func extractNotice(t *testing.T, f *fixture) noticeDoc {
	t.Helper()
	buyer := f.scenario(seed.ScenarioBuyer2023)
	for _, p := range []string{"partner_sharing", "credit_analysis"} {
		f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONSENT, Subject: &lgpdv1.Subject{Cpf: buyer.CPF},
			Consent: &lgpdv1.ConsentChange{Purpose: p, Action: lgpdv1.ConsentAction_GRANT, TermVersion: "1",
				Evidence: &lgpdv1.ConsentEvidence{Channel: "portal"}}})
	}
	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})
	if n := f.work(); n != 1 {
		t.Fatalf("worker took %d requests, want the EXTRACT", n)
	}
	body, _, _, err := f.download(f.dpo, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "json"})
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	exporttest.Validate(t, body)
	var doc noticeDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	xl, _, _, err := f.download(f.dpo, &lgpdv1.DownloadExportRequest{Tenant: "demo", Id: x.GetId(), Format: "xlsx"})
	if err != nil {
		t.Fatalf("download xlsx: %v", err)
	}
	book, err := excelize.OpenReader(bytes.NewReader(xl))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	rows, err := book.GetRows("Resumo")
	if err != nil {
		t.Fatal(err)
	}
	// The Resumo names the same parties and purposes as the JSON.
	for _, want := range [][]string{
		{"Controlador", doc.Notice.Controller.Name, doc.Notice.Controller.Contact},
		{"Encarregado (art. 41)", doc.Notice.DPO.Name, doc.Notice.DPO.Contact},
		{doc.Notice.Purposes[0].Name, doc.Notice.Purposes[0].Description,
			doc.Notice.Purposes[0].LegalBasis.Label + " (" + doc.Notice.Purposes[0].LegalBasis.Article + ")"},
		{doc.Notice.Rights[0].Right, doc.Notice.Rights[0].How},
	} {
		// A text spread over merged cells leaves the cells it covers empty.
		if !slices.ContainsFunc(rows, func(r []string) bool {
			return slices.Equal(slices.DeleteFunc(slices.Clone(r), func(c string) bool { return c == "" }), want)
		}) {
			t.Errorf("the Resumo lacks the line %q", want)
		}
	}
	return doc
}

// The titular's copy says what Art. 9 asks, in words: the demo's purposes
// by name, bases, retention and recipients, including those of a consent
// to share, with the controller's and the encarregado's contacts.
func TestExtractNotice(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withTenantKeys(`, controller: {name: "Incorporadora Teste Ltda", contact: "privacidade@teste.example"}`+
		`, dpo: {name: "Encarregado Teste", contact: "dpo@teste.example"}`))
	n := extractNotice(t, f).Notice

	if n.Controller.Name != "Incorporadora Teste Ltda" || n.Controller.Contact != "privacidade@teste.example" ||
		n.DPO.Name != "Encarregado Teste" || n.DPO.Contact != "dpo@teste.example" {
		t.Errorf("controller %+v, dpo %+v", n.Controller, n.DPO)
	}
	purposes := map[string]string{}
	for _, p := range n.Purposes {
		purposes[p.Code] = p.Name + " / " + p.LegalBasis.Label + " (" + p.LegalBasis.Article + ")"
		if p.Name == p.Code || p.Name == config.NotInformed || p.Description == "" || p.Description == config.NotInformed {
			t.Errorf("purpose %s reads %q: %q; want a name and a description in words", p.Code, p.Name, p.Description)
		}
	}
	for code, want := range map[string]string{
		"cadastro_cliente":          "Cadastro de clientes / Execução de contrato ou de procedimentos preliminares a pedido do titular (LGPD art. 7º, V)",
		"venda_imovel":              "Reserva e venda de imóveis / Execução de contrato ou de procedimentos preliminares a pedido do titular (LGPD art. 7º, V)",
		"atendimento_comercial":     "Histórico do atendimento comercial / Legítimo interesse do controlador ou de terceiro (LGPD art. 7º, IX)",
		"prova_consentimento":       "Prova dos consentimentos / Cumprimento de obrigação legal ou regulatória (LGPD art. 7º, II)",
		"partner_sharing":           "Compartilhamento com parceiros / Consentimento do titular (LGPD art. 7º, I)",
		"credit_analysis":           "Análise de crédito para financiamento / Consentimento do titular (LGPD art. 7º, I)",
		"financiamento_imobiliario": "Financiamento imobiliário / Execução de contrato ou de procedimentos preliminares a pedido do titular (LGPD art. 7º, V)",
	} {
		if purposes[code] != want {
			t.Errorf("purpose %s = %q, want %q", code, purposes[code], want)
		}
	}
	for _, p := range n.Purposes {
		if p.Code == "partner_sharing" && !strings.HasSuffix(p.Description, " Se você não consentir: Seus dados não serão enviados a parceiros; apenas a incorporadora entrará em contato.") {
			t.Errorf("the consent purpose does not say what refusing means (Art. 18 VIII): %q", p.Description)
		}
	}
	if _, ok := purposes["marketing_email"]; ok {
		t.Error("a consent the titular never gave is listed as a purpose of their data")
	}

	retention := map[string]string{}
	for _, r := range n.Retention {
		retention[r.What] = r.Rule
	}
	for what, want := range map[string]string{
		"Reservas e vendas":        "Guarda legal, mesmo após um pedido de eliminação: 5 anos a contar de Data do distrato, ou Data da venda quando não houver (Lei 9.613/1998 art. 10",
		"Histórico de atendimento": "Enquanto for necessário à finalidade",
		"Recibo de consentimentos": "Os registros de consentimento são guardados como prova do consentimento (LGPD art. 8º, §2º); as evidências (endereço IP, navegador) são guardadas por 5 anos",
		"Cadastro de cliente":      "Guarda legal, mesmo após um pedido de eliminação: enquanto houver registros retidos que dependem deste",
	} {
		if !strings.HasPrefix(retention[what], want) {
			t.Errorf("retention of %s = %q, want it to start %q", what, retention[what], want)
		}
	}

	if !strings.Contains(retention["Reservas e vendas"], "; 10 anos a contar da mais recente entre Data da venda e Data do distrato (Código Civil art. 205)") {
		t.Errorf("the sale's civil-claims hold is not in words: %q", retention["Reservas e vendas"])
	}
	// Only the buyer's own data: the map's broker and staff entities hold
	// no row of theirs, so neither their purposes nor their retention show.
	for _, what := range []string{"Cadastro de corretor", "Acesso ao CRM"} {
		if _, ok := retention[what]; ok {
			t.Errorf("retention lists %s, which holds nothing of the buyer's", what)
		}
	}
	for _, code := range []string{"gestao_corretores", "controle_acesso"} {
		if _, ok := purposes[code]; ok {
			t.Errorf("purposes list %s, which no row of the buyer's serves", code)
		}
	}

	type recipient struct{ name, what, purpose string }
	var got []recipient
	for _, r := range n.Recipients {
		got = append(got, recipient{r.Name, strings.Join(r.What, "; "), r.Purpose})
	}
	for _, want := range []recipient{
		{"Receita Federal do Brasil (DIMOB)", "Reservas e vendas", "Reserva e venda de imóveis"},
		{"Correspondentes bancários parceiros", "Compartilhamento de nome, e-mail e telefone com imobiliárias e correspondentes bancários parceiros, para que ofereçam imóveis e crédito.",
			"Consentimento concedido: Compartilhamento com parceiros"},
		{"Bancos financiadores", "Consulta de renda e histórico de crédito junto a bancos para simular e pré-aprovar o financiamento do imóvel.",
			"Consentimento concedido: Análise de crédito para financiamento"},
	} {
		if !slices.Contains(got, want) {
			t.Errorf("recipients lack %+v:\n%+v", want, got)
		}
	}

	if len(n.Rights) < 11 {
		t.Fatalf("%d rights, want those of Art. 18, 8 §5 and 20", len(n.Rights))
	}
	for _, r := range n.Rights {
		if r.How == "" || strings.Contains(r.How, config.NotInformed) {
			t.Errorf("right %q: how = %q", r.Right, r.How)
		}
	}
	if !strings.Contains(n.Rights[0].How, "ao encarregado (dpo@teste.example)") {
		t.Errorf("rights do not send the titular to the encarregado: %q", n.Rights[0].How)
	}
	if !slices.ContainsFunc(n.Rights, func(r struct{ Right, How string }) bool { return strings.Contains(r.Right, "art. 20") }) {
		t.Error("the review of automated decisions (Art. 20) is not among the rights")
	}
}

// A tenant that configured neither contact and a map that names no
// purpose: the copy says "não informado", never a code.
func TestExtractNoticeNotInformed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withDatamap(func(doc string) string {
		start := strings.Index(doc, "\npurposes:\n")
		end := strings.Index(doc, "\nentities:\n")
		return doc[:start] + doc[end:]
	}))
	n := extractNotice(t, f).Notice
	if n.Controller.Name != "Incorporadora Teste Ltda" || n.Controller.Contact != config.NotInformed ||
		n.DPO.Name != config.NotInformed || n.DPO.Contact != config.NotInformed {
		t.Errorf("controller %+v, dpo %+v", n.Controller, n.DPO)
	}
	for _, p := range n.Purposes {
		switch p.Code {
		case "partner_sharing", "credit_analysis": // the consent catalog names them
			if p.Name == p.Code || p.Name == config.NotInformed {
				t.Errorf("consent purpose %s reads %q", p.Code, p.Name)
			}
		default:
			if p.Name != config.NotInformed || p.Description != config.NotInformed {
				t.Errorf("unnamed purpose %s reads %q: %q, want %q", p.Code, p.Name, p.Description, config.NotInformed)
			}
		}
	}
	if !strings.Contains(n.Rights[0].How, "ao controlador (contato não informado)") {
		t.Errorf("rights with no contact: %q", n.Rights[0].How)
	}
}
