package datamap

import (
	"fmt"
	"strings"
)

// categoryRule proposes a category for columns whose name has one of words
// as a token or starts with (or, for stems of five letters or more,
// contains) one of stems.
type categoryRule struct {
	category, why string
	words, stems  []string
}

// categoryRules are tried in order; sensitive categories (LGPD art. 5 II)
// come first so a health column is never filed as plain identification.
var categoryRules = []categoryRule{
	{category: "saude", why: "health data (sensitive, LGPD art. 11)",
		words: []string{"cid", "medico", "medical", "sangue", "blood"}, stems: []string{"saude", "health", "doenca", "disease", "deficien", "disabil", "alergi", "allerg"}},
	{category: "origem_racial_etnica", why: "racial or ethnic origin (sensitive, LGPD art. 11)",
		words: []string{"raca", "race", "etnia"}, stems: []string{"ethnic"}},
	{category: "conviccao_religiosa", why: "religious conviction (sensitive, LGPD art. 11)", stems: []string{"religi"}},
	{category: "opiniao_politica", why: "political opinion (sensitive, LGPD art. 11)", stems: []string{"partido", "politic"}},
	{category: "filiacao_sindical", why: "union membership (sensitive, LGPD art. 11)", stems: []string{"sindica"}},
	{category: "vida_sexual", why: "sex life (sensitive, LGPD art. 11)", stems: []string{"sexual"}},
	{category: "genetico", why: "genetic data (sensitive, LGPD art. 11)", words: []string{"dna"}, stems: []string{"genetic"}},
	{category: "biometrico", why: "biometric data (sensitive, LGPD art. 11)", words: []string{"facial"}, stems: []string{"biometr", "fingerprint"}},
	{category: "familiar", why: "family relations",
		words: []string{"civil", "marital", "conjuge", "spouse", "mae", "mother", "pai", "father", "esposa", "esposo", "wife", "husband", "filhos", "children"},
		stems: []string{"dependent", "parentesco", "kinship"}},
	{category: "comportamental", why: "behaviour (access, consent, preferences)",
		stems: []string{"acesso", "access", "consent", "concedid", "aceite", "preferenc", "interesse", "newsletter", "useragent", "agent", "navegador", "browser", "optin"}},
	{category: "endereco", why: "an address",
		words: []string{"rua", "city", "uf", "state", "estado", "pais", "county"},
		stems: []string{"logradouro", "endereco", "address", "street", "bairro", "neighborhood", "district", "complemento", "cidade", "municipio", "country"}},
	{category: "financeiro", why: "financial data",
		words: []string{"pix", "rate", "fee", "cost", "custo", "iban"},
		stems: []string{"renda", "income", "salar", "valor", "value", "amount", "preco", "price", "banco", "bank", "agencia",
			"conta", "account", "saldo", "balance", "taxa", "prazo", "financ", "fgts", "subsidi", "aluguel", "rent", "pagamento",
			"payment", "modalidade", "percentual", "compoe", "contrato", "contract", "credit", "credito", "divida", "debt", "fatura", "invoice"}},
	{category: "profissional", why: "professional data",
		words: []string{"pep", "job"}, stems: []string{"profiss", "occupation", "cargo", "creci", "employer", "empregador"}},
	{category: "documental", why: "an identity document or a file",
		words: []string{"rg", "cnh", "orgao", "emissor", "sha", "md"}, stems: []string{"passaport", "passport", "arquivo", "file", "caminho", "path", "anexo", "attachment", "checksum", "hash"}},
	{category: "comunicacao", why: "free text or messages",
		words: []string{"nota", "notes", "note", "obs", "texto", "text", "body", "memo"},
		stems: []string{"descricao", "description", "observac", "mensagem", "message", "comentario", "comment", "anotac", "motivo", "reason"}},
	{category: "identificacao", why: "identification",
		words: []string{"sexo", "gender", "genero", "idade", "age", "menor", "minor", "ip", "login", "username", "user", "foto", "photo", "avatar", "apelido", "nickname"},
		stems: []string{"nacionalidade", "nationality", "naturalidade"}},
}

// contextWords mark columns that describe the relationship, not the person.
var contextWords = []string{"status", "situacao", "tipo", "type", "origem", "source", "canal", "channel", "ativo", "active", "perfil", "flag", "categoria", "category"}

// relationValues are values that name a family or legal relation.
var relationValues = map[string]bool{"conjuge": true, "spouse": true, "dependente": true, "dependent": true, "filho": true,
	"filha": true, "child": true, "pai": true, "mae": true, "father": true, "mother": true, "esposo": true, "esposa": true,
	"wife": true, "husband": true, "fiador": true, "guarantor": true, "procurador": true, "attorney": true, "cocomprador": true,
	"comprador": true, "buyer": true, "inquilino": true, "locatario": true, "tenant": true, "proprietario": true, "owner": true,
	"titular": true, "cotitular": true, "holder": true}

