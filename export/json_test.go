package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func writeJSON(t *testing.T, fx fixture) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := feed(NewJSON(&buf), fx); err != nil {
		t.Fatalf("feed: %v", err)
	}
	return buf.Bytes()
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return doc
}

func TestJSONDocument(t *testing.T) {
	fx := newFixture()
	raw := writeJSON(t, fx)
	if !utf8.Valid(raw) || !json.Valid(raw) {
		t.Fatal("output is not valid UTF-8 JSON")
	}
	doc := decodeJSON(t, raw)

	if doc["schema"] != SchemaID || doc["schema_version"] != "1" {
		t.Errorf("schema = %v, %v", doc["schema"], doc["schema_version"])
	}
	wantReq := map[string]any{
		"id": "01JQ7Z3K9V-req", "tenant": "incorporadora-exemplo", "controller": "Incorporadora Exemplo Ltda.",
		"kind": "EXTRACT", "received_at": "2026-03-02T12:30:00Z", "due_at": "2026-03-17T12:30:00Z",
		"generated_at": "2026-03-05T18:45:07Z", "subject_ref": "subj_7f3a",
	}
	if !reflect.DeepEqual(doc["request"], wantReq) {
		t.Errorf("request = %v\nwant %v", doc["request"], wantReq)
	}

	entities := doc["entities"].([]any)
	if len(entities) != 4 {
		t.Fatalf("entities = %d, want 4", len(entities))
	}
	p := entities[0].(map[string]any)
	wantHead := map[string]any{
		"name": "pessoa", "label": "Cadastro de pessoa — cônjuge", "table": "pessoas",
		"purpose":     "Relacionamento com o cliente e execução do contrato de compra e venda",
		"legal_basis": map[string]any{"code": "execucao_contrato", "label": "Execução de contrato", "article": "art. 7º, V"},
		"origin":      "Informado pelo titular no atendimento",
		"shared_with": []any{"Banco Exemplo S.A. (financiamento)", "Cartório de Registro de Imóveis"},
		"retention":   map[string]any{"basis": "obrigacao_legal", "reference": "Lei 9.613/1998 art. 10", "keep_years": json.Number("5"), "from": "atualizado_em"},
		"row_count":   json.Number("2"),
	}
	for k, want := range wantHead {
		if !reflect.DeepEqual(p[k], want) {
			t.Errorf("pessoa.%s = %#v, want %#v", k, p[k], want)
		}
	}
	fields := p["fields"].([]any)
	if len(fields) != 12 {
		t.Fatalf("fields = %d", len(fields))
	}
	wantFoto := map[string]any{"name": "foto", "label": "Foto", "category": "biometrico", "category_label": "Biométrico", "sensitive": true}
	if !reflect.DeepEqual(fields[8], wantFoto) {
		t.Errorf("fields[8] = %v", fields[8])
	}

	rows := p["rows"].([]any)
	wantRow0 := map[string]any{
		"nome": "João da Conceição — ç ã <&>", "idpessoa": json.Number("42"), "score": json.Number("3.75"),
		"pep": true, "atualizado_em": "2026-01-01T02:59:58.125Z", "data_nascimento": "1987-07-09",
		"renda_mensal": json.Number("12345.67"), "renda_texto": "1.234,56", "foto": "AAEC+g==", "observacao": nil,
		"patrimonio": json.Number("12345678901234567890.123456789"), "protocolo": json.Number("1234567890123456789"),
	}
	if !reflect.DeepEqual(rows[0], wantRow0) {
		t.Errorf("row 0 = %#v\nwant %#v", rows[0], wantRow0)
	}
	wantRow1 := map[string]any{
		"nome": "Maria Antônia", "idpessoa": json.Number("-7"), "score": json.Number("-0.5"),
		"pep": false, "atualizado_em": "2026-03-02T12:30:00Z", "data_nascimento": "1899-12-31",
		"renda_mensal": json.Number("-0.10"), "renda_texto": "abc", "foto": "", "observacao": "texto com\nquebra",
		"patrimonio": json.Number("0"), "protocolo": json.Number("0"),
	}
	if !reflect.DeepEqual(rows[1], wantRow1) {
		t.Errorf("row 1 = %#v\nwant %#v", rows[1], wantRow1)
	}
	// Exact digits and unescaped text reach the bytes, not just the decoded values.
	for _, s := range []string{`"patrimonio":12345678901234567890.123456789`, `"nome":"João da Conceição — ç ã <&>"`} {
		if !bytes.Contains(raw, []byte(s)) {
			t.Errorf("output lacks %s", s)
		}
	}

	empty := entities[1].(map[string]any)
	if rows, ok := empty["rows"].([]any); !ok || len(rows) != 0 || empty["row_count"] != json.Number("0") {
		t.Errorf("empty entity rows = %#v, row_count = %v", empty["rows"], empty["row_count"])
	}
	if empty["retention"] != nil || !reflect.DeepEqual(empty["shared_with"], []any{}) {
		t.Errorf("empty entity retention = %v, shared_with = %#v", empty["retention"], empty["shared_with"])
	}
	many := entities[2].(map[string]any)
	if got := len(many["rows"].([]any)); got != manyRows || many["row_count"] != json.Number("1000") {
		t.Errorf("many rows = %d, row_count = %v", got, many["row_count"])
	}
	last := many["rows"].([]any)[manyRows-1].(map[string]any)
	if last["idlead"] != json.Number("1000") || last["email"] != "lead999@example.com" {
		t.Errorf("last lead = %v", last)
	}

	wantSummary := map[string]any{
		"entity_count": json.Number("4"), "row_count": json.Number("1003"),
		// lead_interacoes has no rows, so "comunicacao" is absent.
		"categories": []any{"biometrico", "contato", "financeiro", "identificacao", "outros", "perfil", "registro"},
	}
	if !reflect.DeepEqual(doc["summary"], wantSummary) {
		t.Errorf("summary = %v\nwant %v", doc["summary"], wantSummary)
	}
}

