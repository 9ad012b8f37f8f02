package datamap

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// relSurvey is a shop without foreign keys: customers (e-mail) with an
// address each, a store every customer references, staff (e-mail) and
// payments that reference a customer and the employee who took them, and
// a polymorphic e-mail link table whose bean_module names contacts.
func relSurvey() *Survey {
	tbl := func(name string, pk []string, cols ...Column) *Table {
		t := &Table{Name: name, PrimaryKey: pk, Columns: map[string]Column{}}
		for _, c := range cols {
			t.Columns[c.Name] = c
		}
		return t
	}
	id := func(n string) Column { return Column{Name: n, DataType: "int", ColumnType: "int"} }
	uid := func(n string) Column {
		return Column{Name: n, DataType: "char", ColumnType: "char(36)", MaxLength: 36, Nullable: true}
	}
	emails := func(p string) []string {
		return repeatValues(20, func(i int) string { return fmt.Sprintf("%s%d@example.org", p, i) })
	}
	uuids := repeatValues(20, func(i int) string { return fmt.Sprintf("%08d-0000-4000-8000-000000000000", i) })
	s := &Survey{
		Schema: &Schema{Tables: map[string]*Table{
			"customer":        tbl("customer", []string{"customer_id"}, id("customer_id"), textCol("first_name", 45), textCol("email", 80), id("address_id"), id("store_id")),
			"address":         tbl("address", []string{"address_id"}, id("address_id"), textCol("street", 80), textCol("city", 50), textCol("state", 2), textCol("postal_code", 10)),
			"store":           tbl("store", []string{"store_id"}, id("store_id"), textCol("label", 40), textCol("notes", 200)),
			"staff":           tbl("staff", []string{"staff_id"}, id("staff_id"), textCol("email", 80)),
			"payment":         tbl("payment", []string{"payment_id"}, id("payment_id"), id("customer_id"), id("staff_id"), Column{Name: "amount", DataType: "decimal"}),
			"contacts":        tbl("contacts", []string{"id"}, uid("id"), textCol("last_name", 60), textCol("phone_mobile", 20)),
			"users":           tbl("users", []string{"id"}, uid("id"), textCol("user_name", 60)),
			"email_addresses": tbl("email_addresses", []string{"id"}, uid("id"), textCol("email_address", 100)),
			"email_addr_bean_rel": tbl("email_addr_bean_rel", []string{"id"}, uid("id"), uid("email_address_id"), uid("bean_id"),
				textCol("bean_module", 100)),
		}},
		Samples: map[string]map[string][]string{
			"customer":            {"email": emails("c"), "first_name": repeatValues(20, func(int) string { return "Ana" })},
			"staff":               {"email": emails("s")},
			"contacts":            {"phone_mobile": repeatValues(20, func(i int) string { return fmt.Sprintf("+55119%08d", 87650000+i) })},
			"email_addresses":     {"email_address": emails("e"), "id": uuids},
			"email_addr_bean_rel": {"bean_module": repeatValues(20, func(i int) string { return []string{"Contacts", "Users"}[i%2] }), "email_address_id": uuids},
		},
		Columns: map[string][]string{},
	}
	for name, t := range s.Schema.Tables {
		for c := range t.Columns {
			s.Columns[name] = append(s.Columns[name], c)
		}
		slices.Sort(s.Columns[name])
	}
	return s
}

// measure gives the relations of s the figures a store would measure.
func measure(t *testing.T, s *Survey, figures map[string]*RelationFigures) {
	t.Helper()
	s.Relations = Relations(s)
	for i := range s.Relations {
		r := &s.Relations[i]
		k := r.Table + "." + strings.Join(r.Columns, ",") + "->" + r.RefTable
		if f, ok := figures[k]; ok {
			r.Figures = f
		}
	}
}

func relationIndex(s *Survey, table, col string) int {
	return slices.IndexFunc(s.Relations, func(r Relation) bool { return r.Table == table && r.Columns[0] == col })
}

