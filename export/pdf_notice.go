package export

import "strings"

// The parts of the PDF copy's header that other parts of titular fill in
// when they apply: the Art. 9 notice, the minor's representative (Art. 14)
// and the reviews of automated decisions (Art. 20).

// notice writes what Art. 9 says the titular must be told.
func (pw *pdfWriter) notice(n *Notice) {
	if n == nil {
		return
	}
	pw.section("Informações sobre o tratamento (LGPD art. 9º)")
	pw.font("", 9)
	pw.pairs([][2]string{
		{"Controlador", partyText(n.Controller)},
		{"Encarregado (art. 41)", partyText(n.DPO)},
	})
	if len(n.Purposes) > 0 {
		pw.subsection("Finalidades e bases legais")
		lines := make([][2]string, 0, len(n.Purposes))
		for _, p := range n.Purposes {
			name := p.Name
			if name == "" {
				name = p.Code
			}
			basis := p.LegalBasisLabel
			if basis == "" {
				basis = p.LegalBasis
			}
			if p.LegalBasisArticle != "" {
				basis += " (" + p.LegalBasisArticle + ")"
			}
			lines = append(lines, [2]string{name, joinNonEmpty(". ", p.Description, "Base legal: "+basis)})
		}
		pw.pairs(lines)
	}
	if len(n.Retention) > 0 {
		pw.subsection("Por quanto tempo os dados são mantidos")
		lines := make([][2]string, len(n.Retention))
		for i, r := range n.Retention {
			lines[i] = [2]string{r.What, r.Rule}
		}
		pw.pairs(lines)
	}
	if len(n.Recipients) > 0 {
		pw.subsection("Com quem os dados são compartilhados")
		lines := make([][2]string, len(n.Recipients))
		for i, r := range n.Recipients {
			lines[i] = [2]string{r.Name, joinNonEmpty(". ", strings.Join(r.What, ", "), r.Purpose)}
		}
		pw.pairs(lines)
	}
	if len(n.Rights) > 0 {
		pw.subsection("Seus direitos (art. 18) e como exercê-los")
		lines := make([][2]string, len(n.Rights))
		for i, r := range n.Rights {
			lines[i] = [2]string{r.Right, r.How}
		}
		pw.pairs(lines)
	}
}

// minorBands names the age bands of Art. 14 in words.
var minorBands = map[string]string{
	"crianca":     "Criança (menor de 12 anos, ECA art. 2º)",
	"adolescente": "Adolescente (de 12 a 17 anos)",
}

// minor says the titular is a child or adolescent and who acts for them.
func (pw *pdfWriter) minor(m *Minor) {
	if m == nil {
		return
	}
	pw.section("Titular menor de idade (LGPD art. 14)")
	pw.font("", 9)
	band := minorBands[m.Band]
	if band == "" {
		band = m.Band
	}
	rep := "Nenhum representante registrado"
	if r := m.Representative; r != nil {
		rep = joinNonEmpty(" — ", r.Name, r.Relation)
	}
	pw.pairs([][2]string{{"Faixa etária", band}, {"Representante legal", rep}})
}

// reviewOutcomes names a review's outcome in words.
var reviewOutcomes = map[string]string{
	"":         "Pendente de análise",
	"mantida":  "Decisão mantida",
	"alterada": "Decisão alterada",
}

// reviews lists the requests for review of automated decisions and their answers.
func (pw *pdfWriter) reviews(rs []DecisionReview) {
	if len(rs) == 0 {
		return
	}
	pw.section("Revisão de decisões automatizadas (LGPD art. 20)")
	for i, r := range rs {
		if i > 0 {
			pw.doc.Ln(2)
		}
		pw.font("", 9)
		outcome, ok := reviewOutcomes[r.Outcome]
		if !ok {
			outcome = r.Outcome
		}
		lines := [][2]string{
			{"Protocolo", r.RequestID},
			{"Finalidade da decisão", r.Purpose},
			{"Referência da decisão", r.Reference},
			{"Decisão tomada em", pw.stamp(r.DecidedAt)},
			{"Revisão pedida em", pw.stamp(r.RequestedAt)},
			{"Resultado", outcome},
		}
		if r.Outcome != "" {
			lines = append(lines, [2]string{"Revisada por", r.ReviewedBy}, [2]string{"Revisada em", pw.stamp(r.ReviewedAt)})
		}
		switch {
		case r.Criteria != "":
			lines = append(lines, [2]string{"Critérios e procedimentos (art. 20, §1º)", r.Criteria})
		case r.TradeSecret != "":
			lines = append(lines, [2]string{"Critérios não informados (segredo comercial e industrial)", r.TradeSecret})
		}
		pw.pairs(lines)
	}
}

func partyText(p Party) string { return joinNonEmpty(" — ", p.Name, p.Contact) }

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