func TestJSONKeyOrder(t *testing.T) {
	raw := writeJSON(t, newFixture())
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		raw  []byte
		want []string
	}{
		{"document", raw, []string{"schema", "schema_version", "request", "entities", "summary"}},
		{"request", top["request"], []string{"id", "tenant", "controller", "kind", "received_at", "due_at", "generated_at", "subject_ref"}},
		{"summary", top["summary"], []string{"entity_count", "row_count", "categories"}},
	}
	var entities []json.RawMessage
	if err := json.Unmarshal(top["entities"], &entities); err != nil {
		t.Fatal(err)
	}
	checks = append(checks, struct {
		name string
		raw  []byte
		want []string
	}{"entity", entities[0], []string{"name", "label", "table", "purpose", "legal_basis", "origin", "shared_with", "retention", "fields", "rows", "row_count", "holds"}})
	for _, c := range checks {
		if got := topLevelKeys(t, c.raw); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s keys = %v, want %v", c.name, got, c.want)
		}
	}
	var pessoa struct{ Rows []json.RawMessage }
	if err := json.Unmarshal(entities[0], &pessoa); err != nil {
		t.Fatal(err)
	}
	wantRow := []string{"nome", "idpessoa", "score", "pep", "atualizado_em", "data_nascimento", "renda_mensal", "renda_texto", "foto", "observacao", "patrimonio", "protocolo"}
	if got := topLevelKeys(t, pessoa.Rows[0]); !reflect.DeepEqual(got, wantRow) {
		t.Errorf("row keys = %v, want field order %v", got, wantRow)
	}
}

// topLevelKeys lists an object's keys in the order they are written.
func topLevelKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestJSONNoDueDate(t *testing.T) {
	fx := newFixture()
	fx.meta.DueAt = time.Time{}
	doc := decodeJSON(t, writeJSON(t, fx))
	req := doc["request"].(map[string]any)
	if v, ok := req["due_at"]; !ok || v != nil {
		t.Errorf("due_at = %v (present %v), want null", v, ok)
	}
}

func TestJSONWriteFailureIsSticky(t *testing.T) {
	w := NewJSON(failingWriter{})
	fx := newFixture()
	err := feed(w, fx)
	if err == nil || !strings.Contains(err.Error(), "writing json") {
		t.Fatalf("feed on a failing writer: %v", err)
	}
	if !errors.Is(err, errDisk) {
		t.Errorf("error does not wrap the writer's error: %v", err)
	}
}
