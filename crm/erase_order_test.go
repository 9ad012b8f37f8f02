package crm_test

import (
	"strings"
	"testing"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store/storetest"
)

// TestDeleteFollowsTheCRMsForeignKeys: rows a titular references (her
// address, mapped as her child through customer.address_id) and siblings
// that reference each other (a payment naming a rental) are deleted in the
// order the CRM's RESTRICT keys demand, so a complete DELETE keeps nothing
// of hers; the result still lists entities in map order.
func TestDeleteFollowsTheCRMsForeignKeys(t *testing.T) {
	db, _ := storetest.NewDatabase(t)
	for _, q := range []string{
		`CREATE TABLE address (address_id INT PRIMARY KEY, street VARCHAR(80) NOT NULL)`,
		`CREATE TABLE customer (customer_id INT PRIMARY KEY, cpf CHAR(11) NOT NULL, address_id INT NOT NULL,
  CONSTRAINT fk_customer_address FOREIGN KEY (address_id) REFERENCES address (address_id) ON DELETE RESTRICT)`,
		`CREATE TABLE rental (rental_id INT PRIMARY KEY, customer_id INT NOT NULL,
  CONSTRAINT fk_rental_customer FOREIGN KEY (customer_id) REFERENCES customer (customer_id) ON DELETE RESTRICT)`,
		`CREATE TABLE payment (payment_id INT PRIMARY KEY, customer_id INT NOT NULL, rental_id INT NULL,
  CONSTRAINT fk_payment_customer FOREIGN KEY (customer_id) REFERENCES customer (customer_id) ON DELETE RESTRICT,
  CONSTRAINT fk_payment_rental FOREIGN KEY (rental_id) REFERENCES rental (rental_id) ON DELETE RESTRICT)`,
	} {
		mustExec(t, db, q)
	}
	cpf, other := brdoc.CPFFromSeed(501), brdoc.CPFFromSeed(502)
	mustExec(t, db, `INSERT INTO address VALUES (1, 'Rua A, 10'), (2, 'Rua B, 20')`)
	mustExec(t, db, `INSERT INTO customer VALUES (1, ?, 1), (2, ?, 2)`, cpf, other)
	mustExec(t, db, `INSERT INTO rental VALUES (10, 1), (20, 2)`)
	mustExec(t, db, `INSERT INTO payment VALUES (100, 1, 10), (200, 2, 20)`)
	// Document order puts rental after payment, so children-before-parents
	// alone would delete the rental while the payment still names it.
	m, err := datamap.Parse("shop.yaml", []byte(`version: 1
subject: {identifiers: [cpf]}
entities:
  customer:
    table: customer
    key: [customer_id]
    match: {cpf: cpf}
    fields:
      cpf: {category: identificacao, anonymizer: fake.cpf}
  address:
    table: address
    key: [address_id]
    parent: {entity: customer, on: {address_id: address_id}}
    fields:
      street: {category: endereco, anonymizer: fake.address}
  payment:
    table: payment
    key: [payment_id]
    parent: {entity: customer, on: {customer_id: customer_id}}
  rental:
    table: rental
    key: [rental_id]
    parent: {entity: customer, on: {customer_id: customer_id}}
`))
	if err != nil {
		t.Fatal(err)
	}
	res := deleteFK(t, db, m, cpf)
	if !res.Complete || len(res.Blocks) != 0 {
		t.Fatalf("DELETE kept rows: complete=%v blocks=%+v", res.Complete, res.Blocks)
	}
	var names []string
	for _, c := range res.Entities {
		names = append(names, c.Entity)
		if c.Deleted != 1 {
			t.Errorf("%s: deleted %d rows, want 1", c.Entity, c.Deleted)
		}
	}
	if got := strings.Join(names, " "); got != "customer address payment rental" {
		t.Errorf("result lists %s, want map order", got)
	}
	for table, want := range map[string]int{"customer": 1, "address": 1, "rental": 1, "payment": 1} {
		if n := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM "+table); n != want {
			t.Errorf("%s has %d rows, want %d (the other customer's)", table, n, want)
		}
	}
}
