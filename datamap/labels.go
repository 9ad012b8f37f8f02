package datamap

import (
	"strings"
	"unicode"
)

// CategoryLabel returns the pt-BR name of a data category for exports
// ("Identificação", "Contato", …). Unknown categories are returned as given.
func CategoryLabel(c string) string {
	switch c {
	case "identificacao":
		return "Identificação"
	case "contato":
		return "Contato"
	case "endereco":
		return "Endereço"
	case "financeiro":
		return "Financeiro"
	case "profissional":
		return "Profissional"
	case "familiar":
		return "Familiar"
	case "documental":
		return "Documental"
	case "comportamental":
		return "Comportamental"
	case "comunicacao":
		return "Comunicação"
	case CategoryContext:
		return "Contexto (não pessoal)"
	case "origem_racial_etnica":
		return "Origem racial ou étnica"
	case "conviccao_religiosa":
		return "Convicção religiosa"
	case "opiniao_politica":
		return "Opinião política"
	case "filiacao_sindical":
		return "Filiação a sindicato ou a organização de caráter religioso, filosófico ou político"
	case "saude":
		return "Saúde"
	case "vida_sexual":
		return "Vida sexual"
	case "genetico":
		return "Dado genético"
	case "biometrico":
		return "Dado biométrico"
	}
	return c
}

// LegalBasisLabel returns the pt-BR description of a legal basis and the
// article of LGPD art. 7 that grants it, e.g. ("Cumprimento de obrigação legal
// ou regulatória", "LGPD art. 7º, II"). Sensitive data rests on the parallel
// hypotheses of art. 11, which callers cite when the category is sensitive.
// Unknown bases return (b, "").
func LegalBasisLabel(b string) (label, article string) {
	switch b {
	case "consentimento":
		return "Consentimento do titular", "LGPD art. 7º, I"
	case "obrigacao_legal":
		return "Cumprimento de obrigação legal ou regulatória", "LGPD art. 7º, II"
	case "politicas_publicas":
		return "Execução de políticas públicas pela administração pública", "LGPD art. 7º, III"
	case "estudos_pesquisa":
		return "Realização de estudos por órgão de pesquisa", "LGPD art. 7º, IV"
	case "execucao_contrato":
		return "Execução de contrato ou de procedimentos preliminares a pedido do titular", "LGPD art. 7º, V"
	case "exercicio_direitos":
		return "Exercício regular de direitos em processo judicial, administrativo ou arbitral", "LGPD art. 7º, VI"
	case "protecao_vida":
		return "Proteção da vida ou da incolumidade física do titular ou de terceiro", "LGPD art. 7º, VII"
	case "tutela_saude":
		return "Tutela da saúde, por profissionais de saúde, serviços de saúde ou autoridade sanitária", "LGPD art. 7º, VIII"
	case "legitimo_interesse":
		return "Legítimo interesse do controlador ou de terceiro", "LGPD art. 7º, IX"
	case "protecao_credito":
		return "Proteção do crédito", "LGPD art. 7º, X"
	}
	return b, ""
}

// humanize turns a column name into a default label: "data_nascimento" and
// "dataNascimento" become "Data nascimento", "cliente_cpf" "Cliente CPF".
func humanize(column string) string {
	var words []string
	for _, w := range splitName(column, func(r rune) bool { return r == '_' }) {
		words = append(words, labelWord(strings.ToLower(w)))
	}
	s := strings.Join(words, " ")
	if s == "" {
		return column
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// labelWord spells the acronyms a Brazilian reader expects in capitals.
func labelWord(w string) string {
	switch w {
	case "cpf", "cnpj", "rg", "cep", "uf", "pis", "cnh", "creci", "pix", "fgts", "pep", "id", "ie", "nis", "ctps":
		return strings.ToUpper(w)
	case "email":
		return "e-mail"
	}
	return w
}

func joinComma(list []string) string { return strings.Join(list, ", ") }

// splitName splits a column name into its words: at runes sep accepts (which
// are dropped) and where camelCase turns from lower to upper case.
func splitName(name string, sep func(rune) bool) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
	}
	runes := []rune(name)
	for i, r := range runes {
		switch {
		case sep(r):
			flush()
		case unicode.IsUpper(r) && i > 0 && unicode.IsLower(runes[i-1]):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return out
}
