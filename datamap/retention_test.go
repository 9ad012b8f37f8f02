package datamap

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// sale is an entity on the reservas table with the given retention block
// (indented as an entity key), starting at line 19.
func sale(retention string) string {
	return doc(`  p:
    table: pessoas
    key: [idpessoa]
    match: {cpf: cpf}
  s:
    table: reservas
    key: [idreserva]
    parent: {entity: p, on: {idpessoa_titular: idpessoa}}
    fields:
      cliente_nome: {category: identificacao, anonymizer: fake.name}
      cliente_cpf: {category: identificacao, anonymizer: fake.cpf}
      cliente_renda: {category: financeiro, anonymizer: nullify}
      estado_civil: {category: familiar, anonymizer: keep}
      data_venda: {category: contexto}
` + retention)
}

const severalHolds = `    retention:
      - {basis: obrigacao_legal, reference: "Lei 9.613/1998 art. 10", keep_years: 5, from: {when_set: data_distrato, else: data_venda}, keep: [cliente_nome, cliente_cpf]}
      - {basis: obrigacao_legal, reference: "CTN art. 173, I", keep_years: 5, from: {column: data_venda, rule: next_year_start}, keep: [cliente_cpf]}
      - {basis: exercicio_direitos, reference: "Código Civil art. 205", keep_years: 10, from: {latest_of: [data_venda, data_distrato]}}
      - {basis: exercicio_direitos, reference: "CDC art. 27", keep_years: 5, from: data_venda, on_delete: anonymize, keep: []}
`

func TestParseSeveralHolds(t *testing.T) {
	m := mustParse(t, sale(severalHolds))
	e := m.Entity("s")
	if len(e.Holds) != 4 {
		t.Fatalf("holds = %d, want 4", len(e.Holds))
	}
	want := []From{
		{WhenSet: "data_distrato", Else: "data_venda"},
		{Column: "data_venda", Rule: RuleNextYearStart},
		{LatestOf: []string{"data_venda", "data_distrato"}},
		{Column: "data_venda"},
	}
	for i, h := range e.Holds {
		if !reflect.DeepEqual(h.From, want[i]) {
			t.Errorf("hold %d from = %+v, want %+v", i, h.From, want[i])
		}
	}
	if h := e.Holds[0]; h.Basis != "obrigacao_legal" || h.KeepYears != 5 || h.OnDelete != "block" || !reflect.DeepEqual(h.Keep, []string{"cliente_nome", "cliente_cpf"}) {
		t.Errorf("hold 0 = %+v", h)
	}
	if e.Holds[2].Keep != nil {
		t.Errorf("a hold without keep must say so (nil), got %v", e.Holds[2].Keep)
	}
	if k := e.Holds[3].Keep; k == nil || len(k) != 0 || e.Holds[3].OnDelete != "anonymize" {
		t.Errorf("keep: [] must be present and empty: %#v (%s)", k, e.Holds[3].OnDelete)
	}
	if got := e.RetentionColumns(); !reflect.DeepEqual(got, []string{"data_distrato", "data_venda"}) {
		t.Errorf("retention columns = %v", got)
	}
	// A hold while referenced has no date of its own.
	w := mustParse(t, sale("    retention: {basis: obrigacao_legal, reference: \"Lei 9.613/1998 art. 10, I\", while: referenced, keep: [cliente_cpf]}\n"))
	if hs := w.Entity("s").Holds; len(hs) != 1 || !hs[0].WhileReferenced || hs[0].KeepYears != 0 || len(hs[0].Keep) != 1 || len(w.Entity("s").RetentionColumns()) != 0 {
		t.Errorf("while hold = %+v", hs)
	} else if _, ok := hs[0].ReleaseAt(func(string) (time.Time, bool) { return time.Now(), true }); ok {
		t.Error("a hold while referenced has no release date of its own")
	}
	if out, err := yaml.Marshal(w); err != nil || !mustParse(t, string(out)).Entity("s").Holds[0].WhileReferenced {
		t.Errorf("while hold round trip: %v\n%s", err, out)
	}
	// The single-hold form is still read, as a list of one.
	one := mustParse(t, sale("    retention: {basis: obrigacao_legal, reference: CTN, keep_years: 5, from: data_venda}\n"))
	if hs := one.Entity("s").Holds; len(hs) != 1 || hs[0].From.Column != "data_venda" || hs[0].Keep != nil {
		t.Errorf("single hold = %+v", hs)
	}
	// And MarshalYAML writes every form back as Parse reads it.
	out, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	again := mustParse(t, string(out))
	for i, h := range again.Entity("s").Holds {
		if g := e.Holds[i]; !reflect.DeepEqual(h.From, g.From) || !reflect.DeepEqual(h.Keep, g.Keep) || h.OnDelete != g.OnDelete || h.Reference != g.Reference {
			t.Errorf("round trip hold %d = %+v, want %+v", i, h, g)
		}
	}
}

