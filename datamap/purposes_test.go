package datamap

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
)

func TestPurposesSection(t *testing.T) {
	m := mustParse(t, doc(root+"    purpose: cadastro_cliente\n"+`  q:
    table: leads
    key: [id]
    match: {email: email}
    purpose: prospeccao
purposes:
  cadastro_cliente:
    name: Cadastro de clientes
    description: Identificar o cliente para a compra.
`))
	p, ok := m.Purpose("cadastro_cliente")
	if !ok || p.Name != "Cadastro de clientes" || p.Description != "Identificar o cliente para a compra." || p.Line != 16 {
		t.Fatalf("Purpose(cadastro_cliente) = %+v, %v", p, ok)
	}
	if got := UnnamedPurposes(m); !slices.Equal(got, []string{"prospeccao"}) {
		t.Errorf("UnnamedPurposes = %v, want [prospeccao]", got)
	}
	roundTrip(t, m)
}

func TestPurposesSectionProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       wantProblem
	}{
		{"no description", "purposes:\n  venda:\n    name: Venda de imóveis\n", wantProblem{"purposes.venda.description", 10, "missing description", "in a sentence"}},
		{"no name", "purposes:\n  venda: {description: Vender.}\n", wantProblem{"purposes.venda.name", 10, "missing name", "Cadastro de clientes"}},
		{"name is the code", "purposes:\n  venda: {name: venda, description: Vender.}\n", wantProblem{"purposes.venda.name", 10, "repeats the code", "in words"}},
		{"bad code", "purposes:\n  venda imovel: {name: Venda, description: Vender.}\n", wantProblem{"purposes.venda imovel", 10, "not a valid purpose code", "underscores"}},
		{"unknown key", "purposes:\n  venda: {name: Venda, description: Vender., base: x}\n", wantProblem{"purposes.venda.base", 10, `unknown key "base"`, "name"}},
		{"a list", "purposes: [venda]\n", wantProblem{"purposes", 9, "must be a mapping", "name: …, description: …"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("map.yaml", []byte(doc(root)+tt.yaml))
			var probs Problems
			if !errors.As(err, &probs) {
				t.Fatalf("Parse error = %v, want Problems", err)
			}
			assertProblem(t, probs, tt.want)
		})
	}
}

// The demo's titular must never read a purpose code as its name.
func TestExamplePurposesNamed(t *testing.T) {
	for _, name := range []string{"realestate", "fleet"} {
		m, err := Load(filepath.Join("..", "examples", name, "datamap.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if got := UnnamedPurposes(m); len(got) > 0 {
			t.Errorf("%s: purposes without a name: %v", name, got)
		}
	}
}
