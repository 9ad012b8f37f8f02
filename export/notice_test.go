package export

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/titular/titular/export/exporttest"
)

// newNoticeFixture is the fixture with every header section: the Art. 9
// notice, a minor with a representative, a pending and an answered review.
func newNoticeFixture() fixture {
	fx := newFixture()
	decided := time.Date(2026, 2, 20, 14, 0, 0, 0, time.UTC)
	fx.meta.Notice = &Notice{
		Controller: Party{Name: "Incorporadora Exemplo Ltda.", Contact: "privacidade@incorporadora.example"},
		DPO:        Party{Name: "Encarregada Exemplo", Contact: "encarregado@incorporadora.example"},
		Purposes: []PurposeNotice{
			{Code: "cadastro_cliente", Name: "Cadastro de clientes", Description: "Identificar o cliente na compra.",
				LegalBasis: "execucao_contrato", LegalBasisLabel: "Execução de contrato", LegalBasisArticle: "LGPD art. 7º, V"},
			{Code: "credit_analysis", Name: "Análise de crédito", Description: "Simular o financiamento.",
				LegalBasis: "consentimento", LegalBasisLabel: "Consentimento do titular", LegalBasisArticle: "LGPD art. 7º, I"},
		},
		Retention: []RetentionNotice{
			{What: "Cadastro de pessoa — cônjuge", Rule: "Guarda legal, mesmo após um pedido de eliminação: 5 anos a contar de Atualizado em (Lei 9.613/1998 art. 10)"},
			{What: "Interações", Rule: NoRetentionRule},
		},
		Recipients: []RecipientNotice{
			{Name: "Banco Exemplo S.A.", What: []string{"Cadastro de pessoa — cônjuge"}, Purpose: "Cadastro de clientes"},
			{Name: "Correspondente Exemplo", What: []string{"Renda e CPF <&>"}, Purpose: "Consentimento concedido: Análise de crédito"},
		},
		Rights: []RightNotice{{Right: "Acesso aos dados (art. 18, II)", How: "Peça ao encarregado (encarregado@incorporadora.example)."}},
	}
	fx.meta.Minor = &Minor{Band: "crianca", Representative: &Representative{Relation: "mae", Name: "Responsável Exemplo"}}
	fx.meta.Reviews = []DecisionReview{
		{RequestID: "rev-1", Purpose: "credit_analysis", Reference: "proposta-77", DecidedAt: decided,
			RequestedAt: decided.AddDate(0, 0, 2), Outcome: "alterada", ReviewedBy: "Analista Exemplo",
			ReviewedAt: decided.AddDate(0, 0, 5), Criteria: "Renda comprometida abaixo de 30%."},
		{RequestID: "rev-2", Purpose: "credit_analysis", Reference: "proposta-78", RequestedAt: decided.AddDate(0, 0, 3),
			TradeSecret: "Modelo de pontuação protegido por segredo comercial."},
	}
	return fx
}

// The header sections, byte for byte as a titular's program reads them.
const wantNoticeJSON = `,"notice":{"controller":{"name":"Incorporadora Exemplo Ltda.","contact":"privacidade@incorporadora.example"},` +
	`"dpo":{"name":"Encarregada Exemplo","contact":"encarregado@incorporadora.example"},` +
	`"purposes":[{"code":"cadastro_cliente","name":"Cadastro de clientes","description":"Identificar o cliente na compra.",` +
	`"legal_basis":{"code":"execucao_contrato","label":"Execução de contrato","article":"LGPD art. 7º, V"}},` +
	`{"code":"credit_analysis","name":"Análise de crédito","description":"Simular o financiamento.",` +
	`"legal_basis":{"code":"consentimento","label":"Consentimento do titular","article":"LGPD art. 7º, I"}}],` +
	`"retention":[{"what":"Cadastro de pessoa — cônjuge","rule":"Guarda legal, mesmo após um pedido de eliminação: 5 anos a contar de Atualizado em (Lei 9.613/1998 art. 10)"},` +
	`{"what":"Interações","rule":"Enquanto for necessário à finalidade; eliminados ao fim do tratamento ou a pedido do titular, sem prazo legal de guarda (LGPD arts. 15 e 16)"}],` +
	`"recipients":[{"name":"Banco Exemplo S.A.","what":["Cadastro de pessoa — cônjuge"],"purpose":"Cadastro de clientes"},` +
	`{"name":"Correspondente Exemplo","what":["Renda e CPF <&>"],"purpose":"Consentimento concedido: Análise de crédito"}],` +
	`"rights":[{"right":"Acesso aos dados (art. 18, II)","how":"Peça ao encarregado (encarregado@incorporadora.example)."}]},` +
	`"minor":{"band":"crianca","band_label":"Criança (menos de 12 anos, ECA art. 2º)",` +
	`"representative":{"relation":"mae","relation_label":"Mãe","name":"Responsável Exemplo"}},` +
	`"reviews":[{"request_id":"rev-1","purpose":"credit_analysis","reference":"proposta-77","decided_at":"2026-02-20T14:00:00Z",` +
	`"requested_at":"2026-02-22T14:00:00Z","outcome":"alterada","outcome_label":"Decisão alterada após revisão",` +
	`"reviewed_by":"Analista Exemplo","reviewed_at":"2026-02-25T14:00:00Z","criteria":"Renda comprometida abaixo de 30%.","trade_secret":null},` +
	`{"request_id":"rev-2","purpose":"credit_analysis","reference":"proposta-78","decided_at":null,` +
	`"requested_at":"2026-02-23T14:00:00Z","outcome":null,"outcome_label":"Em análise pelo encarregado",` +
	`"reviewed_by":null,"reviewed_at":null,"criteria":null,"trade_secret":"Modelo de pontuação protegido por segredo comercial."}]` +
	`,"entities":[`

