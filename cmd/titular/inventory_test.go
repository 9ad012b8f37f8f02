package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/titular/titular/inventory"
)

// `titular datamap inventory` writes the demo tenant's record as XLSX with
// its controller and DPO from the config, and a data map alone as CSV;
// misuse is refused with what to type instead.
func TestDatamapInventoryCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join("..", "..", "examples", "realestate", "titular.yaml")
	xlsx := filepath.Join(dir, "registro.xlsx")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"datamap", "inventory", "--config", cfg, "--tenant", "demo", "--out", xlsx}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		"B2": "Incorporadora Demonstração Ltda — Av. Paulista, 1000, São Paulo/SP; privacidade@incorporadora.example",
		"B3": "Encarregada de Dados (demonstração) — encarregado@incorporadora.example",
		"A7": "Cadastro de cliente", "A19": "Gerente de imobiliária parceira",
	} {
		if got, _ := f.GetCellValue(inventory.SheetName, ref); got != want {
			t.Errorf("%s = %q, want %q", ref, got, want)
		}
	}
	_ = f.Close()

	csvPath := filepath.Join(dir, "registro.csv")
	if err := runDatamapInventory([]string{"--datamap", filepath.Join("..", "..", "examples", "realestate", "datamap.yaml"), "--out", csvPath}, &out); err != nil {
		t.Fatal(err)
	}
	if want := "wrote the record of processing (14 entries) to " + csvPath + "\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\nCadastro de cliente,pessoas,"); lines != 1 || !strings.HasPrefix(string(b), "\uFEFFDados (entidade),") {
		t.Errorf("CSV starts %q", string(b[:min(len(b), 200)]))
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--datamap", "m.yaml", "--out", "x.pdf"}, "--out FILE.xlsx or --out FILE.csv"},
		{[]string{"--out", "x.csv"}, "give --config FILE --tenant ID"},
		{[]string{"--datamap", "m.yaml", "--config", cfg, "--out", "x.csv"}, "not both"},
		{[]string{"--config", cfg, "--tenant", "nope", "--out", filepath.Join(dir, "x.csv")}, "--tenant nope: no such tenant"},
		{[]string{"--datamap", filepath.Join(dir, "missing.yaml"), "--out", filepath.Join(dir, "x.csv")}, "missing.yaml"},
	} {
		err := runDatamapInventory(tc.args, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.csv")); !os.IsNotExist(err) {
		t.Errorf("a refused run left a file: %v", err)
	}
}
