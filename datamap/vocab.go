package datamap

import (
	"regexp"
	"slices"
)

// CategoryContext marks a column that is not personal data (a status, a
// foreign key, a date of the sale); it travels in exports as context only.
const CategoryContext = "contexto"

// The vocabularies below are fixed; functions return them so no caller can
// modify a shared slice.

func identifierNames() []string { return []string{"cpf", "email", "phone"} }

func plainCategories() []string {
	return []string{"identificacao", "contato", "endereco", "financeiro", "profissional", "familiar",
		"documental", "comportamental", "comunicacao", CategoryContext}
}

// sensitiveCategories are the LGPD Art. 5 II categories ("dado pessoal sensível").
func sensitiveCategories() []string {
	return []string{"origem_racial_etnica", "conviccao_religiosa", "opiniao_politica", "filiacao_sindical",
		"saude", "vida_sexual", "genetico", "biometrico"}
}

func allCategories() []string { return append(plainCategories(), sensitiveCategories()...) }

func validators() []string { return []string{"cpf", "cnpj", "email", "phone", "cep", "date"} }

func legalBases() []string {
	return []string{"consentimento", "obrigacao_legal", "execucao_contrato", "exercicio_direitos",
		"legitimo_interesse", "protecao_credito", "tutela_saude", "protecao_vida", "politicas_publicas",
		"estudos_pesquisa"}
}

func onDeleteActions() []string { return []string{"block", "anonymize"} }

// BuiltinAnonymizers lists the anonymizer names a map may use when Parse is
// not given WithAnonymizers.
func BuiltinAnonymizers() []string {
	return []string{"keep", "nullify", "redact", "constant", "mask", "hmac", "random",
		"fake.name", "fake.email", "fake.phone", "fake.cpf", "fake.cnpj", "fake.cep", "fake.address",
		"generalize.year", "generalize.month", "generalize.cep_prefix", "generalize.bucket",
		"date_shift", "ip_truncate"}
}

// IsSensitive reports whether category is sensitive personal data under
// LGPD Art. 5 II (racial or ethnic origin, religion, politics, union
// membership, health, sex life, genetic, biometric).
func IsSensitive(category string) bool { return slices.Contains(sensitiveCategories(), category) }

// sqlName is what table and column names must look like: they reach SQL
// (backtick-quoted) after validation, so nothing else is allowed.
var sqlName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
