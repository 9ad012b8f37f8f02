package service

import (
	"fmt"
	"time"

	"github.com/titular/titular/config"
	"github.com/titular/titular/export"
)

// rights lists the titular's rights (LGPD Art. 18, with 8 §5, 18 §1 and
// §2, and 20) with how to exercise each: through the controller's channels
// or the encarregado's contact, within the tenant's deadline. Free of
// charge (Art. 18 §5).
func rights(dpo, controller export.Party, policy config.Policy) []export.RightNotice {
	to := "ao encarregado (" + dpo.Contact + ")"
	switch {
	case dpo.Contact != config.NotInformed:
	case controller.Contact != config.NotInformed:
		to = "ao controlador (" + controller.Contact + ")"
	default:
		to = "ao controlador (contato " + config.NotInformed + ")"
	}
	ask := "Peça pelos canais de atendimento do controlador ou " + to + ", sem custo"
	days := int(policy.Deadline() / (24 * time.Hour))
	return []export.RightNotice{
		{Right: "Confirmação da existência de tratamento (art. 18, I)",
			How: ask + "; a resposta simplificada é imediata (art. 19, I)."},
		{Right: "Acesso aos dados (art. 18, II)",
			How: fmt.Sprintf("%s; a declaração completa, como esta cópia, é entregue em até %d dias (art. 19, II).", ask, days)},
		{Right: "Correção de dados incompletos, inexatos ou desatualizados (art. 18, III)",
			How: ask + ", indicando o dado e o valor correto; a correção é repassada a quem recebeu os dados (art. 18, §6º)."},
		{Right: "Anonimização, bloqueio ou eliminação de dados desnecessários, excessivos ou tratados em desconformidade com a lei (art. 18, IV)",
			How: ask + "; dados sob guarda legal ficam bloqueados até o fim do prazo indicado nesta cópia."},
		{Right: "Portabilidade dos dados a outro fornecedor (art. 18, V)",
			How: "O arquivo JSON desta resposta segue um formato publicado e pode ser entregue a outro fornecedor; para a transferência, dirija-se " + to + "."},
		{Right: "Eliminação dos dados tratados com consentimento (art. 18, VI)",
			How: ask + "; só ficam os dados que a lei obriga a guardar (art. 16), com o motivo e o prazo."},
		{Right: "Informação sobre as entidades com as quais os dados foram compartilhados (art. 18, VII)",
			How: "Os destinatários estão listados nesta cópia; para mais detalhes, dirija-se " + to + "."},
		{Right: "Informação sobre a possibilidade de não consentir e suas consequências (art. 18, VIII)",
			How: "Cada termo de consentimento diz o que acontece se você não consentir; peça-os pelos canais de atendimento do controlador ou " + to + "."},
		{Right: "Revogação do consentimento (art. 8º, §5º, e art. 18, IX)",
			How: "A qualquer momento, " + ask[len("Peça "):] + ", por procedimento tão fácil quanto o de consentir."},
		{Right: "Oposição a tratamento feito sem consentimento, em desconformidade com a lei (art. 18, §2º)",
			How: ask + ", dizendo qual tratamento e por quê."},
		{Right: "Revisão de decisões tomadas unicamente com base em tratamento automatizado (art. 20)",
			How: ask + ", indicando a decisão; você recebe os critérios e procedimentos usados, respeitados os segredos comercial e industrial."},
		{Right: "Petição à Agência Nacional de Proteção de Dados (art. 18, §1º)",
			How: "Se o seu pedido não for atendido, você pode peticionar à ANPD (www.gov.br/anpd)."},
	}
}
