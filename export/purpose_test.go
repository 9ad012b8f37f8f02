package export

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/titular/titular/export/exporttest"
	"github.com/titular/titular/export/printtest"
)

// A purpose the data map names reaches the titular by its name: the
// Resumo and the PDF copy show "Cadastro de clientes", not the code; the
// JSON keeps the code and adds the name beside it, valid by the schema.
// A purpose nothing names keeps its code everywhere, and the JSON no label.
func TestPurposeByName(t *testing.T) {
	fx := newFixture()
	fx.entities[0].Purpose, fx.entities[0].PurposeLabel = "cadastro_cliente", "Cadastro de clientes"
	fx.entities[1].Purpose = "atendimento_comercial"

	f := writeXLSX(t, fx)
	rows, err := f.GetRows("Resumo")
	if err != nil {
		t.Fatal(err)
	}
	purposeOf := func(label string) string {
		i := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 1 && r[0] == label })
		if i < 0 {
			t.Fatalf("no Resumo line for %s", label)
		}
		return rows[i][1]
	}
	if got := purposeOf("Cadastro de pessoa — cônjuge"); got != "Cadastro de clientes" {
		t.Errorf("Resumo purpose = %q, want its name", got)
	}
	if got := purposeOf("Interações"); got != "atendimento_comercial" {
		t.Errorf("Resumo purpose without a name = %q, want the code", got)
	}

	doc := decodeJSON(t, writeJSON(t, fx))
	ents := doc["entities"].([]any)
	first, second := ents[0].(map[string]any), ents[1].(map[string]any)
	if first["purpose"] != "cadastro_cliente" || first["purpose_label"] != "Cadastro de clientes" {
		t.Errorf("JSON purpose %v, label %v", first["purpose"], first["purpose_label"])
	}
	if _, ok := second["purpose_label"]; ok || second["purpose"] != "atendimento_comercial" {
		t.Errorf("JSON entity without a purpose name: %v", second)
	}
	for _, e := range exporttest.Load(t).Check(doc) {
		t.Error(e)
	}

	var pdf bytes.Buffer
	if err := feed(NewPDF(&pdf), fx); err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(printtest.Text(t, pdf.Bytes())), " ")
	if !strings.Contains(flat, "Finalidade Cadastro de clientes") || strings.Contains(flat, "cadastro_cliente") {
		t.Errorf("the PDF copy names the purpose by its code or not at all: %s", flat)
	}
}
