package datamap

import (
	"strings"
	"testing"

	"github.com/titular/titular/brdoc"
)

// smallSurvey is a CRM of four tables: people, their orders, an agency row
// with its manager's contact under a prefix, and a catalogue.
func smallSurvey() *Survey {
	tbl := func(name string, pk []string, cols ...Column) *Table {
		t := &Table{Name: name, PrimaryKey: pk, Unique: [][]string{pk}, Columns: map[string]Column{}}
		for _, c := range cols {
			t.Columns[c.Name] = c
		}
		return t
	}
	id := func(n string) Column { return Column{Name: n, DataType: "int", ColumnType: "int"} }
	cpfs := repeatValues(10, func(i int) string { return brdoc.CPFFromSeed(uint64(i + 7)) })
	emails := repeatValues(10, func(i int) string { return "p" + string(rune('a'+i)) + "@example.com" })
	return &Survey{
		Schema: &Schema{Tables: map[string]*Table{
			"people":   tbl("people", []string{"id"}, id("id"), textCol("cpf", 14), textCol("email", 100), textCol("full_name", 100), id("agency_id")),
			"orders":   tbl("orders", []string{"id"}, id("id"), id("person_id"), id("product_id"), Column{Name: "amount", DataType: "decimal"}, textCol("status", 10)),
			"agencies": tbl("agencies", []string{"id"}, id("id"), textCol("legal_name", 100), textCol("manager_cpf", 14), textCol("manager_email", 100), textCol("bank_account", 20)),
			"products": tbl("products", []string{"id"}, id("id"), textCol("name", 100)),
		}},
		Columns: map[string][]string{
			"people":   {"id", "cpf", "email", "full_name", "agency_id"},
			"orders":   {"id", "person_id", "product_id", "amount", "status"},
			"agencies": {"id", "legal_name", "manager_cpf", "manager_email", "bank_account"},
			"products": {"id", "name"},
		},
		ForeignKeys: []ForeignKey{
			{Table: "orders", Columns: []string{"person_id"}, RefTable: "people", RefColumns: []string{"id"}},
			{Table: "orders", Columns: []string{"product_id"}, RefTable: "products", RefColumns: []string{"id"}},
			{Table: "people", Columns: []string{"agency_id"}, RefTable: "agencies", RefColumns: []string{"id"}},
		},
		Samples: map[string]map[string][]string{
			"people":   {"cpf": cpfs, "email": emails, "full_name": repeatValues(10, func(int) string { return "Ana Souza" })},
			"agencies": {"manager_cpf": cpfs, "manager_email": emails, "legal_name": repeatValues(10, func(int) string { return "Alfa Ltda" })},
			"products": {"name": repeatValues(10, func(int) string { return "Plano Ouro" })},
		},
	}
}

func TestDiscoverSmallCRM(t *testing.T) {
	s := smallSurvey()
	d := Discover(s)
	people, orders, agencies := d.Map.Entity("people"), d.Map.Entity("orders"), d.Map.Entity("agencies")
	if people == nil || orders == nil || agencies == nil || d.Map.Entity("products") != nil {
		t.Fatalf("entities = %v; want people, orders, agencies and no products", entityNames(d.Map))
	}
	if len(people.Match) != 2 || people.Parent != nil {
		t.Errorf("people: match %v, parent %v; want cpf and email, and no parent (agencies is an organisation)", people.Match, people.Parent)
	}
	if orders.Parent == nil || orders.Parent.Entity != "people" || orders.Parent.On[0] != (ColumnPair{Child: "person_id", Parent: "id"}) {
		t.Errorf("orders.parent = %+v, want people on person_id = id", orders.Parent)
	}
	wantCategory := map[string]string{
		"people.full_name": "identificacao", "orders.amount": "financeiro", "orders.status": CategoryContext,
		"orders.product_id": CategoryContext, "agencies.manager_cpf": "identificacao",
		"agencies.legal_name": CategoryContext, "agencies.bank_account": CategoryContext,
	}
	for path, want := range wantCategory {
		ent, col, _ := strings.Cut(path, ".")
		f, ok := d.Map.Entity(ent).Field(col)
		if !ok || f.Category != want {
			t.Errorf("%s: category %q (mapped %v), want %q", path, f.Category, ok, want)
		}
		if d.Notes[path] == "" {
			t.Errorf("%s has no note", path)
		}
	}

	out, err := d.YAML("Draft for a test.")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse("draft.yaml", out)
	if err != nil {
		t.Fatalf("the draft does not parse: %v\n%s", err, out)
	}
	if err := m.CheckSchema(s.Schema); err != nil {
		t.Fatalf("the draft does not fit the schema: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"# Draft for a test.", "# high: 10 of 10 sampled values are valid CPFs", "only the manager_* columns are the person's",
		"# Personal-looking columns not placed in this draft:"} {
		if !strings.Contains(text, want) {
			t.Errorf("the draft lacks %q:\n%s", want, text)
		}
	}
	for _, vals := range s.Samples {
		for _, vs := range vals {
			for _, v := range vs {
				if strings.Contains(text, v) {
					t.Fatalf("the draft quotes a sampled value")
				}
			}
		}
	}
}

func TestCoverage(t *testing.T) {
	s := smallSurvey()
	m, err := Parse("map.yaml", []byte(`version: 1
subject: {identifiers: [cpf]}
entities:
  people:
    table: people
    key: [id]
    match: {cpf: cpf}
    fields:
      full_name: {category: identificacao}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range Coverage(m, s) {
		got[f.Table+"."+f.Column] = f.Kind
	}
	want := map[string]string{"people.email": kindEmail, "agencies.manager_cpf": kindCPF, "agencies.manager_email": kindEmail}
	if len(got) != len(want) {
		t.Errorf("coverage = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("coverage[%s] = %q, want %q", k, got[k], v)
		}
	}
}

func entityNames(m *Map) []string {
	var out []string
	for _, e := range m.Entities {
		out = append(out, e.Name)
	}
	return out
}
