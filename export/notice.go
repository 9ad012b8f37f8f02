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
