package export

import "strings"

// noticeLines are the Resumo's lines for the header sections of m, after
// the data tables: the Art. 9 notice (controller, encarregado, purposes,
// retention, recipients, rights), a minor's representative (Art. 14) and
// reviews of automated decisions (Art. 20). None when m carries none.
func (xw *xlsxWriter) noticeLines(m Meta) [][]any {
	label := func(s string) cell { return cell{style: styleLabel, v: s} }
	head := func(s string) cell { return cell{style: styleHeader, v: s} }
	text := func(s string) cell { return cell{style: styleWrap, v: s} }
	// The Resumo's columns are those of its 7-column data table; the
	// notice's tables of 2 or 3 columns spread over them (merged cells)
	// so their long texts wrap across the page, not down a narrow column.
	spanHead := func(s string, n int) cell { return cell{style: styleHeader, v: s, span: n} }
	spanText := func(s string, n int) cell { return cell{style: styleWrap, v: s, span: n} }
	var lines [][]any
	section := func(title string) { lines = append(lines, []any{}, []any{label(title)}) }
	if n := m.Notice; n != nil {
		section("Informações sobre o tratamento dos seus dados (LGPD art. 9º)")
		lines = append(lines,
			[]any{head("Quem"), spanHead("Nome", 2), nil, spanHead("Contato", 4)},
			[]any{label("Controlador"), spanText(n.Controller.Name, 2), nil, spanText(n.Controller.Contact, 4)},
			[]any{label("Encarregado (art. 41)"), spanText(n.DPO.Name, 2), nil, spanText(n.DPO.Contact, 4)})
		section("Finalidades e bases legais")
		lines = append(lines, []any{head("Finalidade"), spanHead("Descrição", 3), nil, nil, spanHead("Base legal", 3)})
		for _, p := range n.Purposes {
			basis := p.LegalBasisLabel
			if p.LegalBasisArticle != "" {
				basis += " (" + p.LegalBasisArticle + ")"
			}
			lines = append(lines, []any{text(p.Name), spanText(p.Description, 3), nil, nil, spanText(basis, 3)})
		}
		section("Por quanto tempo os dados são guardados")
		lines = append(lines, []any{head("Dados"), spanHead("Prazo ou critério", 6)})
		for _, r := range n.Retention {
			lines = append(lines, []any{text(r.What), spanText(r.Rule, 6)})
		}
		section("Com quem os dados são compartilhados (art. 18, VII)")
		if len(n.Recipients) == 0 {
			lines = append(lines, []any{"Os dados não são compartilhados com terceiros."})
		} else {
			lines = append(lines, []any{spanHead("Destinatário", 2), nil, spanHead("Dados", 2), nil, spanHead("Motivo", 3)})
			for _, r := range n.Recipients {
				lines = append(lines, []any{spanText(r.Name, 2), nil, spanText(strings.Join(r.What, "; "), 2), nil, spanText(r.Purpose, 3)})
			}
		}
		section("Seus direitos e como exercê-los (art. 18)")
		lines = append(lines, []any{spanHead("Direito", 2), nil, spanHead("Como exercer", 5)})
		for _, r := range n.Rights {
			lines = append(lines, []any{spanText(r.Right, 2), nil, spanText(r.How, 5)})
		}
	}
	if mi := m.Minor; mi != nil {
		section("Titular menor de idade (art. 14)")
		lines = append(lines, []any{label("Faixa etária"), text(MinorBandLabel(mi.Band))})
		if r := mi.Representative; r != nil {
			lines = append(lines, []any{label("Representante"), text(r.Name), text(RelationLabel(r.Relation))})
		} else {
			lines = append(lines, []any{label("Representante"), text("Nenhum representante registrado")})
		}
	}
	if len(m.Reviews) > 0 {
		section("Revisão de decisões automatizadas (art. 20)")
		lines = append(lines, []any{head("Protocolo"), head("Decisão"), head("Pedida em"), head("Situação"),
			head("Revisada por"), head("Critérios e procedimentos (art. 20, §1º)"), head("Revisada em")})
		for _, r := range m.Reviews {
			decision := purposeName(m.Notice, r.Purpose) + " — " + r.Reference
			if !r.DecidedAt.IsZero() {
				decision += " (" + r.DecidedAt.In(xw.loc).Format("02/01/2006") + ")"
			}
			criteria := r.Criteria
			if r.TradeSecret != "" {
				criteria = "Não informados por segredo comercial ou industrial: " + r.TradeSecret
			}
			by := r.ReviewedBy
			if by == "" {
				by = "—"
			}
			if criteria == "" {
				criteria = "—"
			}
			lines = append(lines, []any{text(r.RequestID), text(decision), xw.stamp(r.RequestedAt),
				text(ReviewOutcomeLabel(r.Outcome)), text(by), text(criteria), xw.stamp(r.ReviewedAt)})
		}
	}
	return lines
}

// purposeName is the notice's name for a purpose code, the code when the
// notice does not name it.
func purposeName(n *Notice, code string) string {
	if n != nil {
		for _, p := range n.Purposes {
			if p.Code == code {
				return p.Name
			}
		}
	}
	return code
}
