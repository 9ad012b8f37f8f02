package demo_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/examples/realestate"
	"github.com/titular/titular/seed"
)

// TestDemoDeleteKeepsLeadOfHeldSale: on the demo engine, the demo CRM's own
// fk_reservas_lead (ON DELETE SET NULL) would empty a held sale's lead when
// the buyer's DELETE erased the lead the sale came from; the lead is kept, blocked with a
// hold naming the constraint, and the sale is byte for byte what it was.
// The guard's reads (INFORMATION_SCHEMA's delete rules, joins FOR UPDATE)
// run on the engine the demo serves.
func TestDemoDeleteKeepsLeadOfHeldSale(t *testing.T) {
	ctx := context.Background()
	db := engineDB(t, "fk_demo")
	if _, err := seed.Seed(ctx, db, seed.Options{Subjects: 60, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	m, err := datamap.Parse("datamap.yaml", realestate.Datamap)
	if err != nil {
		t.Fatal(err)
	}
	// A buyer whose sale of 2023 or later (held until 2028 at least) came
	// from their own lead.
	var stored string
	err = db.QueryRowContext(ctx, `SELECT p.cpf FROM reservas r JOIN leads l ON l.idlead = r.idlead JOIN pessoas p ON p.idpessoa = r.idpessoa
 WHERE r.data_venda >= '2023-01-01' AND l.idpessoa = r.idpessoa ORDER BY r.idreserva LIMIT 1`).Scan(&stored)
	if err != nil {
		t.Fatalf("the seed has no held sale that came from the buyer's lead: %v", err)
	}
	cpf, err := brdoc.NormalizeCPF(stored)
	if err != nil {
		t.Fatal(err)
	}
	before := sales(t, db, stored)

	plan, err := crm.PlanDelete(m, anonymize.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	key, err := anonymize.NewRequestKey()
	if err != nil {
		t.Fatal(err)
	}
	x := crm.New(func() time.Time { return time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) })
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := x.Delete(ctx, tx, plan, key, crm.Identifiers{CPF: cpf})
	if err != nil {
		_ = tx.Rollback()
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var fkHold bool
	for _, h := range res.Holds {
		fkHold = fkHold || (h.Entity == "lead" && h.Code == crm.CodeFKActionOnHeldRows && h.Constraint == "fk_reservas_lead")
	}
	if !fkHold {
		t.Errorf("no hold names fk_reservas_lead: %+v", res.Holds)
	}
	// The held sale loses at once what its holds do not need (#15, keep),
	// but never its reference to the lead: SET NULL would have emptied it.
	if after := sales(t, db, stored); !reflect.DeepEqual(after, before) {
		t.Errorf("the held sale's references changed:\n%v\n%v", before, after)
	}
}

// sales returns the buyer's sales: their keys and references, as text.
func sales(t *testing.T, db *sql.DB, cpf string) [][]string {
	t.Helper()
	rows, err := db.Query("SELECT r.idreserva, r.idpessoa, r.idlead, r.status FROM reservas r JOIN pessoas p ON p.idpessoa = r.idpessoa WHERE p.cpf = ? ORDER BY r.idreserva", cpf)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		raw := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, b := range raw {
			row[i] = fmt.Sprintf("%q", b)
			if b == nil {
				row[i] = "NULL"
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		t.Fatalf("the buyer's sales: %d rows, %v", len(out), err)
	}
	return out
}