func TestHoldReleaseDates(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	sold, cancelled := day(2022, time.August, 10), day(2023, time.March, 20)
	dates := func(set map[string]time.Time) func(string) (time.Time, bool) {
		return func(c string) (time.Time, bool) { t, ok := set[c]; return t, ok }
	}
	both := dates(map[string]time.Time{"data_venda": sold, "data_distrato": cancelled})
	saleOnly := dates(map[string]time.Time{"data_venda": sold})
	none := dates(nil)
	tests := []struct {
		name  string
		r     Retention
		date  func(string) (time.Time, bool)
		want  time.Time
		found bool
	}{
		{"column", Retention{KeepYears: 5, From: From{Column: "data_venda"}}, both, day(2027, time.August, 10), true},
		{"next year start", Retention{KeepYears: 5, From: From{Column: "data_venda", Rule: RuleNextYearStart}}, both, day(2028, time.January, 1), true},
		{"next year start on the 1st of January", Retention{KeepYears: 5, From: From{Column: "d", Rule: RuleNextYearStart}},
			dates(map[string]time.Time{"d": day(2023, time.January, 1)}), day(2029, time.January, 1), true},
		{"latest of both", Retention{KeepYears: 10, From: From{LatestOf: []string{"data_venda", "data_distrato"}}}, both, day(2033, time.March, 20), true},
		{"latest of one set", Retention{KeepYears: 10, From: From{LatestOf: []string{"data_venda", "data_distrato"}}}, saleOnly, day(2032, time.August, 10), true},
		{"when set: cancelled", Retention{KeepYears: 5, From: From{WhenSet: "data_distrato", Else: "data_venda"}}, both, day(2028, time.March, 20), true},
		{"when set: not cancelled", Retention{KeepYears: 5, From: From{WhenSet: "data_distrato", Else: "data_venda"}}, saleOnly, day(2027, time.August, 10), true},
		{"when set with next year start", Retention{KeepYears: 5, From: From{WhenSet: "data_distrato", Else: "data_venda", Rule: RuleNextYearStart}}, both, day(2029, time.January, 1), true},
		{"no date: no hold", Retention{KeepYears: 5, From: From{WhenSet: "data_distrato", Else: "data_venda"}}, none, time.Time{}, false},
		{"latest of none", Retention{KeepYears: 5, From: From{LatestOf: []string{"a", "b"}}}, none, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.r.ReleaseAt(tt.date)
			if ok != tt.found || !got.Equal(tt.want) {
				t.Errorf("ReleaseAt = %s, %v; want %s, %v", got, ok, tt.want, tt.found)
			}
		})
	}
}

