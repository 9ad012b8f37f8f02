package seed

// Table indexes, parents before children (the order of Tables).
const (
	tEmpreendimentos = iota
	tUnidades
	tImobiliarias
	tCorretores
	tUsuarios
	tPessoas
	tLeads
	tLeadInteracoes
	tReservas
	tReservaAssociados
	tRepasses
	tDocumentos
	tTermos
	tConsentimentos
	numTables
)

// tables lists each table's columns in the order the generator emits values.
// A mismatch with schema.sql fails the first INSERT, and a test compares the
// lists with INFORMATION_SCHEMA.
var tables = [numTables]struct {
	name string
	cols []string
}{
	tEmpreendimentos: {"empreendimentos", []string{"idempreendimento", "nome", "incorporadora_razao_social",
		"incorporadora_cnpj", "cidade", "uf", "data_lancamento", "previsao_entrega"}},
	tUnidades: {"unidades", []string{"idunidade", "idempreendimento", "bloco", "numero", "tipo",
		"area_privativa", "quartos", "preco", "status"}},
	tImobiliarias: {"imobiliarias", []string{"idimobiliaria", "razao_social", "nome_fantasia", "cnpj",
		"creci_juridico", "gerente_nome", "gerente_cpf", "gerente_email", "gerente_telefone", "banco",
		"agencia", "conta", "chave_pix", "criado_em"}},
	tCorretores: {"corretores", []string{"idcorretor", "idimobiliaria", "nome", "cpf", "rg", "data_nascimento",
		"email", "telefone", "cep", "logradouro", "numero", "complemento", "bairro", "cidade", "uf", "creci",
		"banco", "agencia", "conta", "chave_pix", "ativo", "criado_em"}},
	tUsuarios: {"usuarios", []string{"idusuario", "idcorretor", "nome", "cpf", "email", "telefone", "login",
		"perfil_acesso", "tipo_login", "ativo", "ultimo_acesso", "criado_em"}},
	tPessoas: {"pessoas", []string{"idpessoa", "cpf", "rg", "rg_orgao_emissor", "nome", "data_nascimento",
		"sexo", "estado_civil", "nome_mae", "email", "celular", "telefone", "cep", "logradouro", "numero",
		"complemento", "bairro", "cidade", "uf", "profissao", "renda_mensal", "menor", "pep", "idconjuge",
		"criado_em", "atualizado_em"}},
	tLeads: {"leads", []string{"idlead", "idpessoa", "idempreendimento", "idcorretor", "nome", "email",
		"telefone", "cpf", "renda_informada", "origem", "status", "criado_em", "atualizado_em"}},
	tLeadInteracoes: {"lead_interacoes", []string{"idlead_interacao", "idlead", "idcorretor", "canal",
		"descricao", "data_interacao"}},
	tReservas: {"reservas", []string{"idreserva", "idunidade", "idpessoa", "idcorretor", "idlead", "status",
		"data_reserva", "data_venda", "data_distrato", "motivo_distrato", "valor_contrato", "valor_entrada",
		"valor_fgts", "valor_financiado", "cliente_nome", "cliente_cpf", "cliente_email", "cliente_telefone",
		"cliente_renda", "cliente_estado_civil", "cliente_idade", "criado_em", "atualizado_em"}},
	tReservaAssociados: {"reserva_associados", []string{"idreserva_associado", "idreserva", "idpessoa", "tipo",
		"renda", "compoe_renda", "percentual_participacao", "data_inclusao"}},
	tRepasses: {"repasses", []string{"idrepasse", "idreserva", "banco", "modalidade", "numero_contrato",
		"valor_financiado", "valor_subsidio", "saldo_devedor", "taxa_juros_anual", "prazo_meses",
		"correspondente", "correspondente_cnpj", "data_assinatura", "status"}},
	tDocumentos: {"documentos", []string{"iddocumento", "idpessoa", "idreserva", "idcorretor", "tipo",
		"nome_arquivo", "caminho", "sha256", "tamanho_bytes", "assinado", "enviado_em"}},
	tTermos: {"termos_consentimento", []string{"idtermo_consentimento", "finalidade", "versao", "texto",
		"texto_sha256", "vigente_desde", "vigente_ate"}},
	tConsentimentos: {"consentimentos", []string{"idconsentimento", "idtermo_consentimento", "idlead",
		"concedido", "canal", "ip", "user_agent", "data_concessao", "data_revogacao"}},
}

// Tables returns the names of the fourteen demo tables, parents before
// children: the order to create them in (and, reversed, to drop them).
func Tables() []string {
	names := make([]string, numTables)
	for i, t := range tables {
		names[i] = t.name
	}
	return names
}
