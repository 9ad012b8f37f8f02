package datamap

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/titular/titular/brdoc"
)

// Detected kinds of column content, from sampled values and the column's
// name. Identifier kinds (cpf, email, phone) can be match columns.
const (
	kindCPF       = "cpf"
	kindEmail     = "email"
	kindPhone     = "phone"
	kindCNPJ      = "cnpj" // a company's number: not personal data by itself
	kindCEP       = "cep"
	kindBirthDate = "birth_date"
	kindName      = "name"      // a person's name
	kindFreeText  = "free_text" // free text that holds identifiers
)

// minSamples is how many sampled values let the values speak for a column;
// with fewer, its name decides.
const minSamples = 5

// detection is what discovery concluded about one column's content.
type detection struct {
	kind       string
	confidence string // high, medium or low
	reason     string // for the YAML comment; never quotes a value
}

// tokens splits a column name into lower-case words (snake_case and
// camelCase), without accents.
func tokens(name string) []string {
	words := splitName(name, func(r rune) bool { return r == '_' || r == '-' || unicode.IsDigit(r) })
	for i, w := range words {
		words[i] = fold(w)
	}
	return words
}

// unaccent maps the accented letters of Portuguese to plain ones.
var unaccent = strings.NewReplacer("á", "a", "à", "a", "â", "a", "ã", "a", "é", "e", "ê", "e", "í", "i",
	"ó", "o", "ô", "o", "õ", "o", "ú", "u", "ü", "u", "ç", "c")

// fold lower-cases s and drops Portuguese accents ("Antônio" -> "antonio").
func fold(s string) string { return unaccent.Replace(strings.ToLower(s)) }

// hasToken reports whether any of words is one of the name's tokens.
func hasToken(toks []string, words ...string) bool {
	for _, t := range toks {
		for _, w := range words {
			if t == w {
				return true
			}
		}
	}
	return false
}

// hasStem reports whether any token starts with one of stems; stems catch
// words glued together ("datanascimento") and inflections.
func hasStem(toks []string, stems ...string) bool {
	for _, t := range toks {
		for _, s := range stems {
			if strings.HasPrefix(t, s) || (len(s) >= 5 && strings.Contains(t, s)) {
				return true
			}
		}
	}
	return false
}

// share counts the values for which ok holds.
func share(values []string, ok func(string) bool) int {
	n := 0
	for _, v := range values {
		if ok(v) {
			n++
		}
	}
	return n
}

func validCPF(v string) bool   { _, err := brdoc.NormalizeCPF(v); return err == nil }
func validCNPJ(v string) bool  { _, err := brdoc.NormalizeCNPJ(v); return err == nil }
func validEmail(v string) bool { _, err := brdoc.NormalizeEmail(v); return err == nil }
func validPhone(v string) bool { _, err := brdoc.NormalizePhone(v); return err == nil }

var (
	cepShape = regexp.MustCompile(`^\d{5}-\d{3}$`)
	// Identifiers inside free text: CPF-shaped numbers (checked with
	// brdoc) and e-mail addresses.
	cpfInText   = regexp.MustCompile(`\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b`)
	emailInText = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
)

func validCEP(v string) bool { _, err := brdoc.NormalizeCEP(v); return err == nil }

// holdsIdentifier reports whether free text contains a valid CPF or an
// e-mail address.
func holdsIdentifier(v string) bool {
	for _, m := range cpfInText.FindAllString(v, -1) {
		if validCPF(m) {
			return true
		}
	}
	return emailInText.MatchString(v)
}

// looksLikeName reports whether v reads as a person's name: two to six
// words, letters only, the first a common given name.
func looksLikeName(v string) bool {
	words := strings.Fields(v)
	if len(words) < 2 || len(words) > 6 {
		return false
	}
	for _, w := range words {
		for _, r := range w {
			if !unicode.IsLetter(r) && r != '\'' && r != '-' && r != '.' {
				return false
			}
		}
	}
	return givenNames[fold(words[0])]
}

// Name-based hints.
var (
	cpfWords      = []string{"cpf", "taxid", "tax", "ssn"}
	emailWords    = []string{"email", "mail", "e"}
	phoneStems    = []string{"telefone", "fone", "celular", "phone", "mobile", "whatsapp", "cel", "tel"}
	cepWords      = []string{"cep", "zip", "zipcode", "postal", "postcode"}
	birthStems    = []string{"nascimento", "nasc", "birth", "dob", "aniversario", "birthday"}
	nameWords     = []string{"nome", "name", "fullname", "firstname", "lastname", "surname", "sobrenome", "apelido"}
	notPersonName = []string{"arquivo", "file", "fantasia", "razao", "social", "empresa", "company", "produto", "product",
		"empreendimento", "project", "projeto", "bloco", "banco", "bank", "cidade", "city", "rua", "street", "office",
		"branch", "loja", "store", "campanha", "campaign", "plano", "plan", "host", "table", "tabela", "db", "tag"}
)