func TestParseHoldErrors(t *testing.T) {
	const terms = "basis: obrigacao_legal, reference: CTN, keep_years: 5"
	tests := []struct {
		name, retention string
		want            wantProblem
	}{
		{"empty list", "    retention: []\n", wantProblem{"entities.s.retention", 19, "empty list", "basis, reference, keep_years, from"}},
		{"list item not a mapping", "    retention:\n      - data_venda\n", wantProblem{"entities.s.retention[0]", 20, "must be a mapping", "basis"}},
		{"second hold without from", "    retention:\n      - {" + terms + ", from: data_venda}\n      - {" + terms + "}\n",
			wantProblem{"entities.s.retention[1].from", 21, "missing from", "next_year_start"}},
		{"from with no form", "    retention: {" + terms + ", from: {rule: next_year_start}}\n",
			wantProblem{"entities.s.retention.from", 19, "none of column, latest_of, when_set", "latest_of"}},
		{"from with two forms", "    retention: {" + terms + ", from: {column: data_venda, latest_of: [a, b]}}\n",
			wantProblem{"entities.s.retention.from", 19, "mixes column and latest_of", "when_set"}},
		{"from unknown key", "    retention: {" + terms + ", from: {colum: data_venda}}\n",
			wantProblem{"entities.s.retention.from.colum", 19, `unknown key "colum"`, `did you mean "column"?`}},
		{"unknown rule", "    retention: {" + terms + ", from: {column: data_venda, rule: end_of_year}}\n",
			wantProblem{"entities.s.retention.from.rule", 19, `unknown from rule "end_of_year"`, "next_year_start"}},
		{"latest of one column", "    retention: {" + terms + ", from: {latest_of: [data_venda]}}\n",
			wantProblem{"entities.s.retention.from.latest_of", 19, "at least two", "from: <column>"}},
		{"latest of not a list", "    retention: {" + terms + ", from: {latest_of: data_venda}}\n",
			wantProblem{"entities.s.retention.from.latest_of", 19, "must be a list", "latest_of: ["}},
		{"when set without else", "    retention: {" + terms + ", from: {when_set: data_distrato}}\n",
			wantProblem{"entities.s.retention.from.else", 19, "missing else", "sale date"}},
		{"else without when set", "    retention: {" + terms + ", from: {column: data_venda, else: data_distrato}}\n",
			wantProblem{"entities.s.retention.from.else", 19, "else only goes with when_set", "when_set"}},
		{"from bad column name", "    retention: {" + terms + ", from: {when_set: data distrato, else: data_venda}}\n",
			wantProblem{"entities.s.retention.from.when_set", 19, "not a valid column name", ""}},
		{"keep not a list", "    retention: {" + terms + ", from: data_venda, keep: cliente_cpf}\n",
			wantProblem{"entities.s.retention.keep", 19, "must be a list", "keep: []"}},
		{"keep unknown field", "    retention: {" + terms + ", from: data_venda, keep: [cliente_cfp]}\n",
			wantProblem{"entities.s.retention.keep[0]", 19, `"cliente_cfp" is not a field of entity s`, `did you mean "cliente_cpf"?`}},
		{"keep twice", "    retention: {" + terms + ", from: data_venda, keep: [cliente_cpf, cliente_cpf]}\n",
			wantProblem{"entities.s.retention.keep[1]", 19, "listed twice", "remove"}},
		{"while unknown", "    retention: {basis: obrigacao_legal, reference: AML, while: sold}\n",
			wantProblem{"entities.s.retention.while", 19, `unknown while condition "sold"`, "referenced"}},
		{"while with keep_years", "    retention: {" + terms + ", while: referenced}\n",
			wantProblem{"entities.s.retention.keep_years", 19, "keep_years does not go with while: referenced", "ends with the last of them"}},
		{"while without reference", "    retention: {basis: obrigacao_legal, while: referenced}\n",
			wantProblem{"entities.s.retention.reference", 19, "missing reference", "Lei"}},
		{"two while holds", "    retention:\n      - {basis: obrigacao_legal, reference: AML, while: referenced}\n      - {basis: obrigacao_legal, reference: CTN, while: referenced}\n",
			wantProblem{"entities.s.retention[1]", 21, "second hold with while: referenced", "one hold while referenced"}},
		{"unknown hold key", "    retention: {" + terms + ", from: data_venda, kep: [cliente_cpf]}\n",
			wantProblem{"entities.s.retention.kep", 19, `unknown key "kep"`, `did you mean "keep"?`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("map.yaml", []byte(sale(tt.retention)))
			var probs Problems
			if m != nil || !errors.As(err, &probs) {
				t.Fatalf("Parse = %v, %v; want Problems", m, err)
			}
			assertProblem(t, probs, tt.want)
		})
	}
}

func TestCheckSchemaHolds(t *testing.T) {
	irreversible := WithIrreversible(func(ref AnonymizerRef) bool { return ref.Name != "keep" })
	schema := func(notNull ...string) *Schema {
		s := realEstateSchema()
		r := s.Tables["reservas"]
		r.Columns["data_distrato"] = Column{Name: "data_distrato", DataType: "date", ColumnType: "date", Nullable: true}
		for _, c := range notNull {
			col := r.Columns[c]
			col.Nullable = false
			r.Columns[c] = col
		}
		return s
	}
	parse := func(src string) *Map {
		m, err := Parse("map.yaml", []byte(src), irreversible)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// estado_civil has no irreversible anonymizer and the first hold does
	// not keep it: held rows lose it by NULL, which the column accepts.
	if err := parse(sale(severalHolds)).CheckSchema(schema()); err != nil {
		t.Fatalf("CheckSchema: %v", err)
	}
	// A NOT NULL column cannot: the check says to keep it or anonymize it.
	var probs Problems
	if err := parse(sale(severalHolds)).CheckSchema(schema("estado_civil")); !errors.As(err, &probs) {
		t.Fatalf("CheckSchema = %v, want Problems", err)
	}
	assertProblem(t, probs, wantProblem{"entities.s.retention[0].keep", 20, "field estado_civil is not kept by the hold (Lei 9.613/1998 art. 10)", "add estado_civil to keep"})
	// A NOT NULL column with an irreversible anonymizer is fine.
	if err := parse(sale(severalHolds)).CheckSchema(schema("cliente_renda")); err != nil {
		t.Errorf("cliente_renda has an irreversible anonymizer: %v", err)
	}
	// Every column a from rule names must be a date.
	bad := parse(sale("    retention: {basis: obrigacao_legal, reference: CTN, keep_years: 5, from: {latest_of: [data_venda, cliente_nome]}}\n"))
	probs = nil
	if err := bad.CheckSchema(schema()); !errors.As(err, &probs) {
		t.Fatalf("CheckSchema = %v, want Problems", err)
	}
	assertProblem(t, probs, wantProblem{"entities.s.retention.from", 19, `retention counts from "cliente_nome", which is varchar(150), not a date`, "cancellation"})
}