// TestDiscoverRelations: without foreign keys, joins are inferred from
// names and polymorphic pairs; figures decide direction and sharing.
func TestDiscoverRelations(t *testing.T) {
	s := relSurvey()
	full := func(values, found int, per Spread) *RelationFigures {
		return &RelationFigures{Rows: values * per.Median, Values: values, Found: found, PerValue: per, Others: map[int]Spread{}}
	}
	measure(t, s, map[string]*RelationFigures{
		"customer.address_id->address":                          full(200, 200, Spread{1, 1}),
		"customer.store_id->store":                              full(2, 2, Spread{164, 100}),
		"payment.customer_id->customer":                         full(200, 199, Spread{30, 20}),
		"payment.staff_id->staff":                               full(4, 4, Spread{900, 800}),
		"email_addr_bean_rel.email_address_id->email_addresses": full(200, 200, Spread{2, 1}),
		"email_addr_bean_rel.bean_id->contacts":                 full(100, 98, Spread{1, 1}),
		"email_addr_bean_rel.bean_id->users":                    full(100, 10, Spread{1, 1}),
	})
	pc, ps := relationIndex(s, "payment", "customer_id"), relationIndex(s, "payment", "staff_id")
	if pc < 0 || ps < 0 {
		t.Fatalf("payment's references were not inferred from names: %+v", s.Relations)
	}
	s.Relations[pc].Figures.Others[ps] = Spread{3, 2}     // staff per customer
	s.Relations[ps].Figures.Others[pc] = Spread{164, 150} // customers per staff
	if i := slices.IndexFunc(s.Relations, func(r Relation) bool { return r.RefTable == "users" }); i < 0 || s.Relations[i].Figures.Found != 10 {
		t.Fatalf("the Users link was not proposed: %+v", s.Relations)
	}
	poly := slices.IndexFunc(s.Relations, func(r Relation) bool { return r.Source == SourcePolymorphic && r.RefTable == "contacts" })
	if poly < 0 || !slices.Equal(s.Relations[poly].Where, []Condition{{Column: "bean_module", Value: "Contacts"}}) {
		t.Fatalf("the polymorphic pair bean_module/bean_id was not mapped to contacts: %+v", s.Relations)
	}
	d := Discover(s)
	m := d.Map
	if a := m.Entity("address"); a == nil || a.Parent == nil || a.Parent.Entity != "customer" || a.Parent.On[0] != (ColumnPair{Child: "address_id", Parent: "address_id"}) {
		t.Errorf("address should be the customer's, joined on customer.address_id: %+v", a)
	}
	if p := m.Entity("payment"); p == nil || p.Parent == nil || p.Parent.Entity != "customer" {
		t.Errorf("payment should be the customer's, not the staff's: %+v", p)
	}
	if m.Entity("store") != nil {
		t.Errorf("store is referenced by up to 164 customers but became an entity")
	}
	if !slices.ContainsFunc(d.Context, func(c string) bool { return strings.Contains(c, "store: each row referenced by up to 164") }) {
		t.Errorf("no note on why store is shared: %q", d.Context)
	}
	var link *Entity
	for _, e := range m.Entities {
		if e.Table == "email_addr_bean_rel" {
			if link != nil || !slices.Equal(e.Where, []Condition{{Column: "bean_module", Value: "Contacts"}}) {
				t.Errorf("unexpected link entity %s where %v (users are not followed; the 10%% overlap drops them)", e.Name, e.Where)
			}
			link = e
		}
	}
	if link == nil || link.Parent == nil || link.Parent.Entity != "email_addresses" {
		t.Fatalf("no Contacts link under email_addresses: %v", entityNames(m))
	}
	if c := m.Entity("contacts"); c == nil || c.Parent == nil || c.Parent.Entity != link.Name || c.Parent.On[0] != (ColumnPair{Child: "id", Parent: "bean_id"}) {
		t.Errorf("contacts should hang off the link on id = bean_id: %+v", c)
	}
	if !slices.ContainsFunc(d.Context, func(c string) bool {
		return strings.Contains(c, "-> users not used") && strings.Contains(c, "only 10% of 100")
	}) {
		t.Errorf("no note on the dropped Users link: %q", d.Context)
	}
	if !strings.Contains(d.Notes["contacts"], "98% of 100 sampled values found in contacts.id") {
		t.Errorf("contacts' note lacks the overlap: %q", d.Notes["contacts"])
	}
	if ea := m.Entity("email_addr_bean_rel_contacts"); ea != nil {
		for _, r := range ea.Match {
			t.Errorf("the link matches %s on %s, an id column", r.Identifier, r.Column)
		}
	}
	want := map[string][2]string{
		"customer.first_name":                      {"identificacao", "fake.name"},
		"customer.store_id":                        {CategoryContext, ""},
		"address.street":                           {"endereco", "fake.address"},
		"address.city":                             {"endereco", "nullify"},
		"address.state":                            {"endereco", "nullify"},
		"address.postal_code":                      {"endereco", "generalize.cep_prefix"},
		"payment.staff_id":                         {CategoryContext, ""},
		"email_addr_bean_rel_contacts.bean_module": {CategoryContext, ""},
	}
	for path, w := range want {
		ent, col, _ := strings.Cut(path, ".")
		e := m.Entity(ent)
		if e == nil {
			t.Errorf("%s: no entity", path)
			continue
		}
		f, ok := e.Field(col)
		an := ""
		if f.Anonymizer != nil {
			an = f.Anonymizer.Name
		}
		if !ok || f.Category != w[0] || an != w[1] {
			t.Errorf("%s: %s/%s, want %s/%s (note %q)", path, f.Category, an, w[0], w[1], d.Notes[path])
		}
	}
}

func TestAnonymizerFits(t *testing.T) {
	unique := Column{Name: "username", DataType: "varchar", MaxLength: 16}
	if got := anonymizerFor("identificacao", "", unique, tokens("username"), true); got != "random" {
		t.Errorf("a UNIQUE NOT NULL text column got %s, want random (redact repeats)", got)
	}
	short := Column{Name: "street", DataType: "varchar", MaxLength: 8, Nullable: true}
	if got := anonymizerFor("endereco", "", short, tokens("street"), false); got != "nullify" {
		t.Errorf("a street column too short for fake.address got %s, want nullify", got)
	}
	state := Column{Name: "state", DataType: "char", MaxLength: 2}
	if got := anonymizerFor("endereco", "", state, tokens("state"), false); got != "redact" {
		t.Errorf("a NOT NULL state column got %s, want redact", got)
	}
	// Sakila's rental: UNIQUE (rental_date, inventory_id, customer_id), the
	// date NOT NULL. generalize.year would collide; the date moves instead.
	rental := &Table{Name: "rental", PrimaryKey: []string{"rental_id"}, Unique: [][]string{{"rental_date", "inventory_id", "customer_id"}},
		Columns: map[string]Column{"rental_date": {Name: "rental_date", DataType: "datetime"}}}
	if got := anonymizerFor("comportamental", "", rental.Columns["rental_date"], tokens("rental_date"), UniqueConstrained(rental, "rental_date")); got != "date_shift" {
		t.Errorf("a NOT NULL date in a composite unique key got %s, want date_shift", got)
	}
}
