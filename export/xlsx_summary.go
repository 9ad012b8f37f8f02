package export

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// summaryTitle heads the Resumo sheet.
const summaryTitle = "Relatório de dados pessoais — LGPD art. 18, II e art. 19, II"

// writeSummary writes the Resumo sheet, first in the workbook and written
// last, since it needs every entity's row count.
func (xw *xlsxWriter) writeSummary() error {
	sw, err := openSheet(xw.zw, xw.sheets[0].path, sheetOptions{widths: []float64{32, 40, 40, 28, 28, 40, 12}, selected: true})
	if err != nil {
		return fmt.Errorf("export: summary sheet: %w", err)
	}
	m := xw.meta
	label := func(s string) cell { return cell{style: styleLabel, v: s} }
	head := func(s string) cell { return cell{style: styleHeader, v: s} }
	text := func(s string) cell { return cell{style: styleWrap, v: s} }
	lines := [][]any{
		{cell{style: styleTitle, v: summaryTitle}},
		{},
		{label("Controlador"), m.TenantName},
		{label("Protocolo da solicitação"), m.RequestID},
		{label("Tipo de solicitação"), kindLabel(m.Kind)},
		{label("Referência do titular"), m.SubjectRef},
		{label("Recebida em"), xw.stamp(m.ReceivedAt)},
		{label("Prazo de resposta"), xw.stamp(m.DueAt)},
		{label("Gerado em"), xw.stamp(m.GeneratedAt)},
		{label("Fuso horário"), "Horário de Brasília (" + saoPaulo + ")"},
		{},
		{label("Dados pessoais tratados")},
		{head("Dados"), head("Finalidade"), head("Base legal"), head("Origem"), head("Compartilhado com"), head("Retenção"), head("Registros")},
	}
	total := 0
	for _, d := range xw.done {
		e := d.ent
		name := e.Label
		if name == "" {
			name = e.Name
		}
		lines = append(lines, []any{
			text(name), text(purposeText(e)), text(legalBasisText(e)), text(e.Origin),
			text(sharedText(e.SharedWith)), text(xw.retentionText(e)), rowCount(d.rows),
		})
		total += d.rows
	}
	lines = append(lines, []any{label("Total"), nil, nil, nil, nil, nil, cell{style: styleLabel, v: int64(total)}})
	lines = append(lines, []any{}, []any{label("Categorias de dados presentes")})
	if cats := xw.categories(); len(cats) == 0 {
		lines = append(lines, []any{"Nenhum registro de dados pessoais foi encontrado para este titular."})
	} else {
		// Two lines however many categories: the names, wrapped across
		// the page, then those that are sensitive data.
		var all, sensitive []string
		for _, c := range cats {
			all = append(all, c.label)
			if c.sensitive {
				all[len(all)-1] += " (dado sensível)"
				sensitive = append(sensitive, c.label)
			}
		}
		none := "Nenhuma"
		if len(sensitive) > 0 {
			none = strings.Join(sensitive, "; ")
		}
		lines = append(lines,
			[]any{label("Categorias"), cell{style: styleWrap, v: strings.Join(all, "; "), span: 6}},
			[]any{label("Dados sensíveis (art. 5º, II)"), cell{style: styleWrap, v: none, span: 6}})
	}
	lines = append(lines, xw.noticeLines(m)...)
	for _, line := range lines {
		if len(line) == 0 {
			sw.skipRow() // a blank line: the row number is skipped
			continue
		}
		if err := sw.writeRow(line); err != nil {
			return fmt.Errorf("export: writing summary sheet: %w", err)
		}
	}
	if err := sw.close(); err != nil {
		return fmt.Errorf("export: finishing summary sheet: %w", err)
	}
	return nil
}

// stamp renders a request time as a São Paulo datetime cell, "—" when unset.
func (xw *xlsxWriter) stamp(t time.Time) any {
	if t.IsZero() {
		return "—"
	}
	return cell{style: styleStamp, v: t.In(xw.loc)}
}

// category is one line of the Resumo's categories table.
type category struct {
	code, label string
	sensitive   bool
}

