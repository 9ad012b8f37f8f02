package datamap

import (
	"slices"
	"strings"
	"testing"
)

func TestVocabularyLabels(t *testing.T) {
	for _, c := range allCategories() {
		if l := CategoryLabel(c); l == c || l == "" {
			t.Errorf("CategoryLabel(%q) = %q, want a pt-BR label", c, l)
		}
	}
	if got := CategoryLabel("identificacao"); got != "Identificação" {
		t.Errorf("CategoryLabel(identificacao) = %q", got)
	}
	if got := CategoryLabel("desconhecida"); got != "desconhecida" {
		t.Errorf("unknown category label = %q", got)
	}
	for _, b := range legalBases() {
		label, art := LegalBasisLabel(b)
		if label == b || !strings.HasPrefix(art, "LGPD art. 7º, ") {
			t.Errorf("LegalBasisLabel(%q) = %q, %q", b, label, art)
		}
	}
	if label, art := LegalBasisLabel("obrigacao_legal"); label != "Cumprimento de obrigação legal ou regulatória" || art != "LGPD art. 7º, II" {
		t.Errorf("LegalBasisLabel(obrigacao_legal) = %q, %q", label, art)
	}
	if label, art := LegalBasisLabel("x"); label != "x" || art != "" {
		t.Errorf("unknown basis = %q, %q", label, art)
	}
}

func TestIsSensitive(t *testing.T) {
	for _, c := range sensitiveCategories() {
		if !IsSensitive(c) {
			t.Errorf("IsSensitive(%q) = false", c)
		}
	}
	for _, c := range plainCategories() {
		if IsSensitive(c) {
			t.Errorf("IsSensitive(%q) = true", c)
		}
	}
}

func TestBuiltinAnonymizersIsACopy(t *testing.T) {
	a := BuiltinAnonymizers()
	a[0] = "changed"
	if !slices.Contains(BuiltinAnonymizers(), "keep") {
		t.Error("BuiltinAnonymizers shares its backing array")
	}
}

func TestHumanize(t *testing.T) {
	for in, want := range map[string]string{
		"data_nascimento": "Data nascimento",
		"dataNascimento":  "Data nascimento",
		"cliente_cpf":     "Cliente CPF",
		"email":           "E-mail",
		"_x":              "X",
		"RG":              "RG",
		"__":              "__",
	} {
		if got := humanize(in); got != want {
			t.Errorf("humanize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSuggestions(t *testing.T) {
	opts := []string{"table", "key", "label", "match"}
	for got, want := range map[string]string{"tabel": "table", "Table": "table", "kye": "key", "mach": "match", "zzzzz": "", "k": ""} {
		if c := closest(got, opts); c != want {
			t.Errorf("closest(%q) = %q, want %q", got, c, want)
		}
	}
}
