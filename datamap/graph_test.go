package datamap

import (
	"slices"
	"testing"
)

func mustParse(t *testing.T, src string) *Map {
	t.Helper()
	m, err := Parse("map.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func names(es []*Entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out
}

// A three-level tree written children first, plus a second root.
const tree = `version: 1
subject: {identifiers: [cpf]}
entities:
  neto:
    table: netos
    key: [id]
    parent: {entity: filho, on: {filho_id: id}}
  filho:
    table: filhos
    key: [id]
    parent: {entity: raiz, on: {raiz_id: id}}
  outro:
    table: outros
    key: [id]
    parent: {entity: raiz, on: {raiz_id: id}}
  raiz:
    table: raizes
    key: [id]
    match: {cpf: cpf}
  solto:
    table: soltos
    key: [id]
    match: {cpf: cpf}
`

func TestOrderMultiLevelTree(t *testing.T) {
	m := mustParse(t, tree)
	// Parents first; among entities free to go, the earliest in the document.
	want := []string{"raiz", "filho", "neto", "outro", "solto"}
	if got := names(m.Order()); !slices.Equal(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
	if got := names(m.Children("raiz")); !slices.Equal(got, []string{"filho", "outro"}) {
		t.Errorf("Children(raiz) = %v", got)
	}
	if got := m.Children("neto"); len(got) != 0 {
		t.Errorf("Children(neto) = %v", names(got))
	}
	if m.Entity("filho").IsRoot() || !m.Entity("raiz").IsRoot() {
		t.Error("IsRoot wrong")
	}
	if m.Entity("nada") != nil {
		t.Error("Entity(nada) should be nil")
	}
}

func TestOrderKeepsTopologicalDocument(t *testing.T) {
	m := mustParse(t, doc(root+`  c:
    table: c
    key: [id]
    parent: {entity: p, on: {p_id: id}}
  d:
    table: d
    key: [id]
    parent: {entity: c, on: {c_id: id}}
  e:
    table: e
    key: [id]
    match: {email: email}
`))
	want := []string{"p", "c", "d", "e"}
	if got := names(m.Order()); !slices.Equal(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
}

func TestOrderRootThatIsAlsoChild(t *testing.T) {
	m := mustParse(t, `version: 1
subject: {identifiers: [cpf, email]}
entities:
  interacao:
    table: lead_interacoes
    key: [id]
    parent: {entity: lead, on: {idlead: idlead}}
  lead:
    table: leads
    key: [idlead]
    match: {email: email}
    parent: {entity: pessoa, on: {idpessoa: idpessoa}}
  pessoa:
    table: pessoas
    key: [idpessoa]
    match: {cpf: cpf}
`)
	lead := m.Entity("lead")
	if !lead.IsRoot() || lead.Parent == nil || lead.Parent.Entity != "pessoa" {
		t.Fatalf("lead should be a root with parent pessoa: %+v", lead)
	}
	want := []string{"pessoa", "lead", "interacao"}
	if got := names(m.Order()); !slices.Equal(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
	if got := names(m.Children("pessoa")); !slices.Equal(got, []string{"lead"}) {
		t.Errorf("Children(pessoa) = %v", got)
	}
}

func TestOrderHandBuiltCycle(t *testing.T) {
	// Parse rejects cycles; a map built in code still gets every entity once.
	m := &Map{Entities: []*Entity{
		{Name: "a", Parent: &Parent{Entity: "b"}},
		{Name: "b", Parent: &Parent{Entity: "a"}},
		{Name: "r", Match: []MatchRule{{"cpf", "cpf"}}},
		{Name: "x", Parent: &Parent{Entity: "missing"}},
	}}
	want := []string{"r", "x", "a", "b"}
	if got := names(m.Order()); !slices.Equal(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
}
