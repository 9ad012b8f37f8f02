package crm_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
	"github.com/titular/titular/store/storetest"
)

// discoveredPersonal returns the table.column pairs a draft holds as
// personal: fields of a personal category and match columns, plus the
// columns it could not place.
func discoveredPersonal(d *datamap.Draft) map[string]bool {
	got := map[string]bool{}
	for _, e := range d.Map.Entities {
		for _, f := range e.PersonalFields() {
			got[e.Table+"."+f.Column] = true
		}
		for _, r := range e.Match {
			got[e.Table+"."+r.Column] = true
		}
	}
	for _, f := range d.Unplaced {
		got[f.Table+"."+f.Column] = true
	}
	return got
}

// checkDraft renders the draft, parses it back and checks it against the
// live schema, as a DPO's next step would.
func checkDraft(ctx context.Context, t *testing.T, db crm.Querier, d *datamap.Draft) *datamap.Map {
	t.Helper()
	out, err := d.YAML("test draft")
	if err != nil {
		t.Fatal(err)
	}
	m, err := datamap.Parse("draft.yaml", out)
	if err != nil {
		t.Fatalf("the draft does not parse: %v\n%s", err, out)
	}
	s, err := crm.LoadSchema(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckSchema(s); err != nil {
		t.Fatalf("the draft does not fit the schema: %v\n%s", err, out)
	}
	return m
}

// TestDiscoverDemoSchema: on the seeded demo CRM, discovery finds every
// column the example data map holds as personal data, and its draft parses,
// fits the schema and finds a seeded titular's rows.
func TestDiscoverDemoSchema(t *testing.T) {
	ctx := context.Background()
	db, _ := storetest.NewDatabase(t)
	sum, err := seed.Seed(ctx, db, seed.Options{Subjects: 300, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	s, err := crm.Survey(ctx, db, crm.SurveyOptions{Rows: 150})
	if err != nil {
		t.Fatal(err)
	}
	for table, cols := range s.Samples {
		if _, ok := s.Schema.Tables[table]; !ok {
			t.Errorf("sampled table %s is not in the schema", table)
		}
		for col, vals := range cols {
			if len(vals) > 150 {
				t.Errorf("%s.%s: %d sampled values, over the bound of 150", table, col, len(vals))
			}
		}
	}
	for table := range s.Schema.Tables {
		if len(table) > 5 && table[:5] == "lgpd_" {
			t.Errorf("titular's own table %s was surveyed", table)
		}
	}
	d := datamap.Discover(s)
	example, err := datamap.Load("../examples/realestate/datamap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := discoveredPersonal(d)
	want := 0
	for _, e := range example.Entities {
		for _, f := range e.PersonalFields() {
			want++
			if !got[e.Table+"."+f.Column] {
				t.Errorf("discovery missed %s.%s (%s in the example map's entity %s); note: %q",
					e.Table, f.Column, f.Category, e.Name, d.Notes[e.Table+"."+f.Column])
			}
		}
	}
	if want < 50 {
		t.Fatalf("the example map has only %d personal fields; the comparison would be vacuous", want)
	}
	if len(d.Unplaced) != 0 {
		t.Errorf("unplaced = %+v, want none: every demo table with personal data is linked", d.Unplaced)
	}
	for _, bad := range []string{"empreendimentos", "unidades", "termos_consentimento"} {
		if d.Map.Entity(bad) != nil {
			t.Errorf("table %s holds no personal data but became an entity", bad)
		}
	}
	m := checkDraft(ctx, t, db, d)
	var buyer seed.Scenario
	for _, sc := range sum.Scenarios {
		if sc.Name == seed.ScenarioBuyer2023 {
			buyer = sc
		}
	}
	counts, err := crm.Walk(ctx, db, m, crm.Identifiers{CPF: buyer.CPF}, discardSink{})
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"pessoas", "reservas", "repasses", "documentos"} {
		if i := slices.IndexFunc(counts, func(c crm.EntityCount) bool { return c.Entity == table }); i < 0 || counts[i].Rows == 0 {
			t.Errorf("walking the draft found no %s rows of the 2023 buyer: %+v", table, counts)
		}
	}
}

// secondSchema is a CRM of another shape: English names, composite keys,
// and contracts that belong to a customer only through a join table.
var secondSchema = []string{
	`CREATE TABLE customers (
  customer_id BIGINT NOT NULL, full_name VARCHAR(120) NOT NULL, tax_id VARCHAR(14) NOT NULL,
  email_address VARCHAR(150) NULL, mobile VARCHAR(20) NULL, date_of_birth DATE NULL, created_at DATETIME NOT NULL,
  PRIMARY KEY (customer_id), UNIQUE KEY uq_customers_tax (tax_id))`,
	`CREATE TABLE customer_addresses (
  customer_id BIGINT NOT NULL, seq INT NOT NULL, street VARCHAR(120) NULL, city VARCHAR(60) NULL,
  state CHAR(2) NULL, zip_code VARCHAR(9) NULL,
  PRIMARY KEY (customer_id, seq),
  CONSTRAINT fk_addr_customer FOREIGN KEY (customer_id) REFERENCES customers (customer_id))`,
	`CREATE TABLE offices (office_code CHAR(3) NOT NULL, office_name VARCHAR(80) NOT NULL, cnpj CHAR(14) NOT NULL,
  PRIMARY KEY (office_code))`,
	`CREATE TABLE contracts (
  office_code CHAR(3) NOT NULL, contract_no INT NOT NULL, signed_on DATE NULL, monthly_rent DECIMAL(10,2) NOT NULL,
  notes TEXT NULL,
  PRIMARY KEY (office_code, contract_no),
  CONSTRAINT fk_contract_office FOREIGN KEY (office_code) REFERENCES offices (office_code))`,
	`CREATE TABLE contract_parties (
  office_code CHAR(3) NOT NULL, contract_no INT NOT NULL, customer_id BIGINT NOT NULL, party_role VARCHAR(20) NOT NULL,
  PRIMARY KEY (office_code, contract_no, customer_id),
  CONSTRAINT fk_party_contract FOREIGN KEY (office_code, contract_no) REFERENCES contracts (office_code, contract_no),
  CONSTRAINT fk_party_customer FOREIGN KEY (customer_id) REFERENCES customers (customer_id))`,
	`CREATE TABLE payments (
  payment_id BIGINT NOT NULL, office_code CHAR(3) NOT NULL, contract_no INT NOT NULL, paid_on DATE NOT NULL,
  amount DECIMAL(10,2) NOT NULL, payer_document VARCHAR(18) NULL,
  PRIMARY KEY (payment_id),
  CONSTRAINT fk_payment_contract FOREIGN KEY (office_code, contract_no) REFERENCES contracts (office_code, contract_no))`,
	`CREATE TABLE support_notes (note_id BIGINT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (note_id))`,
}

func fillSecondSchema(ctx context.Context, t *testing.T, db crm.Querier) []string {
	t.Helper()
	exec := func(q string, args ...any) {
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, q := range secondSchema {
		exec(q)
	}
	given := []string{"John", "Mary", "James", "Linda", "Robert"}
	family := []string{"Smith", "Johnson", "Brown", "Taylor"}
	var cpfs []string
	for i := 1; i <= 40; i++ {
		cpf := brdoc.CPFFromSeed(uint64(1000 + i))
		cpfs = append(cpfs, cpf)
		exec(`INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, '2024-01-02 10:00:00')`, i,
			given[i%len(given)]+" "+family[i%len(family)], brdoc.FormatCPF(cpf),
			fmt.Sprintf("customer%d@example.org", i), fmt.Sprintf("+55119%08d", 87650000+i), fmt.Sprintf("19%02d-03-04", 50+i))
		exec(`INSERT INTO customer_addresses VALUES (?, 1, ?, 'Springfield', 'SP', ?)`, i, fmt.Sprintf("%d Main Street", i), fmt.Sprintf("01%03d-000", i))
	}
	exec(`INSERT INTO offices VALUES ('SAO', 'São Paulo office', ?)`, brdoc.CNPJFromSeed(3, false))
	for c := 1; c <= 20; c++ {
		exec(`INSERT INTO contracts VALUES ('SAO', ?, '2024-02-01', 2500.00, 'renewal discussed by phone')`, c)
		exec(`INSERT INTO contract_parties VALUES ('SAO', ?, ?, 'tenant')`, c, c)
		exec(`INSERT INTO contract_parties VALUES ('SAO', ?, ?, 'guarantor')`, c, c+20)
		exec(`INSERT INTO payments VALUES (?, 'SAO', ?, '2024-03-01', 2500.00, ?)`, c, c, brdoc.FormatCPF(cpfs[c-1]))
	}
	for n := 1; n <= 10; n++ {
		exec(`INSERT INTO support_notes VALUES (?, ?)`, n, "caller gave the document "+brdoc.FormatCPF(cpfs[n])+" and asked for a copy")
	}
	return cpfs
}

// TestDiscoverSecondSchema: on a differently shaped schema, discovery finds
// the personal columns, keeps composite keys, reaches contracts backwards
// through the contract_parties join table, leaves the office (a company)
// out, and reports free text it cannot link to anyone.
func TestDiscoverSecondSchema(t *testing.T) {
	ctx := context.Background()
	db, _ := storetest.NewDatabase(t)
	cpfs := fillSecondSchema(ctx, t, db)
	s, err := crm.Survey(ctx, db, crm.SurveyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := datamap.Discover(s)
	got := discoveredPersonal(d)
	for _, c := range []string{"customers.full_name", "customers.tax_id", "customers.email_address", "customers.mobile",
		"customers.date_of_birth", "customer_addresses.street", "customer_addresses.city", "customer_addresses.state",
		"customer_addresses.zip_code", "contracts.monthly_rent", "contracts.notes", "payments.amount",
		"payments.payer_document", "contract_parties.party_role", "support_notes.body"} {
		if !got[c] {
			t.Errorf("discovery missed %s", c)
		}
	}
	for _, c := range []string{"offices.cnpj", "offices.office_name"} {
		if got[c] {
			t.Errorf("%s is a company's data, reported as personal", c)
		}
	}
	cust := d.Map.Entity("customers")
	if cust == nil || len(cust.Match) != 3 {
		t.Fatalf("customers should be a root matched by cpf, email and phone: %+v", cust)
	}
	if a := d.Map.Entity("customer_addresses"); a == nil || !slices.Equal(a.Key, []string{"customer_id", "seq"}) {
		t.Errorf("customer_addresses should keep its composite key: %+v", a)
	}
	c := d.Map.Entity("contracts")
	if c == nil || c.Parent == nil || c.Parent.Entity != "contract_parties" || len(c.Parent.On) != 2 {
		t.Fatalf("contracts should hang off the join table on its composite key: %+v", c)
	}
	if d.Map.Entity("offices") != nil {
		t.Errorf("offices became an entity")
	}
	if len(d.Unplaced) != 1 || d.Unplaced[0].Table != "support_notes" || d.Unplaced[0].Kind != "free_text" {
		t.Errorf("unplaced = %+v, want support_notes.body as free text", d.Unplaced)
	}
	m := checkDraft(ctx, t, db, d)
	counts, err := crm.Walk(ctx, db, m, crm.Identifiers{CPF: cpfs[0]}, discardSink{})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	for _, c := range counts {
		rows[c.Entity] = c.Rows
	}
	if rows["customers"] != 1 || rows["contract_parties"] != 1 || rows["contracts"] != 1 || rows["payments"] != 1 || rows["customer_addresses"] != 1 {
		t.Errorf("walking the draft for customer 1 found %v; want their customer, address, party, contract and payment rows", rows)
	}
}
