package crm_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store/storetest"
)

// tableKeySink collects the keys of the rows a walk reaches, per table (a
// table may back several entities), in crmtest.KeyText form.
type tableKeySink struct {
	cur  *datamap.Entity
	keys map[string]map[string]bool
}

func (s *tableKeySink) BeginEntity(e *datamap.Entity) error { s.cur = e; return nil }
func (s *tableKeySink) Row([]any) error                     { return nil }
func (s *tableKeySink) EndEntity(*datamap.Entity, int64) error {
	return nil
}
func (s *tableKeySink) KeyedRow(key, _, _ []any) error {
	set := s.keys[s.cur.Table]
	if set == nil {
		set = map[string]bool{}
		s.keys[s.cur.Table] = set
	}
	set[crmtest.KeyText(key)] = true
	return nil
}

// discoverFixture loads a fixture, surveys it and returns the draft, its
// YAML and the map parsed back with the real anonymizer registry, after
// checking it against the live schema and that ANONYMIZE can run under it.
func discoverFixture(t *testing.T, f *crmtest.Fixture) (*datamap.Draft, *datamap.Map, crm.Querier) {
	t.Helper()
	ctx := context.Background()
	db, _ := storetest.NewDatabase(t)
	if err := f.Create(ctx, db); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s, err := crm.Survey(ctx, db, crm.SurveyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := datamap.Discover(s)
	t.Logf("%s: survey and discovery of %d tables, %d relations: %v", f.Name, len(s.Schema.Tables), len(s.Relations), time.Since(start).Round(time.Millisecond))
	out, err := d.YAML("test draft")
	if err != nil {
		t.Fatal(err)
	}
	m, err := datamap.Parse("draft.yaml", out, crm.DatamapOptions(anonymize.NewRegistry())...)
	if err != nil {
		t.Fatalf("the draft does not parse: %v\n%s", err, out)
	}
	if err := m.CheckSchema(s.Schema); err != nil {
		t.Fatalf("the draft does not pass the schema check: %v\n%s", err, out)
	}
	if _, err := crm.PlanAnonymize(m, anonymize.NewRegistry()); err != nil {
		t.Errorf("ANONYMIZE would be refused under the draft: %v", err)
	}
	if testing.Verbose() {
		t.Logf("draft:\n%s", out)
	}
	return d, m, db
}

// walkSamples walks the draft for each sample titular and checks that
// every row reached is that titular's (the fixture's hand-written SQL);
// it returns how many of the titulares' rows were reached per table, and
// how many they have.
func walkSamples(t *testing.T, f *crmtest.Fixture, m *datamap.Map, db crm.Querier) (reached, truth map[string]int) {
	t.Helper()
	ctx := context.Background()
	reached, truth = map[string]int{}, map[string]int{}
	for _, p := range f.Samples {
		want, err := f.PersonKeys(ctx, db, p)
		if err != nil {
			t.Fatal(err)
		}
		sink := &tableKeySink{keys: map[string]map[string]bool{}}
		if _, err := crm.Walk(ctx, db, m, p.IDs, sink); err != nil {
			t.Fatalf("%s: %v", p.Label, err)
		}
		for table, keys := range sink.keys {
			for k := range keys {
				if !want[table][k] {
					t.Errorf("%s: the draft reaches %s row %s, which is not this titular's", p.Label, table, k)
				}
			}
			reached[table] += len(keys)
		}
		for table, keys := range want {
			truth[table] += len(keys)
		}
	}
	return reached, truth
}

func parentOf(m *datamap.Map, entity string) string {
	if e := m.Entity(entity); e != nil && e.Parent != nil {
		return e.Parent.Entity
	}
	return ""
}

// entitiesOn lists the entities whose table is table.
func entitiesOn(m *datamap.Map, table string) []*datamap.Entity {
	var out []*datamap.Entity
	for _, e := range m.Entities {
		if e.Table == table {
			out = append(out, e)
		}
	}
	return out
}

// TestDiscoverShop: on the Sakila-like shop, the customer is a root, their
// address hangs off customer.address_id, payments and rentals are the
// customer's, and stores, films, inventory, cities and countries are under
// nobody; staff is its own root, and the payments it took are not its rows.
// Walking the draft for sample customers reaches only their rows.
func TestDiscoverShop(t *testing.T) {
	t.Parallel()
	f := crmtest.Shop()
	d, m, db := discoverFixture(t, f)
	cust := m.Entity("customer")
	if cust == nil || !cust.IsRoot() || cust.Parent != nil {
		t.Fatalf("customer should be a root without parent: %+v", cust)
	}
	if a := m.Entity("address"); a == nil || a.Parent == nil || a.Parent.Entity != "customer" ||
		!slices.Equal(a.Parent.On, []datamap.ColumnPair{{Child: "address_id", Parent: "address_id"}}) {
		t.Errorf("address should be the customer's child on address_id: %+v", a)
	}
	for _, child := range []string{"payment", "rental", "customer_audit"} {
		if p := parentOf(m, child); p != "customer" {
			t.Errorf("%s hangs off %q, want customer; note: %s", child, p, d.Notes[child])
		}
	}
	for _, shared := range []string{"store", "film", "inventory", "city", "country"} {
		if e := m.Entity(shared); e != nil && e.Parent != nil {
			t.Errorf("%s is shared context but hangs off %s", shared, e.Parent.Entity)
		}
	}
	if s := m.Entity("staff"); s == nil || !s.IsRoot() || s.Parent != nil {
		t.Errorf("staff should be its own root: %+v", s)
	}
	for _, e := range m.Entities {
		if e.Parent != nil && e.Parent.Entity == "staff" {
			t.Errorf("%s hangs off staff: an employee's handled rows are not theirs", e.Name)
		}
	}
	if !slices.ContainsFunc(d.Context, func(c string) bool { return strings.HasPrefix(c, "store: each row referenced by up to") }) {
		t.Errorf("the draft does not say why store is shared context: %q", d.Context)
	}
	reached, truth := walkSamples(t, f, m, db)
	for _, table := range []string{"customer", "address", "payment", "rental"} {
		if reached[table] != truth[table] || truth[table] == 0 {
			t.Errorf("%s: the draft reaches %d of the samples' %d rows", table, reached[table], truth[table])
		}
	}
	t.Logf("rows reached / sample titulares' rows: %v / %v", reached, truth)
}

// TestDiscoverPolyCRM: on the SuiteCRM-like schema without foreign keys,
// contacts are reached from an e-mail through email_addr_bean_rel with
// where bean_module = Contacts, users are not followed, accounts_contacts is
// a join table, and walking the draft reaches only the titular's rows.
func TestDiscoverPolyCRM(t *testing.T) {
	t.Parallel()
	f := crmtest.PolyCRM()
	d, m, db := discoverFixture(t, f)
	if m.Entity("email_addresses") == nil || !m.Entity("email_addresses").IsRoot() {
		t.Fatalf("email_addresses should be a root matched by e-mail")
	}
	var link *datamap.Entity
	for _, e := range entitiesOn(m, "email_addr_bean_rel") {
		if slices.Equal(e.Where, []datamap.Condition{{Column: "bean_module", Value: "Contacts"}}) {
			link = e
		}
	}
	if link == nil || link.Parent == nil || link.Parent.Entity != "email_addresses" {
		out, _ := d.YAML("")
		t.Fatalf("%s\nno email_addr_bean_rel entity with where bean_module = Contacts under email_addresses: %+v", out, entitiesOn(m, "email_addr_bean_rel"))
	}
	if c := m.Entity("contacts"); c == nil || c.Parent == nil || c.Parent.Entity != link.Name ||
		!slices.Equal(c.Parent.On, []datamap.ColumnPair{{Child: "id", Parent: "bean_id"}}) {
		t.Errorf("contacts should hang off %s on id = bean_id: %+v", link.Name, m.Entity("contacts"))
	}
	for _, e := range m.Entities {
		if e.Table == "users" {
			t.Errorf("users (the CRM's users) became entity %s", e.Name)
		}
		for _, r := range e.Match {
			if r.Identifier == "email" && strings.Contains(r.Column, "_id") {
				t.Errorf("%s matches e-mail on the id column %s", e.Name, r.Column)
			}
		}
	}
	if !strings.Contains(d.Notes["accounts_contacts"], "join table") {
		t.Errorf("accounts_contacts not recognized as a join table: %q", d.Notes["accounts_contacts"])
	}
	if e := m.Entity("contacts"); e != nil {
		for col, want := range map[string]string{"first_name": "fake.name", "primary_address_street": "fake.address", "primary_address_postalcode": "generalize.cep_prefix"} {
			if f, ok := e.Field(col); !ok || f.Anonymizer == nil || f.Anonymizer.Name != want {
				t.Errorf("contacts.%s: %+v, want anonymizer %s", col, f, want)
			}
		}
		for _, col := range []string{"primary_address_city", "primary_address_state"} {
			if f, ok := e.Field(col); !ok || f.Anonymizer == nil || f.Anonymizer.Name == "fake.address" {
				t.Errorf("contacts.%s: %+v, want no fake street", col, f)
			}
		}
		if f, ok := e.Field("assigned_user_id"); !ok || f.Category != datamap.CategoryContext {
			t.Errorf("contacts.assigned_user_id: %+v, want contexto", f)
		}
	}
	reached, truth := walkSamples(t, f, m, db)
	for _, table := range []string{"contacts", "contacts_cstm", "email_addresses", "email_addr_bean_rel", "accounts_contacts", "calls", "leads"} {
		if reached[table] != truth[table] || truth[table] == 0 {
			t.Errorf("%s: the draft reaches %d of the samples' %d rows", table, reached[table], truth[table])
		}
	}
	t.Logf("rows reached / sample titulares' rows: %v / %v", reached, truth)
}

// TestDiscoverSplit: person_details joins person on the composite key, and
// walking the draft reaches exactly the titular's rows of both.
func TestDiscoverSplit(t *testing.T) {
	t.Parallel()
	f := crmtest.Split()
	_, m, db := discoverFixture(t, f)
	pd := m.Entity("person_details")
	if pd == nil || len(pd.Key) != 2 {
		t.Fatalf("person_details should be an entity with its composite key: %+v", pd)
	}
	if pd.Parent != nil && (pd.Parent.Entity != "person" || len(pd.Parent.On) != 2) {
		t.Errorf("person_details should join person on both key columns: %+v", pd.Parent)
	}
	if p := m.Entity("person"); p == nil || (p.Parent != nil && p.Parent.Entity != "person_details") {
		t.Errorf("person: %+v", p)
	}
	reached, truth := walkSamples(t, f, m, db)
	for _, table := range []string{"person", "person_details"} {
		if reached[table] != truth[table] || truth[table] == 0 {
			t.Errorf("%s: the draft reaches %d of the samples' %d rows", table, reached[table], truth[table])
		}
	}
	t.Logf("rows reached / sample titulares' rows: %v / %v", reached, truth)
}

// TestDiscoverManyTables: on a schema of 200 tables without foreign keys,
// each with two references named <table>_id, the survey proposes and
// measures every inferred relation with bounded queries, quickly.
func TestDiscoverManyTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.NewDatabase(t)
	const tables, rows = 200, 50
	name := func(i int) string { return "ent" + string(rune('a'+i/26)) + string(rune('a'+i%26)) }
	for i := range tables {
		a, b := name((i+1)%tables), name((i+7)%tables)
		mustExec(t, db, "CREATE TABLE "+name(i)+" (id INT PRIMARY KEY, label VARCHAR(40) NOT NULL, email VARCHAR(80) NULL, "+
			a+"_id INT NULL, "+b+"_id INT NULL)")
		var vals []string
		var args []any
		for r := 1; r <= rows; r++ {
			vals = append(vals, "(?, ?, ?, ?, ?)")
			args = append(args, r, "item", nil, 1+(r*7)%rows, 1+r%5)
			if i%10 == 0 {
				args[len(args)-3] = fmt.Sprintf("person%d.%d@example.org", i, r)
			}
		}
		mustExec(t, db, "INSERT INTO "+name(i)+" VALUES "+strings.Join(vals, ", "), args...)
	}
	start := time.Now()
	s, err := crm.Survey(ctx, db, crm.SurveyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := datamap.Discover(s)
	took := time.Since(start)
	measured := 0
	for _, r := range s.Relations {
		if r.Figures != nil && r.Figures.Values > 0 {
			measured++
		}
	}
	t.Logf("%d tables, %d relations (%d measured), %d entities: %v", len(s.Schema.Tables), len(s.Relations), measured, len(d.Map.Entities), took.Round(time.Millisecond))
	if measured != 2*tables {
		t.Errorf("%d relations measured, want %d (two per table)", measured, 2*tables)
	}
	if took > 30*time.Second {
		t.Errorf("survey and discovery of %d tables took %v", tables, took)
	}
}
