package crm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
)

// TestPlanReleaseRefusesEntityByEntity: a map an ANONYMIZE refuses as a
// whole (a personal field of pessoa without an anonymizer) still lets the
// sweep anonymize the other entities' released rows; pessoa's are refused,
// naming the field.
func TestPlanReleaseRefusesEntityByEntity(t *testing.T) {
	m := crmtest.DemoMap(t)
	p := m.Entity("pessoa")
	p.Fields[crmtest.FieldIndex(p, "nome")].Anonymizer = nil
	if _, err := crm.PlanAnonymize(m, anonymize.NewRegistry()); err == nil {
		t.Fatal("the ANONYMIZE plan must refuse the map")
	}
	rp, err := crm.PlanRelease(m, anonymize.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if why := rp.Refused("pessoa"); !strings.Contains(why, "pessoa.nome") {
		t.Errorf("pessoa refused for %q, want the field named", why)
	}
	if why := rp.Refused("reserva"); why != "" {
		t.Errorf("reserva refused for %q", why)
	}
}

// TestReleaserAnonymizeRow: a row picked by its key is anonymized in the
// caller's transaction and the count is the server's (RowsAffected); a key
// with no row is reported gone; a refused entity's row is left as it is.
// DeleteRow tells a deleted row from a referenced and a gone one.
func TestReleaserAnonymizeRow(t *testing.T) {
	x, db, m, sc := seeded(t)
	buyer := crmtest.IDs(sc["comprador_2023"])
	rows := crmtest.SubjectRows(t, db, m, buyer)
	var sale, person string
	for k := range rows["reserva"] {
		sale = k
	}
	for k := range rows["pessoa"] {
		person = k
	}
	if sale == "" || person == "" {
		t.Fatalf("the 2023 buyer has no sale or record: %v", rows)
	}
	reserva, pessoa := m.Entity("reserva"), m.Entity("pessoa")
	key := func(k string) []any {
		v, err := crm.ParseRowKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	pessoa.Fields[crmtest.FieldIndex(pessoa, "nome")].Anonymizer = nil
	plan, err := crm.PlanRelease(m, anonymize.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	k, err := anonymize.NewRequestKey()
	if err != nil {
		t.Fatal(err)
	}
	before, beforePerson := crmtest.RowByKey(t, db, reserva, sale), crmtest.RowByKey(t, db, pessoa, person)
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	rel := x.Releaser(context.Background(), tx, plan)
	if found, n, err := rel.AnonymizeRow(reserva, key(sale), k); err != nil || !found || n != 1 {
		t.Fatalf("anonymize the sale: found %v, %d changed, %v", found, n, err)
	}
	if found, n, err := rel.AnonymizeRow(reserva, key("[999999999]"), k); err != nil || found || n != 0 {
		t.Errorf("a missing row: found %v, %d changed, %v", found, n, err)
	}
	if _, _, err := rel.AnonymizeRow(pessoa, key(person), k); !errors.Is(err, crm.ErrCannotAnonymize) || !strings.Contains(err.Error(), "pessoa.nome") {
		t.Errorf("a refused entity's row: %v, want ErrCannotAnonymize naming the field", err)
	}
	// The buyer's record is still referenced by their sale.
	if n, referenced, err := crm.DeleteRow(context.Background(), tx, pessoa, key(person)); err != nil || !referenced || n != 0 {
		t.Errorf("delete a referenced row: %d %v %v", n, referenced, err)
	}
	if n, referenced, err := crm.DeleteRow(context.Background(), tx, reserva, key("[999999999]")); err != nil || referenced || n != 0 {
		t.Errorf("delete a gone row: %d %v %v", n, referenced, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if after := crmtest.RowByKey(t, db, reserva, sale); crmtest.SameRow(before, after) || after[crmtest.FieldIndex(reserva, "cliente_cpf")] == before[crmtest.FieldIndex(reserva, "cliente_cpf")] {
		t.Errorf("the sale did not change: %v", after)
	}
	if !crmtest.SameRow(beforePerson, crmtest.RowByKey(t, db, pessoa, person)) {
		t.Error("a refused entity's row changed")
	}
}