// detect classifies a column's content from its name, type and sampled
// values (non-empty, as text). It returns ok false when nothing personal
// (or CNPJ-like) was recognised.
func detect(col Column, values []string) (detection, bool) {
	toks := tokens(col.Name)
	n := len(values)
	enough := n >= minSamples
	pct := func(k int) int { return k * 100 / max(n, 1) }
	byValues := func(kind, what string, k int) (detection, bool) {
		conf := "high"
		if pct(k) < 80 {
			conf = "medium"
		}
		return detection{kind: kind, confidence: conf,
			reason: fmt.Sprintf("%d of %d sampled values are %s", k, n, what)}, true
	}
	text := col.class() == classText
	if text && enough {
		// Values first: a CPF stored in a column called "documento" or
		// "tax_id" is a CPF. CPF before phone: eleven digits can be both,
		// and only the CPF has check digits.
		if k := share(values, validCPF); pct(k) >= 80 || (pct(k) >= 50 && hasToken(toks, cpfWords...)) {
			return byValues(kindCPF, "valid CPFs", k)
		}
		if k := share(values, validCNPJ); pct(k) >= 80 {
			return byValues(kindCNPJ, "valid CNPJs (a company's number)", k)
		}
		if k := share(values, validEmail); pct(k) >= 80 || (pct(k) >= 50 && hasToken(toks, emailWords...)) {
			return byValues(kindEmail, "e-mail addresses", k)
		}
		if k := share(values, validPhone); (pct(k) >= 80 && !hasStem(toks, "numero", "number", "codigo", "code", "cnpj")) ||
			(pct(k) >= 50 && hasStem(toks, phoneStems...)) {
			return byValues(kindPhone, "Brazilian phone numbers", k)
		}
		if k := share(values, func(v string) bool { return cepShape.MatchString(v) }); pct(k) >= 80 {
			return byValues(kindCEP, "CEP-shaped (00000-000)", k)
		}
		if k := share(values, validCEP); pct(k) >= 80 && hasToken(toks, cepWords...) {
			return byValues(kindCEP, "CEPs", k)
		}
		// Free text: words around an identifier (a PIX key is an identifier
		// alone, not text).
		freeText := func(v string) bool { return strings.ContainsAny(v, " \n") && holdsIdentifier(v) }
		if k := share(values, freeText); k > 0 && (col.MaxLength == 0 || col.MaxLength > 60) {
			return detection{kind: kindFreeText, confidence: "high",
				reason: fmt.Sprintf("free text: %d of %d sampled values contain a CPF or an e-mail address", k, n)}, true
		}
		if hasToken(toks, nameWords...) && !hasToken(toks, notPersonName...) {
			if k := share(values, looksLikeName); pct(k) >= 50 {
				return byValues(kindName, "people's names", k)
			}
		}
	}
	// The name alone: the table is empty, or values were inconclusive.
	byName := func(kind, what string) (detection, bool) {
		conf := "medium"
		reason := "the column name suggests " + what
		if enough {
			conf, reason = "low", reason+"; the sampled values do not confirm it"
		} else if n == 0 {
			reason += "; no values to sample"
		}
		return detection{kind: kind, confidence: conf, reason: reason}, true
	}
	switch {
	case hasStem(toks, birthStems...) && (col.class() == classDate || text):
		conf := "high"
		if col.class() != classDate {
			conf = "medium"
		}
		return detection{kind: kindBirthDate, confidence: conf, reason: "a date of birth, by the column name"}, true
	case !text:
		return detection{}, false
	case hasToken(toks, "cpf"):
		return byName(kindCPF, "a CPF")
	case hasToken(toks, "email") || (hasToken(toks, "e") && hasToken(toks, "mail")):
		return byName(kindEmail, "an e-mail address")
	case hasStem(toks, phoneStems...) && !hasStem(toks, "cnpj"):
		return byName(kindPhone, "a phone number")
	case hasToken(toks, cepWords...):
		return byName(kindCEP, "a CEP")
	case hasToken(toks, nameWords...) && !hasToken(toks, notPersonName...) && !enough:
		return byName(kindName, "a name")
	}
	return detection{}, false
}
