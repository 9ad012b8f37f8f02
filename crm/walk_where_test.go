package crm_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store/storetest"
)

// polySchema is a CRM without foreign keys whose e-mail addresses belong to
// contacts and leads through one polymorphic link table (bean_id names a row
// of the table bean_module says), as SugarCRM-family schemas keep them.
var polySchema = []string{
	`CREATE TABLE contacts (id INT PRIMARY KEY, first_name VARCHAR(40), phone_mobile VARCHAR(20))`,
	`CREATE TABLE leads (id INT PRIMARY KEY, first_name VARCHAR(40))`,
	`CREATE TABLE email_addresses (id CHAR(36) PRIMARY KEY, email_address VARCHAR(100), deleted TINYINT NOT NULL DEFAULT 0)`,
	`CREATE TABLE email_addr_bean_rel (id CHAR(36) PRIMARY KEY, email_address_id CHAR(36), bean_id INT, bean_module VARCHAR(20), deleted TINYINT NOT NULL DEFAULT 0)`,
}

const polyMap = `version: 1
subject: {identifiers: [email, phone]}
entities:
  email_addresses:
    table: email_addresses
    key: [id]
    match: {email: email_address}
    where: {deleted: 0}
    fields:
      email_address: {category: contato}
  contact_email_links:
    table: email_addr_bean_rel
    key: [id]
    where: {bean_module: Contacts, deleted: false}
    parent: {entity: email_addresses, on: {email_address_id: id}}
  contacts:
    table: contacts
    key: [id]
    match: {phone: phone_mobile}
    parent: {entity: contact_email_links, on: {id: bean_id}}
    fields:
      first_name: {category: identificacao}
`

// TestWalkWhere: an entity's where constants restrict every query for its
// rows — the parent join (a lead whose id equals a contact's is not reached
// through the contacts' link entity), the match rules (a deleted e-mail row
// is not the titular's) and the one-statement root probe.
func TestWalkWhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.NewDatabase(t)
	for _, q := range polySchema {
		mustExec(t, db, q)
	}
	mustExec(t, db, `INSERT INTO contacts VALUES (1, 'Ana', '+5511911110001'), (2, 'Bia', '+5511911110002'), (3, 'Caio', '+5511911110003')`)
	mustExec(t, db, `INSERT INTO leads VALUES (2, 'Lead Two')`)
	mustExec(t, db, `INSERT INTO email_addresses VALUES ('e1', 'ana@example.org', 0), ('e2', 'old@example.org', 1), ('e3', 'caio@example.org', 0)`)
	// e1 belongs to contact 1 and to lead 2 (not contact 2); the deleted
	// e-mail e2 still links contact 3; a deleted link joins e3 to contact 2.
	mustExec(t, db, `INSERT INTO email_addr_bean_rel VALUES
 ('r1', 'e1', 1, 'Contacts', 0), ('r2', 'e1', 2, 'Leads', 0), ('r3', 'e2', 3, 'Contacts', 0),
 ('r4', 'e3', 3, 'Contacts', 0), ('r5', 'e3', 2, 'Contacts', 1)`)
	m, err := datamap.Parse("poly.yaml", []byte(polyMap))
	if err != nil {
		t.Fatal(err)
	}
	reached := func(ids crm.Identifiers) map[string][]string {
		got := map[string][]string{}
		for e, rows := range crmtestSubjectKeys(t, db, m, ids) {
			got[e] = rows
		}
		return got
	}
	for _, tc := range []struct {
		name string
		ids  crm.Identifiers
		want map[string][]string
	}{
		{"e-mail of a contact also linked to a lead", crm.Identifiers{Email: "ana@example.org"},
			map[string][]string{"email_addresses": {`["e1"]`}, "contact_email_links": {`["r1"]`}, "contacts": {`[1]`}}},
		{"deleted e-mail row and deleted link", crm.Identifiers{Email: "caio@example.org"},
			map[string][]string{"email_addresses": {`["e3"]`}, "contact_email_links": {`["r4"]`}, "contacts": {`[3]`}}},
		{"an e-mail only a deleted row holds", crm.Identifiers{Email: "old@example.org"}, map[string][]string{}},
		{"phone", crm.Identifiers{Phone: "+5511911110002"}, map[string][]string{"contacts": {`[2]`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := reached(tc.ids)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("reached %v, want %v", got, tc.want)
			}
			found, err := crm.Reaches(ctx, db, m, tc.ids)
			if err != nil {
				t.Fatal(err)
			}
			if found != (len(tc.want) > 0) {
				t.Errorf("Reaches = %v, want %v", found, len(tc.want) > 0)
			}
			// The one-statement root probe behind Linked honours where too:
			// an e-mail only a deleted row holds links nothing.
			linked, err := crm.Linked(ctx, db, m, tc.ids)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ids.Email == "old@example.org" && !linked.Empty() {
				t.Errorf("Linked found identifiers through a deleted row")
			}
		})
	}
}

// crmtestSubjectKeys walks m for ids and returns, per entity with rows, the
// JSON keys of the rows reached, sorted.
func crmtestSubjectKeys(t *testing.T, db crm.Querier, m *datamap.Map, ids crm.Identifiers) map[string][]string {
	t.Helper()
	sink := &keySink{keys: map[string][]string{}}
	if _, err := crm.Walk(context.Background(), db, m, ids, sink); err != nil {
		t.Fatal(err)
	}
	for e := range sink.keys {
		slices.Sort(sink.keys[e])
	}
	return sink.keys
}

type keySink struct {
	cur  string
	keys map[string][]string
}

func (s *keySink) BeginEntity(e *datamap.Entity) error { s.cur = e.Name; return nil }
func (s *keySink) Row([]any) error                     { return fmt.Errorf("keyed rows expected") }
func (s *keySink) EndEntity(*datamap.Entity, int64) error {
	return nil
}
func (s *keySink) KeyedRow(key, _, _ []any) error {
	s.keys[s.cur] = append(s.keys[s.cur], crm.RowKeyJSON(key))
	return nil
}
