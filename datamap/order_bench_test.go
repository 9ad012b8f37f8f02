package datamap

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkOrder measures the parent-first ordering every walk starts with,
// on the example map (14 entities) and on a synthetic 200-entity chain
// written children first, the worst case for its restart-on-progress loop.
func BenchmarkOrder(b *testing.B) {
	example, err := Load(filepath.Join("..", "examples", "realestate", "datamap.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	for name, m := range map[string]*Map{"example": example, "chain200": chainMap(b, 200)} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got := m.Order(); len(got) != len(m.Entities) {
					b.Fatalf("Order returned %d of %d entities", len(got), len(m.Entities))
				}
			}
		})
	}
}

// BenchmarkChildren measures the child lookup a walk plans each entity with.
func BenchmarkChildren(b *testing.B) {
	m, err := Load(filepath.Join("..", "examples", "realestate", "datamap.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range m.Entities {
			_ = m.Children(e.Name)
		}
	}
}

// chainMap builds e0 <- e1 <- ... <- e(n-1), listed last entity first.
func chainMap(b *testing.B, n int) *Map {
	b.Helper()
	var doc strings.Builder
	doc.WriteString("version: 1\nsubject:\n  identifiers: [cpf]\nentities:\n")
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&doc, "  e%d:\n    table: t%d\n    key: [id]\n    purpose: teste\n    legal_basis: consentimento\n", i, i)
		if i == 0 {
			doc.WriteString("    match: {cpf: cpf}\n")
		} else {
			fmt.Fprintf(&doc, "    parent: {entity: e%d, on: {pid: id}}\n", i-1)
		}
		doc.WriteString("    fields:\n      cpf: {category: identificacao, anonymizer: fake.cpf, label: CPF}\n")
	}
	m, err := Parse("chain.yaml", []byte(doc.String()))
	if err != nil {
		b.Fatalf("chain map: %v", err)
	}
	return m
}
