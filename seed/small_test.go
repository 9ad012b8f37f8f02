package seed

import (
	"testing"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
)

func TestSmallTitularesAreValidDistinctAndStable(t *testing.T) {
	a, b := SmallTitulares(7, 20), SmallTitulares(7, 20)
	other := SmallTitulares(8, 20)
	seen := map[string]bool{}
	for i, p := range a {
		if p != b[i] {
			t.Fatalf("titular %d differs between two calls with the same seed", i)
		}
		if !brdoc.ValidCPF(p.CPF) {
			t.Errorf("titular %d: CPF check digits are wrong", i)
		}
		if _, err := brdoc.NormalizePhone(p.Celular); err != nil {
			t.Errorf("titular %d: phone: %v", i, err)
		}
		if got, err := brdoc.NormalizeEmail(p.Email); err != nil || got != p.Email {
			t.Errorf("titular %d: e-mail is not normalized: %v", i, err)
		}
		for _, id := range []string{p.CPF, p.Email, p.Celular, other[i].CPF, other[i].Email, other[i].Celular} {
			if seen[id] {
				t.Errorf("identifier repeated within or across tenants (titular %d)", i)
			}
			seen[id] = true
		}
	}
}

// TestSmallCRMFitsFleetDataMap creates the small CRM and checks
// examples/fleet/datamap.yaml against it as `titular datamap check` does.
func TestSmallCRMFitsFleetDataMap(t *testing.T) {
	db := newDB(t)
	ctx := t.Context()
	if err := CreateSmall(ctx, db, 3, 20); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM clientes"); n != 20 {
		t.Errorf("clientes = %d, want 20", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM atendimentos"); n < 20 || n > 60 {
		t.Errorf("atendimentos = %d, want one to three per titular", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM propostas"); n != 10 {
		t.Errorf("propostas = %d, want one per other titular", n)
	}
	want := SmallTitulares(3, 20)[4]
	if n := count(t, db, "SELECT COUNT(*) FROM clientes WHERE cpf = ? AND email = ? AND celular = ?", want.CPF, want.Email, want.Celular); n != 1 {
		t.Errorf("SmallTitulares does not describe the rows CreateSmall wrote")
	}
	m, err := datamap.Load("../examples/fleet/datamap.yaml", crm.DatamapOptions(anonymize.NewRegistry())...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := crm.LoadSchema(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckSchema(s); err != nil {
		t.Errorf("examples/fleet/datamap.yaml does not fit seed/small_schema.sql:\n%v", err)
	}
	if err := CreateSmall(ctx, db, 3, 0); err == nil {
		t.Error("a small CRM of no titulares is accepted")
	}
}
