package export

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// NoRetentionRule is the retention of data no legal hold keeps: Art. 15 and
// 16 end the processing with its purpose or at the titular's request.
const NoRetentionRule = "Enquanto for necessário à finalidade; eliminados ao fim do tratamento ou a pedido do titular, sem prazo legal de guarda (LGPD arts. 15 e 16)"

// RetentionRule says in pt-BR how long e's data is kept, or by which
// criterion (Art. 9 II): each hold as the XLSX summary words it, without
// the titular's own release dates, or NoRetentionRule when none applies.
// The notice of an export (Notice.Retention) is built from it.
func RetentionRule(e Entity) string {
	if len(e.Holds) == 0 {
		return NoRetentionRule
	}
	parts := make([]string, len(e.Holds))
	for i, r := range e.Holds {
		rule := holdRule(e, r)
		first, n := utf8.DecodeRuneInString(rule)
		parts[i] = string(unicode.ToLower(first)) + rule[n:]
	}
	return "Guarda legal, mesmo após um pedido de eliminação: " + strings.Join(parts, "; ")
}

// MinorBandLabel names an age band of Minor in pt-BR.
func MinorBandLabel(band string) string {
	switch band {
	case "crianca":
		return "Criança (menos de 12 anos, ECA art. 2º)"
	case "adolescente":
		return "Adolescente (12 a 17 anos)"
	}
	return band
}

// RelationLabel names a representative's relation to the titular in pt-BR.
func RelationLabel(rel string) string {
	switch rel {
	case "mae":
		return "Mãe"
	case "pai":
		return "Pai"
	case "tutor":
		return "Tutor(a)"
	case "responsavel_legal":
		return "Responsável legal"
	case "procurador":
		return "Procurador(a)"
	}
	return rel
}

// ReviewOutcomeLabel says where a review of an automated decision stands,
// in pt-BR.
func ReviewOutcomeLabel(outcome string) string {
	switch outcome {
	case "":
		return "Em análise pelo encarregado"
	case "mantida":
		return "Decisão mantida após revisão"
	case "alterada":
		return "Decisão alterada após revisão"
	}
	return outcome
}
