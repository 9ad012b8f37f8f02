package inventory_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/titular/titular/config"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/export/printtest"
	"github.com/titular/titular/inventory"
)

var generated = time.Date(2026, 12, 5, 15, 4, 0, 0, time.UTC)

// demo is the demo tenant's record: the example map and the controller
// and DPO of examples/realestate/titular.yaml.
func demo(t *testing.T) *inventory.Record {
	t.Helper()
	m, err := datamap.Load(filepath.Join("..", "examples", "realestate", "datamap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tc := config.Tenant{ID: "demo", Name: "Incorporadora Demonstração Ltda",
		Controller: config.Contact{Name: "Incorporadora Demonstração Ltda", Contact: "privacidade@incorporadora.example"},
		DPO:        config.Contact{Name: "Encarregada de Dados (demonstração)"}}
	return inventory.Build(m, tc, generated)
}

// sensitiveMap is a clinic's map with health data under consent, and
// biometric data under legitimate interest (which Art. 11 does not allow).
const sensitiveMap = `version: 1
subject: {identifiers: [cpf]}
purposes:
  atendimento: {name: Atendimento clínico, description: Registrar as consultas.}
entities:
  paciente:
    table: pacientes
    key: [id]
    label: Prontuário
    purpose: atendimento
    legal_basis: consentimento
    origin: Informado pelo paciente na consulta
    match: {cpf: cpf}
    fields:
      cpf:        {category: identificacao, anonymizer: fake.cpf}
      alergias:   {category: saude, anonymizer: nullify, label: Alergias}
      status:     {category: contexto}
  acesso:
    table: acessos
    key: [id]
    purpose: portaria
    legal_basis: legitimo_interesse
    parent: {entity: paciente, on: {paciente_id: id}}
    fields:
      digital: {category: biometrico, anonymizer: nullify, label: Impressão digital}
`

func loadText(t *testing.T, text string) *datamap.Map {
	t.Helper()
	p := filepath.Join(t.TempDir(), "map.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := datamap.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The demo map's XLSX, opened with excelize, holds the controller, the DPO
// (its missing contact as "não informado"), the heading, and a line per
// entity in map order with purposes by name, bases in words, recipients and
// retention as the titular's copy words it.
func TestDemoInventoryXLSX(t *testing.T) {
	rec := demo(t)
	var buf bytes.Buffer
	if err := inventory.WriteXLSX(&buf, rec); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.GetSheetList(); len(got) != 2 || got[0] != inventory.SheetName || got[1] != inventory.PurposesSheet {
		t.Fatalf("sheets %q", got)
	}
	cell := func(ref string) string {
		t.Helper()
		v, err := f.GetCellValue(inventory.SheetName, ref)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for ref, want := range map[string]string{
		"A1": inventory.Title,
		"A2": "Controlador", "B2": "Incorporadora Demonstração Ltda — privacidade@incorporadora.example",
		"A3": "Encarregado (art. 41)", "B3": "Encarregada de Dados (demonstração) — não informado",
		"B4": "05/12/2026 12:04 (horário de Brasília)",
		"A6": "Dados (entidade)", "D6": "Dados sensíveis (art. 5º, II)", "J6": "Retenção",
		// pessoa, the first entity.
		"A7": "Cadastro de cliente", "B7": "pessoas",
		"C7": "Identificação; Documental; Familiar; Contato; Endereço; Profissional; Financeiro",
		"D7": "Não", "F7": "Cadastro de clientes",
		"G7": "Execução de contrato ou de procedimentos preliminares a pedido do titular (LGPD art. 7º, V)",
		"I7": "Não compartilhado",
		"J7": "Guarda legal, mesmo após um pedido de eliminação: enquanto houver registros retidos que dependem deste " +
			"(Lei 9.613/1998 art. 10, I (identificação do cliente); COFECI Res. 1.336/2014)",
		// lead: consent, shared with the partner agency.
		"A8": "Contatos comerciais (leads)", "F8": "Atendimento a interessados em imóveis",
		"G8": "Consentimento do titular (LGPD art. 7º, I)",
		"I8": "Imobiliária parceira do corretor responsável pelo atendimento",
		// repasse: three recipients, two holds from the signature date.
		"A13": "Financiamento bancário (repasse)", "F13": "Financiamento imobiliário",
		"I13": "Correspondente Alfa Crédito Imobiliário Ltda (correspondente bancário); Beta Assessoria de Financiamentos Ltda (correspondente bancário); " +
			"Banco financiador (Caixa Econômica Federal, Banco do Brasil, Itaú Unibanco, Bradesco ou Santander)",
		"J13": "Guarda legal, mesmo após um pedido de eliminação: 5 anos a contar de Data de assinatura (Lei 9.613/1998 art. 10, I e §2); " +
			"5 anos a contar de 1º de janeiro do ano seguinte a Data de assinatura (CTN art. 173, I)",
		// usuario: no hold.
		"A18": "Acesso ao CRM", "H18": "Cadastro de acesso feito pela administração do CRM",
		"J18": "Enquanto for necessário à finalidade; eliminados ao fim do tratamento ou a pedido do titular, sem prazo legal de guarda (LGPD arts. 15 e 16)",
	} {
		if got := cell(ref); got != want {
			t.Errorf("%s = %q, want %q", ref, got, want)
		}
	}
	// Personal fields only: the lead's contexto columns are not listed.
	if got := cell("E8"); got != "Nome informado; E-mail informado; Telefone informado; CPF informado; Renda aproximada informada" {
		t.Errorf("E8 = %q", got)
	}
	rows, err := f.GetRows(inventory.SheetName)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6+len(rec.Entries) || len(rec.Entries) != 14 {
		t.Errorf("%d rows for %d entries: want the 6 heading rows and one per entity of the demo map (13) and the consent records", len(rows), len(rec.Entries))
	}
	// Last, the consent records titular keeps, their evidence held 5 years
	// by the map's consent_evidence.
	for ref, want := range map[string]string{
		"A20": "Recibo de consentimentos", "B20": "lgpd_consents", "F20": "Prova dos consentimentos",
		"J20": "Os registros de consentimento são guardados como prova do consentimento (LGPD art. 8º, §2º); as evidências (endereço IP, navegador) " +
			"são guardadas por 5 anos a contar de cada registro, mesmo após um pedido de eliminação (LGPD art. 7 VI e art. 8 §2; CDC art. 27 (prescrição quinquenal))",
	} {
		if got := cell(ref); got != want {
			t.Errorf("%s = %q, want %q", ref, got, want)
		}
	}
	// Printable: landscape A4 fitted to the width, heading row repeated.
	layout, err := f.GetPageLayout(inventory.SheetName)
	if err != nil {
		t.Fatal(err)
	}
	if *layout.Orientation != "landscape" || *layout.FitToWidth != 1 || *layout.FitToHeight != 0 || *layout.Size != 9 {
		t.Errorf("page layout %s, %d wide, %d high, size %d", *layout.Orientation, *layout.FitToWidth, *layout.FitToHeight, *layout.Size)
	}
	var titles []string
	for _, n := range f.GetDefinedName() {
		if n.Name == "_xlnm.Print_Titles" {
			titles = append(titles, n.Scope+" "+n.RefersTo)
		}
	}
	if strings.Join(titles, "|") != "Registro de tratamento 'Registro de tratamento'!$6:$6|Finalidades 'Finalidades'!$6:$6" {
		t.Errorf("print titles %q: want each sheet's heading row", titles)
	}

	// The record by purpose: the map's purposes in its order, each with the
	// bases, data and recipients of its entities.
	rows, err = f.GetRows(inventory.PurposesSheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6+10 {
		t.Errorf("%d rows in %s: want the 6 heading rows and the demo map's 10 purposes", len(rows), inventory.PurposesSheet)
	}
	want := [][]string{
		{"Finalidade", "Descrição", "Base legal", "Dados (entidades)", "Compartilhado com"},
		{"Cadastro de clientes", "Identificar você e manter seus dados de contato e endereço para a compra, a entrega e o pós-venda do imóvel.",
			"Execução de contrato ou de procedimentos preliminares a pedido do titular (LGPD art. 7º, V)", "Cadastro de cliente", "Não compartilhado"},
	}
	for i, w := range want {
		if got := strings.Join(rows[5+i], "|"); got != strings.Join(w, "|") {
			t.Errorf("%s row %d:\n got %q\nwant %q", inventory.PurposesSheet, 6+i, got, strings.Join(w, "|"))
		}
	}
	// venda_imovel (5th purpose): two entities, the sale's two recipients.
	if got := strings.Join(rows[10][2:], "|"); got != "Execução de contrato ou de procedimentos preliminares a pedido do titular (LGPD art. 7º, V)|"+
		"Reservas e vendas; Participação em reservas (cônjuge, cocomprador, fiador, procurador, dependente)|"+
		"Receita Federal do Brasil (DIMOB); Cartório de Registro de Imóveis" {
		t.Errorf("venda_imovel: %q", got)
	}
	// gestao_corretores: three entities under two bases.
	if got := rows[13][2]; got != "Execução de contrato ou de procedimentos preliminares a pedido do titular (LGPD art. 7º, V); "+
		"Legítimo interesse do controlador ou de terceiro (LGPD art. 7º, IX); Cumprimento de obrigação legal ou regulatória (LGPD art. 7º, II)" {
		t.Errorf("gestao_corretores bases %q", got)
	}
}

// Sensitive categories are flagged by name with the Art. 11 case of the
// basis, or a warning when the basis does not allow sensitive data; a
// purpose the map does not name says so, with its code.
func TestInventorySensitive(t *testing.T) {
	rec := inventory.Build(loadText(t, sensitiveMap), config.Tenant{ID: "clinica"}, generated)
	if rec.Controller.Name != config.NotInformed || rec.DPO.Contact != config.NotInformed {
		t.Errorf("controller %+v, dpo %+v: want %q for what the config leaves out", rec.Controller, rec.DPO, config.NotInformed)
	}
	p, a := rec.Entries[0], rec.Entries[1]
	if !p.Sensitive() || p.SensitiveText() != "Sim: Saúde" || p.CategoriesText() != "Identificação; Saúde (dado sensível)" {
		t.Errorf("paciente: %q, %q", p.SensitiveText(), p.CategoriesText())
	}
	if want := "Consentimento do titular (LGPD art. 7º, I); dados sensíveis: LGPD art. 11, I"; p.LegalBasisText != want {
		t.Errorf("paciente basis %q, want %q", p.LegalBasisText, want)
	}
	if p.PurposeName != "Atendimento clínico" || p.Label != "Prontuário" || strings.Join(p.Fields, "|") != "CPF|Alergias" {
		t.Errorf("paciente: %+v", p)
	}
	if a.SensitiveText() != "Sim: Dado biométrico" || a.Label != "acesso" || a.Origin != config.NotInformed {
		t.Errorf("acesso: %+v", a)
	}
	if want := "Legítimo interesse do controlador ou de terceiro (LGPD art. 7º, IX); esta base não autoriza o tratamento de dados sensíveis (LGPD art. 11)"; a.LegalBasisText != want {
		t.Errorf("acesso basis %q, want %q", a.LegalBasisText, want)
	}
	if a.PurposeName != "portaria (não informado no mapa de dados)" {
		t.Errorf("acesso purpose %q", a.PurposeName)
	}
}

// The CSV is the table byte for byte: BOM, heading, a line per entity,
// quoted where a value holds a comma.
func TestInventoryCSV(t *testing.T) {
	rec := inventory.Build(loadText(t, sensitiveMap), config.Tenant{ID: "clinica"}, generated)
	var buf bytes.Buffer
	if err := inventory.WriteCSV(&buf, rec); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFF" + `Dados (entidade),Tabela no CRM,Categorias de dados,"Dados sensíveis (art. 5º, II)",Dados pessoais tratados,Finalidade,Base legal,Origem dos dados,Compartilhado com,Retenção
Prontuário,pacientes,Identificação; Saúde (dado sensível),Sim: Saúde,CPF; Alergias,Atendimento clínico,"Consentimento do titular (LGPD art. 7º, I); dados sensíveis: LGPD art. 11, I",Informado pelo paciente na consulta,Não compartilhado,"Enquanto for necessário à finalidade; eliminados ao fim do tratamento ou a pedido do titular, sem prazo legal de guarda (LGPD arts. 15 e 16)"
acesso,acessos,Dado biométrico (dado sensível),Sim: Dado biométrico,Impressão digital,portaria (não informado no mapa de dados),"Legítimo interesse do controlador ou de terceiro (LGPD art. 7º, IX); esta base não autoriza o tratamento de dados sensíveis (LGPD art. 11)",não informado,Não compartilhado,"Enquanto for necessário à finalidade; eliminados ao fim do tratamento ou a pedido do titular, sem prazo legal de guarda (LGPD arts. 15 e 16)"
Recibo de consentimentos,lgpd_consents,Comportamental; Identificação,Não,Manifestação; Endereço IP; Navegador ou aplicativo,Prova dos consentimentos,"Cumprimento de obrigação legal ou regulatória (LGPD art. 7º, II)","Registrado pelo controlador a cada concessão, recusa ou revogação de consentimento do titular",Não compartilhado,"Os registros de consentimento são guardados como prova do consentimento (LGPD art. 8º, §2º); as evidências (endereço IP, navegador) são apagadas quando o titular pede a eliminação"
`
	if got := buf.String(); got != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, want)
	}
	// And a CSV reader reads back the same table as the XLSX's.
	lines, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 || strings.Join(lines[0], "|") != strings.Join(inventory.Header(), "|") || lines[2][3] != "Sim: Dado biométrico" {
		t.Errorf("read back %q", lines)
	}
}

// LibreOffice prints the demo record on a few landscape pages, every one
// with the heading row, and every entity's label on them.
func TestDemoInventoryPrints(t *testing.T) {
	rec := demo(t)
	var buf bytes.Buffer
	if err := inventory.WriteXLSX(&buf, rec); err != nil {
		t.Fatal(err)
	}
	pdf := printtest.XLSXToPDF(t, buf.Bytes())
	pages := printtest.Pages(t, pdf)
	if pages < 1 || pages > 6 {
		t.Errorf("%d pages: want the 13 entities on at most 6 landscape pages", pages)
	}
	text := printtest.Text(t, pdf)
	// Each page opens with its sheet's heading: the record's, or the
	// purposes' (its "Dados (entidades)" column).
	if n := strings.Count(text, "Tabela no") + strings.Count(text, "Dados (entidades)"); n != pages {
		t.Errorf("headings printed %d times on %d pages: want one on every page", n, pages)
	}
	for _, e := range rec.Entries {
		first := strings.Fields(e.Label)[0]
		if !strings.Contains(text, first) {
			t.Errorf("the printout lacks %q", e.Label)
		}
	}
	if !strings.Contains(text, "Página 1 de") {
		t.Error("no page numbers in the footer")
	}
}