func TestJSONHeaderSections(t *testing.T) {
	raw := writeJSON(t, newNoticeFixture())
	if !bytes.Contains(raw, []byte(wantNoticeJSON)) {
		start := bytes.Index(raw, []byte(`,"notice"`))
		end := bytes.Index(raw, []byte(`,"entities"`))
		t.Fatalf("header sections differ:\ngot  %s\nwant %s", raw[max(start, 0):max(end, 0)], wantNoticeJSON)
	}
	want := []string{"schema", "schema_version", "request", "notice", "minor", "reviews", "entities", "summary"}
	if got := topLevelKeys(t, raw); !reflect.DeepEqual(got, want) {
		t.Errorf("document keys = %v, want %v", got, want)
	}
	// Without them the document is as before: no empty sections.
	plain := writeJSON(t, newFixture())
	for _, k := range []string{`"notice"`, `"minor"`, `"reviews"`} {
		if bytes.Contains(plain, []byte(k)) {
			t.Errorf("a document without %s writes it", k)
		}
	}
	// A minor without a representative says so with null.
	fx := newNoticeFixture()
	fx.meta.Minor.Representative = nil
	doc := decodeJSON(t, writeJSON(t, fx))
	if m := doc["minor"].(map[string]any); m["representative"] != nil || m["band"] != "crianca" {
		t.Errorf("minor without representative = %v", m)
	}
}

func TestSchemaDescribesHeaderSections(t *testing.T) {
	c := exporttest.Load(t)
	fx := newNoticeFixture()
	noRep := newNoticeFixture()
	noRep.meta.Minor.Representative = nil
	noRecipients := newNoticeFixture()
	noRecipients.meta.Notice.Recipients = nil
	for name, f := range map[string]fixture{"full": fx, "minor without representative": noRep, "no recipients": noRecipients} {
		doc := decodeJSON(t, writeJSON(t, f))
		for _, e := range c.Check(doc) {
			t.Errorf("%s: %s", name, e)
		}
	}
	breakages := map[string]func(doc map[string]any){
		"notice without dpo":   func(doc map[string]any) { delete(doc["notice"].(map[string]any), "dpo") },
		"purpose name missing": func(doc map[string]any) { delete(noticeItem(doc, "purposes", 0), "name") },
		"recipient what text":  func(doc map[string]any) { noticeItem(doc, "recipients", 0)["what"] = "Cadastro" },
		"no rights":            func(doc map[string]any) { doc["notice"].(map[string]any)["rights"] = []any{} },
		"review outcome bool":  func(doc map[string]any) { doc["reviews"].([]any)[0].(map[string]any)["outcome"] = true },
		"review bad date":      func(doc map[string]any) { doc["reviews"].([]any)[0].(map[string]any)["reviewed_at"] = "25/02/2026" },
		"empty reviews":        func(doc map[string]any) { doc["reviews"] = []any{} },
		"minor extra key":      func(doc map[string]any) { doc["minor"].(map[string]any)["idade"] = json.Number("10") },
	}
	raw := writeJSON(t, fx)
	for name, breakDoc := range breakages {
		doc := decodeJSON(t, raw)
		breakDoc(doc)
		if errs := c.Check(doc); len(errs) == 0 {
			t.Errorf("%s: checker accepted the broken document", name)
		}
	}
}

func noticeItem(doc map[string]any, list string, i int) map[string]any {
	return doc["notice"].(map[string]any)[list].([]any)[i].(map[string]any)
}

