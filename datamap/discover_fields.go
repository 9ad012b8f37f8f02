package datamap

import (
	"fmt"
	"regexp"
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
	address   bool // the table holds address columns
	documents bool // the table holds documents or files
	outside   bool // outside the person prefix of an organisation's row
	unique    bool // the column alone is a primary or unique key
}

// suggest proposes a field for one column of an entity, with the note that
// explains it (confidence or "context", then why).
func suggest(col Column, values []string, det detection, detected bool, cc columnContext) (Field, string) {
	f := Field{Column: col.Name, Label: humanize(col.Name)}
	toks := tokens(col.Name)
	personal := func(category, conf, why string) (Field, string) {
		f.Category = category
		f.Anonymizer = &AnonymizerRef{Name: anonymizerFor(category, det.kind, col, toks, cc.unique)}
		if f.Anonymizer.Name == "keep" && col.class() == classNumber && !cc.unique {
			// A NOT NULL amount is rounded, not kept: ANONYMIZE needs an
			// irreversible change.
			f.Anonymizer = &AnonymizerRef{Name: "generalize.bucket", Params: map[string]any{"size": 100}}
		}
		return f, conf + ": " + why
	}
	context := func(why string) (Field, string) {
		f.Category = CategoryContext
		return f, why
	}
	switch {
	case !(detected && det.confidence == "high") && linkName(col.Name) || (len(values) >= minSamples && share(values, uuidShape.MatchString)*5 >= len(values)*4):
		return context("context: an id or link column")
	case hasStem(toks, "optout", "donotcall", "invalid") || (hasToken(toks, "opt") && hasToken(toks, "out", "in")) || (hasToken(toks, "do") && hasToken(toks, "not")):
		return context("context: a contact preference flag (opt-out), kept so the preference is honoured")
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
	if personName(toks) && col.class() == classText {
		f.Category = "identificacao"
		f.Anonymizer = &AnonymizerRef{Name: fitAnonymizer("fake.name", col, cc.unique)}
		return f, "medium: the column name says a person's name"
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
// for identifiers and names, a fake street only in a street column,
// generalisation for dates of birth and CEPs, NULL (or a marker) for city,
// state and the other parts of an address, nullify where NULL is allowed,
// otherwise redact (text) or keep (the DPO decides). fitAnonymizer then
// falls back to one the column's type, length, NULL and UNIQUE accept.
func anonymizerFor(category, kind string, col Column, toks []string, unique bool) string {
	want := ""
	switch kind {
	case kindCPF:
		want = "fake.cpf"
	case kindEmail:
		want = "fake.email"
	case kindPhone:
		want = "fake.phone"
	case kindCEP:
		want = "generalize.cep_prefix"
	case kindBirthDate:
		want = "generalize.year"
	case kindName:
		want = "fake.name"
	case kindFreeText:
		want = "redact"
	}
	if want == "" && category == "endereco" {
		switch {
		case hasToken(toks, cepWords...) || hasStem(toks, "postal", "postcode", "zipcode"):
			want = "generalize.cep_prefix"
		case hasToken(toks, "city", "cidade", "municipio", "state", "estado", "uf", "province", "country", "pais", "region", "county",
			"district", "bairro", "neighborhood", "number", "numero", "complement", "complemento"):
			// no fake street here: NULL, else a marker
		case hasStem(toks, "logradouro", "endereco", "address", "street") || hasToken(toks, "rua"):
			want = "fake.address"
		}
	}
	if want == "" && col.class() == classDate {
		want = "generalize.year"
	}
	return fitAnonymizer(want, col, unique)
}

// fitAnonymizer returns want when the column accepts it, else nullify,
// random (a UNIQUE text column), redact (text), date_shift (a date in a
// unique key: a rental's date beside its customer) or keep.
func fitAnonymizer(want string, col Column, unique bool) string {
	for _, a := range []string{want, "nullify", "random", "redact", "date_shift", "keep"} {
		if a != "" && anonymizerFits(a, col, unique) {
			return a
		}
	}
	return "keep"
}

// anonymizerFits mirrors the built-in anonymizers' checks (type, length,
// NULL, UNIQUE), so a draft passes datamap check.
func anonymizerFits(a string, col Column, unique bool) bool {
	text := func(least int64) bool {
		return col.class() == classText && (col.MaxLength == 0 || col.MaxLength >= least)
	}
	switch a {
	case "fake.name":
		return text(3)
	case "fake.email":
		return text(21)
	case "fake.phone", "fake.cpf":
		return text(11)
	case "fake.address":
		return text(10) && !unique
	case "generalize.cep_prefix":
		return text(8) && !unique
	case "generalize.year":
		c := col.class()
		return (c == classDate || c == classTime || c == classText) && !unique
	case "nullify":
		return col.Nullable
	case "random":
		return unique && text(1) && (col.MaxLength == 0 || col.MaxLength >= 6)
	case "redact":
		return text(1) && !unique
	case "date_shift":
		return col.class() == classDate
	case "keep":
		return true
	}
	return false
}

// personName reports a column named for a person's name (first_name,
// last_name, full_name, nome, sobrenome).
func personName(toks []string) bool {
	if hasToken(toks, notPersonName...) || hasToken(toks, "user", "file", "account", "middle") {
		return false
	}
	if hasToken(toks, "firstname", "lastname", "fullname", "surname", "sobrenome", "nome") {
		return true
	}
	return hasToken(toks, "name") && hasToken(toks, "first", "last", "full", "given", "family", "display", "person", "customer", "contact", "client", "cliente")
}

var uuidShape = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)
