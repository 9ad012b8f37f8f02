package export

import (
	"fmt"
	"time"
)

// fixture is a synthetic export: an entity with every value kind, one with
// no rows, one with many, and labels that need sanitizing as sheet names.
type fixture struct {
	meta     Meta
	entities []Entity
	rows     [][][]any // rows per entity
}

var (
	fxReceived  = time.Date(2026, 3, 2, 12, 30, 0, 0, time.UTC)
	fxDue       = fxReceived.AddDate(0, 0, 15)
	fxGenerated = time.Date(2026, 3, 5, 18, 45, 7, 0, time.UTC)
	fxBirth     = Date{Year: 1987, Month: time.July, Day: 9}
	fxUpdated   = time.Date(2025, 12, 31, 23, 59, 58, 125_000_000, time.FixedZone("-03", -3*3600))
)

const manyRows = 1000

func newFixture() fixture {
	pessoa := Entity{
		Name: "pessoa", Label: "Cadastro de pessoa — cônjuge", Table: "pessoas",
		Purpose:    "Relacionamento com o cliente e execução do contrato de compra e venda",
		LegalBasis: "execucao_contrato", LegalBasisLabel: "Execução de contrato", LegalBasisArticle: "art. 7º, V",
		Origin:     "Informado pelo titular no atendimento",
		SharedWith: []string{"Banco Exemplo S.A. (financiamento)", "Cartório de Registro de Imóveis"},
		Holds:      []*Retention{{Basis: "obrigacao_legal", Reference: "Lei 9.613/1998 art. 10", KeepYears: 5, From: "atualizado_em"}},
		Fields: []Field{
			{Name: "nome", Label: "Nome", Category: "identificacao", CategoryLabel: "Identificação"},
			{Name: "idpessoa", Label: "Código", Category: "identificacao", CategoryLabel: "Identificação"},
			{Name: "score", Label: "Pontuação", Category: "perfil", CategoryLabel: "Perfil de consumo"},
			{Name: "pep", Label: "Pessoa exposta politicamente", Category: "perfil", CategoryLabel: "Perfil de consumo"},
			{Name: "atualizado_em", Label: "Atualizado em", Category: "registro", CategoryLabel: "Registro de atividade"},
			{Name: "data_nascimento", Label: "Data de nascimento", Category: "identificacao", CategoryLabel: "Identificação"},
			{Name: "renda_mensal", Label: "Renda mensal", Category: "financeiro", CategoryLabel: "Financeiro"},
			{Name: "renda_texto", Label: "Renda (texto)", Category: "financeiro", CategoryLabel: "Financeiro"},
			{Name: "foto", Label: "Foto", Category: "biometrico", CategoryLabel: "Biométrico", Sensitive: true},
			{Name: "observacao", Label: "Observação", Category: "outros", CategoryLabel: "Outros"},
			{Name: "patrimonio", Label: "Patrimônio", Category: "financeiro", CategoryLabel: "Financeiro"},
			{Name: "protocolo", Label: "Protocolo", Category: "registro", CategoryLabel: "Registro de atividade"},
		},
	}
	pessoaRows := [][]any{
		{"João da Conceição — ç ã <&>", int64(42), 3.75, true, fxUpdated, fxBirth,
			Decimal("12345.67"), Decimal("1.234,56"), []byte{0, 1, 2, 250}, nil,
			Decimal("12345678901234567890.123456789"), int64(1234567890123456789)},
		{"Maria Antônia", int64(-7), -0.5, false, fxReceived, Date{Year: 1899, Month: time.December, Day: 31},
			Decimal("-0.10"), Decimal("abc"), []byte{}, "texto com\nquebra",
			Decimal("0"), int64(0)},
	}
	interacoes := Entity{
		Name: "lead_interacoes", Label: "Interações", Table: "lead_interacoes",
		Purpose: "Atendimento", LegalBasis: "legitimo_interesse", LegalBasisLabel: "Legítimo interesse",
		LegalBasisArticle: "art. 7º, IX", Origin: "Registrado pelo corretor",
		Fields: []Field{
			{Name: "canal", Label: "Canal", Category: "contato", CategoryLabel: "Contato"},
			{Name: "descricao", Label: "Descrição", Category: "comunicacao", CategoryLabel: "Comunicações"},
		},
	}
	leads := Entity{
		Name: "lead", Label: "Leads: contatos/interesse [site]*", Table: "leads",
		Purpose: "Oferta de imóveis", LegalBasis: "consentimento", LegalBasisLabel: "Consentimento",
		LegalBasisArticle: "art. 7º, I", Origin: "Formulário do site",
		Fields: []Field{
			{Name: "idlead", Label: "Código", Category: "identificacao", CategoryLabel: "Identificação"},
			{Name: "email", Label: "E-mail", Category: "contato", CategoryLabel: "Contato"},
			{Name: "criado_em", Label: "Criado em", Category: "registro", CategoryLabel: "Registro de atividade"},
		},
	}
	var leadRows [][]any
	for i := range manyRows {
		leadRows = append(leadRows, []any{int64(i + 1), fmt.Sprintf("lead%d@example.com", i), fxReceived.Add(time.Duration(i) * time.Minute)})
	}
	// Same label as leads once sanitized: the sheet name must be deduplicated.
	leadsAgain := leads
	leadsAgain.Name = "lead_arquivado"
	return fixture{
		meta: Meta{
			RequestID: "01JQ7Z3K9V-req", Tenant: "incorporadora-exemplo", TenantName: "Incorporadora Exemplo Ltda.",
			Kind: "EXTRACT", ReceivedAt: fxReceived, DueAt: fxDue, GeneratedAt: fxGenerated, SubjectRef: "subj_7f3a",
		},
		entities: []Entity{pessoa, interacoes, leads, leadsAgain},
		rows:     [][][]any{pessoaRows, nil, leadRows, leadRows[:1]},
	}
}

// feed runs one traversal of fx through w.
func feed(w Writer, fx fixture) error {
	if err := w.Begin(fx.meta); err != nil {
		return err
	}
	for i, e := range fx.entities {
		if err := w.BeginEntity(e); err != nil {
			return err
		}
		for _, r := range fx.rows[i] {
			if err := w.WriteRow(r); err != nil {
				return err
			}
		}
		if err := w.EndEntity(); err != nil {
			return err
		}
	}
	return w.Close()
}