func TestXLSXSummaryHeaderSections(t *testing.T) {
	f := writeXLSX(t, newNoticeFixture())
	rows, err := f.GetRows("Resumo")
	if err != nil {
		t.Fatal(err)
	}
	start := slices.IndexFunc(rows, func(r []string) bool {
		return len(r) > 0 && r[0] == "Informações sobre o tratamento dos seus dados (LGPD art. 9º)"
	})
	if start < 0 {
		t.Fatalf("no notice section in the Resumo:\n%q", rows)
	}
	var got []string
	for _, r := range rows[start:] {
		// A text spread over merged cells leaves the cells it covers empty.
		got = append(got, strings.Join(slices.DeleteFunc(r, func(c string) bool { return c == "" }), " | "))
	}
	want := []string{
		"Informações sobre o tratamento dos seus dados (LGPD art. 9º)",
		"Quem | Nome | Contato",
		"Controlador | Incorporadora Exemplo Ltda. | privacidade@incorporadora.example",
		"Encarregado (art. 41) | Encarregada Exemplo | encarregado@incorporadora.example",
		"",
		"Finalidades e bases legais",
		"Finalidade | Descrição | Base legal",
		"Cadastro de clientes | Identificar o cliente na compra. | Execução de contrato (LGPD art. 7º, V)",
		"Análise de crédito | Simular o financiamento. | Consentimento do titular (LGPD art. 7º, I)",
		"",
		"Por quanto tempo os dados são guardados",
		"Dados | Prazo ou critério",
		"Cadastro de pessoa — cônjuge | Guarda legal, mesmo após um pedido de eliminação: 5 anos a contar de Atualizado em (Lei 9.613/1998 art. 10)",
		"Interações | " + NoRetentionRule,
		"",
		"Com quem os dados são compartilhados (art. 18, VII)",
		"Destinatário | Dados | Motivo",
		"Banco Exemplo S.A. | Cadastro de pessoa — cônjuge | Cadastro de clientes",
		"Correspondente Exemplo | Renda e CPF <&> | Consentimento concedido: Análise de crédito",
		"",
		"Seus direitos e como exercê-los (art. 18)",
		"Direito | Como exercer",
		"Acesso aos dados (art. 18, II) | Peça ao encarregado (encarregado@incorporadora.example).",
		"",
		"Titular menor de idade (art. 14)",
		"Faixa etária | Criança (menos de 12 anos, ECA art. 2º)",
		"Representante | Responsável Exemplo | Mãe",
		"",
		"Revisão de decisões automatizadas (art. 20)",
		"Protocolo | Decisão | Pedida em | Situação | Revisada por | Critérios e procedimentos (art. 20, §1º) | Revisada em",
		"rev-1 | Análise de crédito — proposta-77 (20/02/2026) | 22/02/2026 11:00 | Decisão alterada após revisão | Analista Exemplo | Renda comprometida abaixo de 30%. | 25/02/2026 11:00",
		"rev-2 | Análise de crédito — proposta-78 | 23/02/2026 11:00 | Em análise pelo encarregado | — | Não informados por segredo comercial ou industrial: Modelo de pontuação protegido por segredo comercial. | —",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Resumo notice sections:\ngot  %q\nwant %q", got, want)
	}
	// The retention rule spreads over the six columns right of its label,
	// so it wraps across the page.
	merged, err := f.GetMergeCells("Resumo")
	if err != nil {
		t.Fatal(err)
	}
	rule := slices.IndexFunc(merged, func(m excelize.MergeCell) bool {
		return strings.HasPrefix(m.GetCellValue(), "Guarda legal, mesmo após")
	})
	if rule < 0 || !strings.HasPrefix(merged[rule].GetStartAxis(), "B") || !strings.HasPrefix(merged[rule].GetEndAxis(), "G") {
		t.Errorf("merged cells %v: want the retention rule over B:G", merged)
	}
	// Without a notice the Resumo ends as before, with the categories.
	plain := writeXLSX(t, newFixture())
	prow, err := plain.GetRows("Resumo")
	if err != nil {
		t.Fatal(err)
	}
	if last := strings.Join(prow[len(prow)-1], "/"); last != "Dados sensíveis (art. 5º, II)/Biométrico" {
		t.Errorf("last line without a notice = %q", last)
	}
}

func TestRetentionRule(t *testing.T) {
	e := newFixture().entities[0]
	e.Holds = append(e.Holds, &Retention{Basis: "obrigacao_legal", Reference: "CTN art. 173", WhileReferenced: true})
	want := "Guarda legal, mesmo após um pedido de eliminação: 5 anos a contar de Atualizado em (Lei 9.613/1998 art. 10); " +
		"enquanto houver registros retidos que dependem deste (CTN art. 173)"
	if got := RetentionRule(e); got != want {
		t.Errorf("RetentionRule = %q\nwant %q", got, want)
	}
	if got := RetentionRule(newFixture().entities[1]); got != NoRetentionRule {
		t.Errorf("without holds = %q", got)
	}
}
