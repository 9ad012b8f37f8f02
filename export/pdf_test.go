package export

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/export/printtest"
)

// withHeader adds what other parts of titular put in the header: the
// Art. 9 notice, a minor's representative and a decision review.
func withHeader(fx fixture) fixture {
	fx.meta.Notice = &Notice{
		Controller: Party{Name: "Incorporadora Exemplo Ltda.", Contact: "privacidade@exemplo.com.br"},
		DPO:        Party{Name: "Conceição Araújo", Contact: "encarregado@exemplo.com.br"},
		Purposes: []PurposeNotice{{Code: "cadastro_cliente", Name: "Cadastro de clientes", Description: "Identificar o comprador na negociação",
			LegalBasis: "execucao_contrato", LegalBasisLabel: "Execução de contrato", LegalBasisArticle: "art. 7º, V"}},
		Retention:  []RetentionNotice{{What: "Reservas e vendas", Rule: "5 anos a partir da Data da venda"}},
		Recipients: []RecipientNotice{{Name: "Banco Exemplo S.A.", What: []string{"Cadastro de pessoa"}, Purpose: "Análise de financiamento"}},
		Rights:     []RightNotice{{Right: "Confirmação da existência de tratamento", How: "Pelo portal do titular"}},
	}
	fx.meta.Minor = &Minor{Band: "crianca", Representative: &Representative{Relation: "mae", Name: "Responsável Sintética"}}
	fx.meta.Reviews = []DecisionReview{{RequestID: "01JQREVIEW", Purpose: "credit_analysis", Reference: "analise-77",
		DecidedAt: fxReceived.AddDate(0, 0, -3), RequestedAt: fxReceived, Outcome: "alterada", ReviewedBy: "Analista Sintético",
		ReviewedAt: fxGenerated, Criteria: "Renda declarada e comprometimento máximo de 30%"}}
	return fx
}

func writePDF(t *testing.T, fx fixture) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := feed(NewPDF(&buf), fx); err != nil {
		t.Fatalf("feed: %v", err)
	}
	return buf.Bytes()
}

// The PDF copy, read back by poppler: the request, the Art. 9 notice, the
// minor and the review, every value with its accents, "Sim" for true, the
// entity with no rows said so, the counts, and the page numbers.
func TestPDFCopy(t *testing.T) {
	fx := withHeader(newFixture())
	pdf := writePDF(t, fx)
	text := printtest.Text(t, pdf)
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{
		"Relatório de dados pessoais — LGPD art. 18, II e art. 19, II",
		"Protocolo da solicitação 01JQ7Z3K9V-req",
		"Tipo de solicitação Acesso e cópia dos dados (art. 18, II e V) — EXTRACT",
		"Recebida em 02/03/2026 09:30",
		"Encarregado (art. 41) Conceição Araújo — encarregado@exemplo.com.br",
		"Cadastro de clientes Identificar o comprador na negociação. Base legal: Execução de contrato (art. 7º, V)",
		"Faixa etária Criança (menor de 12 anos, ECA art. 2º)",
		"Representante legal Responsável Sintética — mae",
		"Resultado Decisão alterada",
		"Critérios e procedimentos (art. 20,", "§1º)", // the label wraps in its column
		"Renda declarada e comprometimento máximo de 30%",
		// pessoa has 12 columns: one block of label: value lines per record.
		"Nome João da Conceição — ç ã <&>",
		"Pessoa exposta politicamente Sim",
		"Atualizado em 31/12/2025 23:59:58",
		"Data de nascimento 09/07/1987",
		"Renda mensal 12345,67",
		"Renda (texto) 1.234,56",
		"Foto (binário, 4 bytes)",
		"Observação —",
		"Pessoa exposta politicamente Não",
		"Data de nascimento 31/12/1899",
		"Guarda após pedido de eliminação 5 anos a contar de Atualizado em (Lei 9.613/1998 art. 10)",
		"Compartilhado com Banco Exemplo S.A. (financiamento); Cartório de Registro de Imóveis",
		"Nenhum registro deste tipo foi encontrado para este titular (sem registros)",
		// leads have 3 columns: a table.
		"Código E-mail Criado em",
		"1000 lead999@example.com 03/03/2026 02:09:00",
		"Interações sem registros",
		"Total 1003",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the PDF text lacks %q", want)
		}
	}
	pages := printtest.Pages(t, pdf)
	if !strings.Contains(flat, "Página 1 de "+strconv.Itoa(pages)) || !strings.Contains(flat, "Página "+strconv.Itoa(pages)+" de "+strconv.Itoa(pages)) {
		t.Errorf("no \"Página N de %d\" footers", pages)
	}
	// The 1000-row table repeats its heading on every page it spans.
	if n := strings.Count(flat, "Código E-mail Criado em"); n < 10 {
		t.Errorf("lead table heading printed %d times over %d pages", n, pages)
	}
	if len(regexp.MustCompile(`Protocolo 01JQ7Z3K9V-req — Incorporadora Exemplo Ltda\.`).FindAllString(flat, -1)) != pages {
		t.Error("not every page names the request in its footer")
	}
}

// A text a core font cannot draw becomes "?", never a broken byte, and the
// same answer gives the same bytes.
func TestPDFUnencodableAndStable(t *testing.T) {
	fx := newFixture()
	fx.entities, fx.rows = fx.entities[1:2], [][][]any{{{"WhatsApp", "Oi 😀 — “ok” ção\tfim"}}}
	a, b := writePDF(t, fx), writePDF(t, fx)
	if !bytes.Equal(a, b) {
		t.Error("two PDFs of the same answer differ")
	}
	flat := strings.Join(strings.Fields(printtest.Text(t, a)), " ")
	if !strings.Contains(flat, "WhatsApp Oi ? — “ok” ção fim") {
		t.Errorf("PDF text: %s", flat)
	}
}

func TestPDFWriteFailure(t *testing.T) {
	if err := feed(NewPDF(failingWriter{}), newFixture()); !errors.Is(err, errDisk) {
		t.Errorf("err = %v, want the writer's error", err)
	}
}

// The stamp of an unset time is a dash, as in the XLSX.
func TestPDFNoDeadline(t *testing.T) {
	fx := newFixture()
	fx.meta.DueAt = time.Time{}
	fx.entities, fx.rows = fx.entities[:1], fx.rows[:1]
	flat := strings.Join(strings.Fields(printtest.Text(t, writePDF(t, fx))), " ")
	if !strings.Contains(flat, "Prazo de resposta —") {
		t.Errorf("PDF text: %s", flat)
	}
}

// A table cell taller than a page is not drawn past the bottom margin:
// that row is written as label: value lines across pages, and every word
// of it is there.
func TestPDFCellTallerThanAPage(t *testing.T) {
	fx := newFixture()
	long := strings.Repeat("anotação longa do atendimento ", 600) + "fim-da-anotação"
	fx.entities, fx.rows = fx.entities[1:2], [][][]any{{{"visita", long}, {"telefone", "curta"}}}
	pdf := writePDF(t, fx)
	flat := strings.Join(strings.Fields(printtest.Text(t, pdf)), " ")
	if got := strings.Count(flat, "anotação longa do atendimento"); got != 600 || !strings.Contains(flat, "fim-da-anotação") {
		t.Errorf("the long note shows %d of its 600 phrases", got)
	}
	if !strings.Contains(flat, "telefone curta") {
		t.Error("the row after the long one is missing")
	}
	if n := printtest.Pages(t, pdf); n < 3 {
		t.Errorf("%d pages for a note of some 18,000 characters", n)
	}
}