// categories lists, sorted by code, the categories of entities that had rows.
func (xw *xlsxWriter) categories() []category {
	byCode := map[string]*category{}
	for _, d := range xw.done {
		if d.rows == 0 {
			continue
		}
		for _, f := range d.ent.Fields {
			if f.Category == "" {
				continue
			}
			c, ok := byCode[f.Category]
			if !ok {
				c = &category{code: f.Category, label: f.CategoryLabel}
				byCode[f.Category] = c
			}
			if c.label == "" {
				c.label = f.CategoryLabel
			}
			c.sensitive = c.sensitive || f.Sensitive
		}
	}
	out := make([]category, 0, len(byCode))
	for _, c := range byCode {
		if c.label == "" {
			c.label = c.code
		}
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].code < out[j].code })
	return out
}

// kindLabels are the pt-BR names of request kinds. Never modified.
var kindLabels = map[string]string{
	"EXTRACT":   "Acesso e cópia dos dados (art. 18, II e V)",
	"CONFIRM":   "Confirmação da existência de tratamento (art. 18, I)",
	"CORRECT":   "Correção de dados (art. 18, III)",
	"DELETE":    "Eliminação de dados (art. 18, IV e VI)",
	"ANONYMIZE": "Anonimização de dados (art. 18, IV)",
	"CONSENT":   "Consentimento (art. 18, IX)",
}

// kindLabel names a request kind in pt-BR, keeping the code for reference.
func kindLabel(kind string) string {
	if l, ok := kindLabels[kind]; ok {
		return l + " — " + kind
	}
	return kind
}

func legalBasisText(e Entity) string {
	l := e.LegalBasisLabel
	if l == "" {
		l = e.LegalBasis
	}
	if e.LegalBasisArticle != "" {
		return l + " (" + e.LegalBasisArticle + ")"
	}
	return l
}

func sharedText(with []string) string {
	if len(with) == 0 {
		return "Não compartilhado"
	}
	return strings.Join(with, "; ")
}

// retentionText says how long rows are kept after a deletion request and
// why, hold by hold, with the date the titular's rows are released, e.g.
// "5 anos a contar de Data da venda (Lei 9.613/1998 art. 10) — liberação em
// 10/08/2028".
func (xw *xlsxWriter) retentionText(e Entity) string {
	if len(e.Holds) == 0 {
		return "Sem prazo legal de guarda"
	}
	parts := make([]string, len(e.Holds))
	for i, r := range e.Holds {
		parts[i] = xw.holdText(e, r)
	}
	return strings.Join(parts, ";\n")
}

func (xw *xlsxWriter) holdText(e Entity, r *Retention) string {
	t := holdRule(e, r)
	if r.Until != nil {
		// A civil date: holds count whole days, so no zone moves it.
		t += " — liberação em " + r.Until.UTC().Format("02/01/2006")
	}
	return t
}

// holdRule says in pt-BR how long a hold keeps an entity's rows and why,
// without the titular's release date: "5 anos a contar de Data da venda
// (Lei 9.613/1998 art. 10)".
func holdRule(e Entity, r *Retention) string {
	var b strings.Builder
	switch {
	case r.WhileReferenced:
		b.WriteString("Enquanto houver registros retidos que dependem deste")
	case r.KeepYears == 1:
		b.WriteString("1 ano")
	case r.KeepYears > 1:
		b.WriteString(strconv.Itoa(r.KeepYears) + " anos")
	default:
		b.WriteString("Guarda legal")
	}
	if r.FromText != "" {
		// "a mais recente entre …" contracts: "a contar da mais recente".
		if rest, ok := strings.CutPrefix(r.FromText, "a "); ok {
			b.WriteString(" a contar da " + rest)
		} else {
			b.WriteString(" a contar de " + r.FromText)
		}
	} else if r.From != "" {
		from := r.From
		for _, f := range e.Fields {
			if f.Name == r.From && f.Label != "" {
				from = f.Label
				break
			}
		}
		b.WriteString(" a contar de " + from)
	}
	if r.Reference != "" {
		b.WriteString(" (" + r.Reference + ")")
	}
	return b.String()
}

func yesNo(v bool) string {
	if v {
		return "Sim"
	}
	return "Não"
}
