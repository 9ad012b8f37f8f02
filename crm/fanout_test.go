package crm_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/store/storetest"
)

// fanOutShop is a small store chain: staff, the stores they manage,
// customers registered at a store and their rentals. Stores 1 and 2 are
// managed by staff 1, store 3 by staff 2, store 4 by staff 3, store 5 by
// staff 22 (outside the first 20 by key), store 6 by no one. Customer 10 is
// staff 1 (same e-mail), customers 3 and 4 are one person (same e-mail),
// customer 7 left no e-mail.
func fanOutShop(t *testing.T) *sql.DB {
	t.Helper()
	db, _ := storetest.NewDatabase(t)
	for _, q := range []string{
		`CREATE TABLE staff (staff_id INT PRIMARY KEY, first_name VARCHAR(40) NOT NULL, email VARCHAR(80) NOT NULL)`,
		`CREATE TABLE store (store_id INT PRIMARY KEY, manager_staff_id INT NULL, city VARCHAR(40),
		  FOREIGN KEY (manager_staff_id) REFERENCES staff (staff_id))`,
		`CREATE TABLE customer (customer_id INT PRIMARY KEY, store_id INT NOT NULL, first_name VARCHAR(40), email VARCHAR(80) NULL,
		  FOREIGN KEY (store_id) REFERENCES store (store_id))`,
		`CREATE TABLE rental (rental_id INT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(6,2),
		  FOREIGN KEY (customer_id) REFERENCES customer (customer_id))`,
	} {
		mustExec(t, db, q)
	}
	for i := 1; i <= 25; i++ {
		mustExec(t, db, `INSERT INTO staff VALUES (?, ?, ?)`, i, fmt.Sprintf("Staff %d", i), fmt.Sprintf("staff%d@example.org", i))
	}
	mustExec(t, db, `INSERT INTO store VALUES (1, 1, 'A'), (2, 1, 'B'), (3, 2, 'C'), (4, 3, 'D'), (5, 22, 'E'), (6, NULL, 'F')`)
	id := 0
	for _, sc := range [][2]int{{1, 40}, {2, 25}, {3, 12}, {4, 9}, {5, 30}, {6, 5}} {
		for range sc[1] {
			id++
			email := any(fmt.Sprintf("customer%d@example.org", id))
			switch id {
			case 4:
				email = "customer3@example.org"
			case 7:
				email = nil
			case 10:
				email = "staff1@example.org"
			}
			mustExec(t, db, `INSERT INTO customer VALUES (?, ?, ?, ?)`, id, sc[0], fmt.Sprintf("Customer %d", id), email)
			mustExec(t, db, `INSERT INTO rental VALUES (?, ?, 9.90)`, id, id)
		}
	}
	return db
}

const fanOutMap = `version: 1
subject: {identifiers: [email]}
entities:
  staff:
    table: staff
    key: [staff_id]
    match: {email: email}
    fields:
      first_name: {category: identificacao, anonymizer: fake.name}
  store:
    table: store
    key: [store_id]
    parent: {entity: staff, on: {manager_staff_id: staff_id}}
    fields:
      city: {category: contexto}
  customer:
    table: customer
    key: [customer_id]
    match: {email: email}
    parent: {entity: store, on: {store_id: store_id}}
    fields:
      first_name: {category: identificacao, anonymizer: fake.name}
  rental:
    table: rental
    key: [rental_id]
    parent: {entity: customer, on: {customer_id: customer_id}}
    fields:
      amount: {category: financeiro, anonymizer: nullify}
`

