package console

// The console's words, pt-BR, in one place: what the DPO reads. Templates
// reach them through the s function ({{s "nav.queue"}}); an unknown key
// shows as "??key??" so a missing string is seen, not silent.
var ptBR = map[string]string{
	"product":              "titular — console do encarregado",
	"skip":                 "Pular para o conteúdo",
	"nav.label":            "Seções do console",
	"nav.queue":            "Fila",
	"nav.titular":          "Titular",
	"nav.propagation":      "Propagação",
	"nav.consent":          "Consentimento",
	"nav.record":           "Registro (Art. 37)",
	"nav.report":           "Relatório",
	"nav.signout":          "Sair",
	"header.tenant":        "Organização",
	"header.user":          "Conectado como",
	"header.switch":        "Trocar",
	"signin.title":         "Entrar",
	"signin.intro":         "Acesso do encarregado (DPO) e da auditoria. Use a chave de API fornecida pelo operador; ela é trocada por uma sessão e não fica guardada.",
	"signin.key":           "Chave de API",
	"signin.submit":        "Entrar",
	"signin.bad_key":       "Chave de API inválida. Confira a chave ou peça uma nova ao operador.",
	"signin.empty_key":     "Informe a chave de API.",
	"signin.role_refused":  "Esta chave tem o papel “%s”, que não acessa o console. Só os papéis dpo (encarregado) e auditor podem entrar; peça ao operador uma chave com um desses papéis.",
	"signin.no_tenant":     "Esta chave não dá acesso a nenhuma organização configurada.",
	"signin.or":            "Ou entre com a chave de API",
	"signin.with":          "Entrar com",
	"signin.idp":           "Pela identidade da empresa",
	"signin.continue":      "Sessão iniciada. Continuar para o console",
	"oidc.unavailable":     "O provedor de identidade %s não respondeu. Tente de novo em instantes; se persistir, avise o operador.",
	"oidc.bad_state":       "Esta volta do provedor de identidade não corresponde a uma entrada iniciada aqui (ou levou mais de 10 minutos). Comece a entrada de novo.",
	"oidc.refused":         "O provedor de identidade %s não concluiu a entrada. Tente de novo.",
	"oidc.exchange":        "Não foi possível concluir a entrada com %s (troca do código). Tente de novo; se persistir, avise o operador.",
	"oidc.invalid":         "O provedor de identidade devolveu um token que não pôde ser verificado. Comece a entrada de novo; se persistir, avise o operador.",
	"oidc.no_role":         "Seu usuário foi reconhecido, mas nenhum dos seus grupos ou papéis dá acesso ao titular. Peça ao administrador para incluí-lo no grupo do encarregado (dpo) ou da auditoria.",
	"csrf.refused":         "Formulário recusado: o token de segurança (CSRF) está ausente ou não confere. Recarregue a página e envie de novo.",
	"notfound.title":       "Página não encontrada",
	"notfound.body":        "Esta página não existe ou sua sessão não dá acesso a ela.",
	"error.title":          "Erro",
	"error.body":           "Não foi possível carregar a página. Tente de novo; se persistir, avise o operador.",
	"queue.title":          "Fila de pedidos",
	"queue.filters":        "Filtros",
	"queue.status":         "Situação",
	"queue.kind":           "Tipo",
	"queue.any":            "Todos",
	"queue.open":           "Em aberto",
	"queue.closed":         "Encerrados",
	"queue.due_before":     "Prazo até",
	"queue.received_from":  "Recebido de",
	"queue.received_to":    "Recebido até",
	"queue.overdue_only":   "Só os atrasados",
	"queue.apply":          "Filtrar",
	"queue.clear":          "Limpar filtros",
	"queue.counts":         "Nesta organização",
	"queue.counts_missing": "Não foi possível contar os pedidos agora; a lista abaixo está completa. Recarregue a página para tentar de novo.",
	"queue.count.open":     "em aberto",
	"queue.count.total":    "pedidos no total",
	"queue.count.overdue":  "atrasados",
	"queue.count.approval": "aguardando aprovação",
	"queue.count.verify":   "aguardando verificação",
	"queue.quick":          "Filas",
	"queue.all":            "Todos os pedidos",
	"queue.overdue_queue":  "Atrasados",
	"queue.approval_queue": "Fila de aprovação",
	"queue.verify_queue":   "Fila de verificação",
	"queue.col.id":         "Pedido",
	"queue.col.kind":       "Tipo",
	"queue.col.status":     "Situação",
	"queue.col.received":   "Recebido em",
	"queue.col.due":        "Prazo",
	"queue.overdue":        "Atrasado",
	"queue.empty":          "Nenhum pedido com estes filtros.",
	"queue.pages":          "Paginação",
	"queue.next":           "Próxima página",
	"queue.first":          "Primeira página",
	"queue.bad_status":     "Filtro de situação inválido: escolha a situação na lista.",
	"queue.bad_kind":       "Filtro de tipo inválido: escolha o tipo na lista.",
	"queue.bad_overdue":    "Filtro “Só os atrasados” inválido: marque ou desmarque a caixa.",
	"queue.bad_date":       "Data inválida em “%s”: escolha uma data no calendário (dia/mês/ano, de 2000 em diante).",
	"queue.bad_range":      "Período de recebimento inválido: “Recebido até” deve ser no mesmo dia ou depois de “Recebido de”.",
	"queue.bad_page":       "Esta página da fila não vale mais (o endereço foi alterado ou os filtros mudaram). Volte à primeira página.",
	"queue.caption":        "Pedidos de titulares desta organização, pelo prazo: os atrasados primeiro, depois os que vencem antes",
}

// statusNames and kindNames name the API's enums in pt-BR.
var statusNames = map[string]string{
	"RECEIVED":              "Recebido",
	"AWAITING_VERIFICATION": "Aguardando verificação",
	"AWAITING_APPROVAL":     "Aguardando aprovação",
	"PROCESSING":            "Em processamento",
	"COMPLETED":             "Concluído",
	"DENIED":                "Negado",
	"FAILED":                "Falhou",
	"CANCELED":              "Cancelado",
}

var kindNames = map[string]string{
	"EXTRACT":   "Acesso (cópia dos dados)",
	"CONFIRM":   "Confirmação de tratamento",
	"CORRECT":   "Correção",
	"DELETE":    "Eliminação",
	"ANONYMIZE": "Anonimização",
	"CONSENT":   "Consentimento",
	"BLOCK":     "Bloqueio",
	"REVIEW":    "Revisão de decisão automatizada",
}

// addStrings adds a page file's strings to ptBR, from its init; a key
// defined twice is a programming error caught at start.
func addStrings(m map[string]string) {
	for k, v := range m {
		if _, dup := ptBR[k]; dup {
			panic("console: string " + k + " defined twice")
		}
		ptBR[k] = v
	}
}

// s looks a string up.
func s(key string) string {
	if v, ok := ptBR[key]; ok {
		return v
	}
	return "??" + key + "??"
}