// columnContext is what the entity knows about a column beyond its content.
type columnContext struct {
	fk          *ForeignKey // the foreign key the column belongs to, if any
	fkPerson    bool        // that key points at a table whose rows are people's
	selfRef     bool        // that key points at the column's own table
	address     bool        // the table holds address columns
	documents   bool        // the table holds documents or files
	outside     bool        // outside the person prefix of an organisation's row
	personTable string      // the table the key points at, for the note
}

// suggest proposes a field for one column of an entity, with the note that
// explains it (confidence or "context", then why).
func suggest(col Column, values []string, det detection, detected bool, cc columnContext) (Field, string) {
	f := Field{Column: col.Name, Label: humanize(col.Name)}
	toks := tokens(col.Name)
	personal := func(category, conf, why string) (Field, string) {
		f.Category = category
		f.Anonymizer = &AnonymizerRef{Name: anonymizerFor(category, det.kind, col, toks)}
		return f, conf + ": " + why
	}
	context := func(why string) (Field, string) {
		f.Category = CategoryContext
		return f, why
	}
	switch {
	case cc.fk != nil && cc.selfRef:
		return personal("familiar", "medium", "links the row to another row of the same table, another titular (a spouse?); mapped, not followed")
	case cc.fk != nil && cc.fkPerson:
		return personal("identificacao", "low", "identifies another person ("+cc.personTable+"); make it contexto if it only names who was in charge")
	case cc.fk != nil:
		return context("context: refers to table " + cc.fk.RefTable)
	case detected && det.kind == kindCNPJ:
		return context("context: " + det.reason)
	case detected && cc.outside && det.kind != kindFreeText:
		return context("context: " + det.reason + ", but outside the person's columns of an organisation's row; review")
	case detected:
		cat := map[string]string{kindCPF: "identificacao", kindEmail: "contato", kindPhone: "contato", kindCEP: "endereco",
			kindBirthDate: "identificacao", kindName: "identificacao", kindFreeText: "comunicacao"}[det.kind]
		f.Validate = validatorFor(det.kind, col)
		return personal(cat, det.confidence, det.reason)
	case cc.outside:
		return context("context: belongs to the organisation in the row, not to the person whose columns share a prefix; review")
	}
	for _, r := range categoryRules {
		if hasToken(toks, r.words...) || hasStem(toks, r.stems...) {
			if r.category == "endereco" && hasToken(toks, "estado") && hasToken(toks, "civil") {
				continue
			}
			return personal(r.category, "medium", "the column name suggests "+r.why)
		}
	}
	if hasToken(toks, "numero", "number", "complemento") && cc.address && !hasStem(toks, "contrato", "contract") {
		return personal("endereco", "medium", "an address number, beside the table's other address columns")
	}
	if k := share(values, func(v string) bool { return relationValues[fold(strings.TrimSpace(v))] }); len(values) > 0 && k*2 >= len(values) {
		return personal("familiar", "medium", fmt.Sprintf("%d of %d sampled values name a family or legal relation", k, len(values)))
	}
	switch cl := col.class(); {
	case cl == classDate || cl == classTime:
		return context("context: the date of an event; review if it describes the person")
	case cc.documents:
		return personal("documental", "medium", "part of a table of documents or files")
	case hasToken(toks, contextWords...):
		return context("context: describes the relationship, not the person")
	}
	return context("low: no personal pattern recognised; contexto unless it describes the person")
}

// validatorFor is the validation that fits the kind and the column.
func validatorFor(kind string, col Column) string {
	v := map[string]string{kindCPF: "cpf", kindEmail: "email", kindPhone: "phone", kindCEP: "cep", kindBirthDate: "date"}[kind]
	if v == "" {
		return ""
	}
	if msg, _ := validateFits(v, col); msg != "" {
		return ""
	}
	return v
}

// anonymizerFor proposes an anonymizer that keeps the column valid: fakes
// for identifiers, generalisation for dates of birth and CEPs, nullify
// where NULL is allowed, otherwise redact (text) or keep (the DPO decides).
func anonymizerFor(category, kind string, col Column, toks []string) string {
	switch kind {
	case kindCPF:
		return "fake.cpf"
	case kindEmail:
		return "fake.email"
	case kindPhone:
		return "fake.phone"
	case kindCEP:
		return "generalize.cep_prefix"
	case kindBirthDate:
		return "generalize.year"
	case kindName:
		return "fake.name"
	case kindFreeText:
		return "redact"
	}
	switch {
	case category == "endereco" && hasStem(toks, "logradouro", "endereco", "address", "street") && col.class() == classText:
		return "fake.address"
	case col.Nullable:
		return "nullify"
	case col.class() == classText:
		return "redact"
	case col.class() == classDate:
		return "generalize.year"
	}
	return "keep"
}
