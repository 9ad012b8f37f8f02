package seed

import (
	"math/rand/v2"
	"testing"
)

func TestCheckDigits(t *testing.T) {
	if got := cpfFromBase(123456789); got != "12345678909" {
		t.Errorf("cpfFromBase(123456789) = %s, want 12345678909", got)
	}
	// The official examples of IN RFB 2.229/2024 (numeric and alphanumeric).
	for base, want := range map[string]string{"112223330001": "11222333000181", "12ABC34501DE": "12ABC34501DE35"} {
		if got := cnpjFromBase(base); got != want {
			t.Errorf("cnpjFromBase(%s) = %s, want %s", base, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		base := r.IntN(1e9)
		if cpf := cpfFromBase(base); !repeatedDigits(base) && !validCPF(cpf) {
			t.Fatalf("cpfFromBase(%09d) = %s fails the check digits", base, cpf)
		}
	}
}

func TestShapes(t *testing.T) {
	cpf := map[int]string{cpfDigits: "12345678909", cpfDotted: "123.456.789-09", cpfDash: "123456789-09"}
	for shape, want := range cpf {
		if got := formatCPF("12345678909", shape); got != want {
			t.Errorf("formatCPF shape %d = %s, want %s", shape, got, want)
		}
	}
	mobile := []string{"+5511987654321", "5511987654321", "11987654321", "(11) 98765-4321", "(11)98765-4321",
		"11 98765-4321", "(11) 987654321", "+55 11 98765-4321", "+55 (11) 98765-4321"}
	for shape, want := range mobile {
		if got := formatPhone("+5511987654321", shape); got != want {
			t.Errorf("formatPhone shape %d = %s, want %s", shape, got, want)
		}
	}
	if got := formatPhone("+551132654321", 3); got != "(11) 3265-4321" {
		t.Errorf("landline = %s, want (11) 3265-4321", got)
	}
}

func TestPermutationHasNoCollisions(t *testing.T) {
	p := newPermutation(rand.New(rand.NewPCG(9, 9)), 5)
	seen := map[int]bool{}
	for range 100_000 {
		v := p.nextValue()
		if seen[v] || v < 0 || v >= 100_000 {
			t.Fatalf("value %d repeated or out of range", v)
		}
		seen[v] = true
	}
}

func TestStatements(t *testing.T) {
	stmts := statements(schemaSQL)
	if len(stmts) != len(Tables()) {
		t.Fatalf("schema.sql has %d statements, want %d", len(stmts), len(Tables()))
	}
	for i, name := range Tables() {
		if want := "CREATE TABLE IF NOT EXISTS " + name + " ("; len(stmts[i]) < len(want) || stmts[i][:len(want)] != want {
			t.Errorf("statement %d does not create %s first", i, name)
		}
	}
}
