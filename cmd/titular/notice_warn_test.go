package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnnamedPurposeWarnings(t *testing.T) {
	doc, err := os.ReadFile("../../examples/fleet/datamap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if w := unnamedPurposeWarnings("../../examples/fleet/datamap.yaml"); len(w) != 0 {
		t.Errorf("the fleet map names its purposes, yet: %q", w)
	}
	s := string(doc)
	start, end := strings.Index(s, "\npurposes:\n"), strings.Index(s, "\nentities:\n")
	path := filepath.Join(t.TempDir(), "datamap.yaml")
	writeFile(t, path, s[:start]+s[end:])
	w := unnamedPurposeWarnings(path)
	if len(w) != 1 || !strings.Contains(w[0], "does not name 3 purposes: cadastro_cliente, atendimento_comercial, venda_imovel;") ||
		!strings.Contains(w[0], "purposes: {code: {name: …, description: …}}") {
		t.Errorf("warnings = %q", w)
	}
}