// TestCheckFanOut: the over-disclosing map (customers under the store under
// the staff member who manages it) is reported on customer, through store,
// with the exact count of other people the worst sampled staff member's
// EXTRACT reaches, as hand-written SQL counts them; rental, reached through
// customer, is not reported again. The same schema mapped with each person
// on their own rows reports nothing.
func TestCheckFanOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := fanOutShop(t)

	found, err := crm.CheckFanOut(ctx, db, mustParseMap(t, fanOutMap), crm.FanOutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Per sampled staff member (the first 20 by key): distinct e-mails of
	// the customers of the stores they manage, theirs left out.
	perStaff := crmtest.Column[int](t, db, `SELECT COUNT(DISTINCT c.email) FROM
	  (SELECT staff_id, email FROM staff ORDER BY staff_id LIMIT 20) s
	  LEFT JOIN store st ON st.manager_staff_id = s.staff_id
	  LEFT JOIN customer c ON c.store_id = st.store_id AND c.email <> s.email
	  GROUP BY s.staff_id ORDER BY s.staff_id`)
	if len(perStaff) != 20 {
		t.Fatalf("hand-written count has %d staff", len(perStaff))
	}
	want := crm.FanOut{Entity: "customer", Through: "store", Root: "staff", Sampled: 20, Max: slices.Max(perStaff),
		Median: slices.Sorted(slices.Values(perStaff))[10]}
	if want.Max != 62 { // 40 + 25 customers, less staff 1, the repeated e-mail and the one without
		t.Fatalf("fixture changed: worst staff member reaches %d people", want.Max)
	}
	if len(found) != 1 || found[0] != want {
		t.Errorf("CheckFanOut = %+v\nwant [%+v]", found, want)
	}

	// The customer's store as a child of the customer: every sampled
	// customer of store 1 reaches the store row the others reach.
	reversed := strings.Replace(strings.Replace(fanOutMap,
		"parent: {entity: staff, on: {manager_staff_id: staff_id}}", "parent: {entity: customer, on: {store_id: store_id}}", 1),
		"    parent: {entity: store, on: {store_id: store_id}}\n", "", 1)
	found, err = crm.CheckFanOut(ctx, db, mustParseMap(t, reversed), crm.FanOutOptions{Samples: 10})
	if err != nil {
		t.Fatal(err)
	}
	// The first 10 customers with a distinct e-mail (3 and 4 are one, 7 has
	// none) all shop at store 1; customer 10 is staff 1, a staff titular
	// too, and the same person.
	want = crm.FanOut{Entity: "store", Through: "customer", Root: "customer", Sampled: 10, Max: 9, Median: 9, Shared: true}
	if len(found) != 1 || found[0] != want {
		t.Errorf("reversed map: CheckFanOut = %+v\nwant [%+v]", found, want)
	}

	// Each person's own rows only: nothing to report.
	own := strings.Replace(strings.Replace(fanOutMap, "    parent: {entity: store, on: {store_id: store_id}}\n", "", 1),
		`  store:
    table: store
    key: [store_id]
    parent: {entity: staff, on: {manager_staff_id: staff_id}}
    fields:
      city: {category: contexto}
`, "", 1)
	found, err = crm.CheckFanOut(ctx, db, mustParseMap(t, own), crm.FanOutOptions{Samples: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 0 {
		t.Errorf("a map of people's own rows: CheckFanOut = %+v, want nothing", found)
	}
}

// TestDemoMapHasNoFanOut: the demo map reaches only each titular's own rows
// on the seeded CRM (couples, co-buyers and brokers included).
func TestDemoMapHasNoFanOut(t *testing.T) {
	_, db, m, _ := seeded(t)
	found, err := crm.CheckFanOut(context.Background(), db, m, crm.FanOutOptions{Samples: 60})
	if err != nil {
		t.Fatal(err)
	}
	// A broker's notes are also the served leads' history (the map says
	// so and anonymizes them on the broker's DELETE): a warning, no error.
	for _, f := range found {
		if !f.Mentions || f.Entity != "atendimento_corretor" || f.Person != "lead" {
			t.Errorf("CheckFanOut on the demo map: %+v; want only atendimento_corretor's mention of leads", f)
		}
	}
}

// TestCheckFanOutShop: the shop schema's over-disclosing map (crmtest's,
// with purposes and bases, so only a sampling check refuses it) is reported
// on cliente, through loja, with the number of identifiable customers of the
// largest managed store, as hand-written SQL counts them (every shop
// customer is a different person); the shop's own map reports nothing.
func TestCheckFanOutShop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := crmtest.Shop()
	db := crmtest.CreateFixture(t, f)
	worst := crmtest.Column[int](t, db, `SELECT COUNT(*) n FROM store st JOIN customer c ON c.store_id = st.store_id
	  WHERE st.manager_staff_id IS NOT NULL AND (c.cpf IS NOT NULL OR c.email IS NOT NULL) GROUP BY st.store_id ORDER BY n DESC LIMIT 1`)
	staff := crmtest.Column[int](t, db, `SELECT COUNT(*) FROM staff WHERE email IS NOT NULL`)
	bad := crmtest.LoadMap(t, filepath.Join(crmtest.Root(), "crm", "crmtest", "testdata", "shop_overdisclosing.yaml"))
	found, err := crm.CheckFanOut(ctx, db, bad, crm.FanOutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 || found[0].Entity != "cliente" || found[0].Through != "loja" || found[0].Root != "funcionario" ||
		found[0].Max != worst[0] || found[0].Sampled != staff[0] {
		t.Errorf("CheckFanOut = %+v; want cliente through loja, %d people, over %d staff", found, worst[0], staff[0])
	}
	// An employee's rentals and payments point at the customers served: a
	// warning naming as many customers as hand-written SQL counts.
	for _, table := range []string{"rental", "payment"} {
		most := crmtest.Column[int](t, db, `SELECT COUNT(DISTINCT x.customer_id) n FROM `+table+` x JOIN customer c ON c.customer_id = x.customer_id
		  WHERE x.staff_id IS NOT NULL AND (c.cpf IS NOT NULL OR c.email IS NOT NULL) GROUP BY x.staff_id ORDER BY n DESC LIMIT 1`)
		entity := map[string]string{"rental": "locacao", "payment": "pagamento"}[table]
		ok := false
		for _, fo := range found {
			ok = ok || (fo.Entity == entity && fo.Mentions && fo.Person == "cliente" && fo.Max == most[0] && fo.Root == "funcionario")
		}
		if !ok {
			t.Errorf("no warning that %s points at up to %d customers: %+v", entity, most[0], found)
		}
	}
	for _, fo := range found {
		if fo.Entity == "endereco" {
			t.Errorf("endereco, reached through cliente, reported again: %+v", fo)
		}
	}
	if len(found) != 3 {
		t.Errorf("CheckFanOut = %+v; want cliente, locacao and pagamento", found)
	}
	good := crmtest.LoadMap(t, crmtest.FixtureMapPath(f))
	if found, err = crm.CheckFanOut(ctx, db, good, crm.FanOutOptions{}); err != nil || len(found) != 0 {
		t.Errorf("the shop's own map: CheckFanOut = %+v, %v; want nothing", found, err)
	}
}

// TestCheckFanOutFixtureMaps: the hand-written maps of the three test
// schemas (FKs to shared rows, a polymorphic CRM without FKs, a person
// split in two with composite keys) reach only their titulares' rows, and
// CheckFanOut says nothing about them.
func TestCheckFanOutFixtureMaps(t *testing.T) {
	t.Parallel()
	for _, f := range crmtest.Fixtures() {
		t.Run(f.Name, func(t *testing.T) {
			db := crmtest.CreateFixture(t, f)
			found, err := crm.CheckFanOut(context.Background(), db, crmtest.LoadMap(t, crmtest.FixtureMapPath(f)), crm.FanOutOptions{Samples: 100})
			if err != nil || len(found) != 0 {
				t.Errorf("CheckFanOut = %+v, %v; want nothing", found, err)
			}
		})
	}
}
