package datamap

import (
	"fmt"
	"strings"
	"testing"

	"github.com/titular/titular/brdoc"
)

func repeatValues(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func textCol(name string, length int64) Column {
	return Column{Name: name, DataType: "varchar", ColumnType: fmt.Sprintf("varchar(%d)", length), MaxLength: length, Nullable: true}
}

func TestDetect(t *testing.T) {
	cpfs := repeatValues(20, func(i int) string { return brdoc.FormatCPF(brdoc.CPFFromSeed(uint64(i + 1))) })
	cnpjs := repeatValues(20, func(i int) string { return brdoc.CNPJFromSeed(uint64(i+1), false) })
	tests := []struct {
		name     string
		col      Column
		values   []string
		wantKind string
		wantConf string
	}{
		{"CPF under a neutral name, by its check digits", textCol("documento", 14), cpfs, kindCPF, "high"},
		{"CNPJ is told apart from CPF", textCol("doc", 18), cnpjs, kindCNPJ, "high"},
		{"e-mail by values", textCol("contact", 150), repeatValues(10, func(i int) string { return fmt.Sprintf("User%d@Example.COM", i) }), kindEmail, "high"},
		{"phone by values", textCol("contato", 25), repeatValues(10, func(i int) string { return fmt.Sprintf("(11) 98765-43%02d", i) }), kindPhone, "high"},
		{"CEP by shape", textCol("codigo_postal", 9), repeatValues(10, func(i int) string { return fmt.Sprintf("013%02d-100", i) }), kindCEP, "high"},
		{"people's names by values", textCol("full_name", 120), repeatValues(10, func(i int) string { return []string{"Maria da Silva", "John Smith"}[i%2] }), kindName, "high"},
		{"free text holding a CPF", Column{Name: "notes", DataType: "text"}, append(repeatValues(9, func(int) string { return "ligou pedindo retorno" }), "cliente informou CPF "+cpfs[0]), kindFreeText, "high"},
		{"birth date by name on a date column", Column{Name: "dataNascimento", DataType: "date"}, nil, kindBirthDate, "high"},
		{"CPF by name alone on an empty table", textCol("cpf_cliente", 14), nil, kindCPF, "medium"},
		{"CPF by name contradicted by values", textCol("cpf", 14), repeatValues(10, func(int) string { return "n/a" }), kindCPF, "low"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := detect(tt.col, tt.values)
			if !ok || d.kind != tt.wantKind || d.confidence != tt.wantConf {
				t.Fatalf("detect = %+v, %v; want kind %s, confidence %s", d, ok, tt.wantKind, tt.wantConf)
			}
			for _, v := range tt.values {
				if strings.Contains(d.reason, v) {
					t.Errorf("the reason quotes a sampled value: %q", d.reason)
				}
			}
		})
	}
	notPersonal := []struct {
		name   string
		col    Column
		values []string
	}{
		{"a development's name", textCol("nome", 120), repeatValues(10, func(i int) string { return "Residencial Parque das Flores" })},
		{"a PIX key is not free text", textCol("chave_pix", 100), cpfs},
		{"status codes", textCol("status", 12), repeatValues(10, func(int) string { return "vendida" })},
		{"an integer", Column{Name: "quartos", DataType: "int"}, []string{"2", "3"}},
	}
	for _, tt := range notPersonal {
		t.Run(tt.name, func(t *testing.T) {
			if d, ok := detect(tt.col, tt.values); ok && d.kind != kindCPF {
				t.Fatalf("detect = %+v, want nothing personal", d)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	for in, want := range map[string]string{
		"data_nascimento": "data nascimento", "dataNascimento": "data nascimento",
		"cliente_telefone2": "cliente telefone", "Endereço": "endereco",
	} {
		if got := strings.Join(tokens(in), " "); got != want {
			t.Errorf("tokens(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPersonPrefix(t *testing.T) {
	for _, tt := range []struct {
		cols []string
		want string
	}{
		{[]string{"gerente_cpf", "gerente_email", "gerente_telefone"}, "gerente_"},
		{[]string{"cpf", "email"}, ""},
		{[]string{"tax_id"}, ""},
		{[]string{"cliente_cpf", "cliente_celular"}, "cliente_"},
	} {
		if got := personPrefix(tt.cols); got != tt.want {
			t.Errorf("personPrefix(%v) = %q, want %q", tt.cols, got, tt.want)
		}
	}
}
