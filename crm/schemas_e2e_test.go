package crm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store/storetest"
)

// TestSchemaFixtures loads each test schema into MariaDB and checks its
// ground truth: identifiers unique per titular, every sample's person row
// found by its hand-written SQL and no row claimed by two titulares.
func TestSchemaFixtures(t *testing.T) {
	for _, f := range crmtest.Fixtures() {
		t.Run(f.Name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := storetest.NewDatabase(t)
			if err := f.Create(ctx, db); err != nil {
				t.Fatal(err)
			}
			if len(f.People) < 200 {
				t.Errorf("%d people, want a few hundred", len(f.People))
			}
			seen := map[string]string{}
			for _, p := range f.People {
				for _, v := range []string{"cpf:" + p.IDs.CPF, "email:" + p.IDs.Email, "phone:" + p.IDs.Phone} {
					if v[len(v)-1] == ':' {
						continue
					}
					if o, dup := seen[v]; dup {
						t.Errorf("%s and %s share an identifier", o, p.Label)
					}
					seen[v] = p.Label
				}
			}
			owner := map[string]string{}
			for _, p := range f.People {
				keys, err := f.PersonKeys(ctx, db, p)
				if err != nil {
					t.Fatal(err)
				}
				total := 0
				for table, set := range keys {
					for k := range set {
						total++
						if o, dup := owner[table+k]; dup {
							t.Errorf("%s row %s claimed by %s and %s", table, k, o, p.Label)
						}
						owner[table+k] = p.Label
					}
				}
				if total == 0 {
					t.Errorf("%s: no rows", p.Label)
				}
			}
			if len(f.Samples) < 4 {
				t.Errorf("%d samples", len(f.Samples))
			}
			for _, p := range f.Samples {
				t.Logf("sample %s", p.Label)
			}
			t.Logf("%d people, %d rows owned by them", len(f.People), len(owner))
		})
	}
}

// TestSchemaProof runs the end-to-end harness with each fixture's
// hand-written map: CheckSchema passes, and EXTRACT, DELETE and ANONYMIZE
// reach and change exactly the sampled titulares' rows.
func TestSchemaProof(t *testing.T) {
	for _, f := range crmtest.Fixtures() {
		t.Run(f.Name, func(t *testing.T) {
			m := crmtest.LoadMap(t, crmtest.FixtureMapPath(f))
			crmtest.Prove(t, f, m, f.Samples)
		})
	}
}

// TestSchemaExtractEveryone runs the EXTRACT proof for every seeded
// titular who has an identifier to ask with, not only the samples.
func TestSchemaExtractEveryone(t *testing.T) {
	for _, f := range crmtest.Fixtures() {
		t.Run(f.Name, func(t *testing.T) {
			m := crmtest.LoadMap(t, crmtest.FixtureMapPath(f))
			db := crmtest.CreateFixture(t, f)
			n := 0
			for _, p := range f.People {
				if p.IDs.Empty() {
					continue
				}
				crmtest.ProveExtract(quiet{t}, db, m, f, p)
				n++
			}
			t.Logf("%d titulares checked", n)
		})
	}
}

// quiet drops the harness's per-titular log lines.
type quiet struct{ *testing.T }

func (quiet) Logf(string, ...any) {}

// errRecorder is a testing.TB that keeps the harness's errors instead of
// failing, so a test can assert that a wrong map is caught.
type errRecorder struct {
	*testing.T
	errs []string
}

func (r *errRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *errRecorder) Logf(string, ...any) {}

// TestSchemaProofCatchesOverDisclosure runs the harness on a map that hangs
// customers' rows under the employee who served them and their store under
// its manager: CheckSchema accepts it, and the harness must not. An
// employee's EXTRACT reaches other customers' rows, and the test counts them.
func TestSchemaProofCatchesOverDisclosure(t *testing.T) {
	f := crmtest.Shop()
	m := crmtest.LoadMap(t, filepath.Join(crmtest.Root(), "crm", "crmtest", "testdata", "shop_overdisclosing.yaml"))
	db := crmtest.CreateFixture(t, f)
	crmtest.CheckMap(t, db, m) // fits the schema: only the harness (or a sampling check) sees the breach
	ctx := context.Background()
	manager := f.Others[0] // employee 1 manages store 1
	r := &errRecorder{T: t}
	crmtest.ProveExtract(r, db, m, f, manager)
	if len(r.errs) == 0 {
		t.Fatal("the harness accepted a map that answers an employee with customers' rows")
	}
	for _, e := range r.errs {
		t.Logf("caught: %s", e)
	}
	reach, err := crmtest.MapReach(ctx, db, m, manager.IDs)
	if err != nil {
		t.Fatal(err)
	}
	customers := map[string]bool{}
	for k := range reach["customer"] {
		customers[k] = true
	}
	for _, table := range []string{"rental", "payment"} {
		for k := range reach[table] {
			var c int64
			if err := db.QueryRowContext(ctx, "SELECT customer_id FROM "+table+" WHERE "+table+"_id = ?", crmtest.KeyValues(k)...).Scan(&c); err != nil {
				t.Fatal(err)
			}
			customers[fmt.Sprintf("[%q]", fmt.Sprint(c))] = true
		}
	}
	rows := 0
	for _, set := range reach {
		rows += len(set)
	}
	want := crmtest.CountRows(t, db, "SELECT COUNT(*) FROM customer WHERE store_id = 1")
	if len(reach["customer"]) != want {
		t.Errorf("the manager's EXTRACT reaches %d customer records, the store has %d", len(reach["customer"]), want)
	}
	t.Logf("an employee's EXTRACT under the over-disclosing map: %d rows, of %d other people (customers)", rows, len(customers))

	// A customer's own request under the same map misses their rentals and
	// payments (they hang under the employee).
	r = &errRecorder{T: t}
	crmtest.ProveExtract(r, db, m, f, f.Samples[0])
	if len(r.errs) == 0 {
		t.Error("the harness accepted a map that misses a customer's rentals and payments")
	}
	for _, e := range r.errs {
		t.Logf("customer side: %s", e)
	}
}

// TestSchemaProofCatchesIncompleteMaps runs the harness on the shop's map
// made wrong in two ways it must catch: a table of the titular's rows left
// out (DELETE leaves rows, and the customer its FK RESTRICT keeps), and an
// e-mail column marked as not personal (ANONYMIZE leaves the e-mail).
func TestSchemaProofCatchesIncompleteMaps(t *testing.T) {
	f := crmtest.Shop()
	t.Run("table left out", func(t *testing.T) {
		m := crmtest.LoadMap(t, crmtest.FixtureMapPath(f))
		m.Entities = slices.DeleteFunc(m.Entities, func(e *datamap.Entity) bool { return e.Name == "historico_cadastro" })
		db := crmtest.CreateFixture(t, f)
		var p crmtest.Person
		for _, x := range f.People {
			if !x.IDs.Empty() && crmtest.CountRows(t, db, "SELECT COUNT(*) FROM customer_audit WHERE customer_id = ?", x.Ref[0]) > 0 {
				p = x
				break
			}
		}
		r := &errRecorder{T: t}
		res := crmtest.ProveDelete(r, db, m, f, p)
		if len(r.errs) == 0 {
			t.Fatal("the harness accepted a DELETE that left the titular's audit rows")
		}
		for _, e := range r.errs {
			t.Logf("caught: %s", e)
		}
		if res != nil {
			t.Logf("DELETE result: complete=%v entities=%+v holds=%+v", res.Complete, res.Entities, res.Holds)
		}
	})
	t.Run("e-mail not personal", func(t *testing.T) {
		m := crmtest.LoadMap(t, crmtest.FixtureMapPath(f))
		e := m.Entity("cliente")
		i := crmtest.FieldIndex(e, "email")
		e.Fields[i].Category, e.Fields[i].Anonymizer, e.Fields[i].Validate = datamap.CategoryContext, nil, ""
		db := crmtest.CreateFixture(t, f)
		r := &errRecorder{T: t}
		crmtest.ProveAnonymize(r, db, m, f, f.Samples[0])
		if len(r.errs) == 0 {
			t.Fatal("the harness accepted an ANONYMIZE that left the titular's e-mail")
		}
		for _, e := range r.errs {
			t.Logf("caught: %s", e)
		}
	})
}

// TestDraftMapFillsPurposes checks the draft helper the proof runs
// discovery through: the draft of each fixture is written out and read back
// as a map file, with every purpose and legal basis filled and nothing else
// decided for it, and it has roots to find titulares by.
func TestDraftMapFillsPurposes(t *testing.T) {
	for _, f := range crmtest.Fixtures() {
		t.Run(f.Name, func(t *testing.T) {
			db := crmtest.CreateFixture(t, f)
			raw := crmtest.Discover(t, db)
			m := crmtest.DraftMap(t, db, f.Name)
			if len(m.Entities) != len(raw.Map.Entities) {
				t.Fatalf("the draft read back has %d entities, discovery made %d", len(m.Entities), len(raw.Map.Entities))
			}
			roots := 0
			for i, e := range m.Entities {
				if e.Purpose == "" || e.LegalBasis == "" {
					t.Errorf("entity %s: purpose %q, legal basis %q after FillPurposes", e.Name, e.Purpose, e.LegalBasis)
				}
				if r := raw.Map.Entities[i]; r.Purpose != "" && r.Purpose != e.Purpose {
					t.Errorf("entity %s: FillPurposes replaced the draft's purpose %q", e.Name, r.Purpose)
				}
				if len(e.Match) > 0 {
					roots++
				}
			}
			if roots == 0 {
				t.Error("the draft has no root: no request could find anyone")
			}
			for _, l := range crmtest.DraftSummary(m) {
				t.Log(l)
			}
		})
	}
}

// TestSchemaProofWithHolds runs the DELETE proof on the shop's map with
// retention holds: payments kept 5 years for the tax authority (amount and
// date only), and the customer's record kept while held payments reference
// it (name and CPF only). Held rows may change only in the personal columns
// the map names; every other row of every table stays as it was.
func TestSchemaProofWithHolds(t *testing.T) {
	f := crmtest.Shop()
	raw, err := os.ReadFile(crmtest.FixtureMapPath(f))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, edit := range [][2]string{
		{"    parent: {entity: cliente, on: {customer_id: customer_id}}\n    fields:\n      amount:",
			"    parent: {entity: cliente, on: {customer_id: customer_id}}\n    retention:\n" +
				"      - {basis: obrigacao_legal, reference: \"CTN art. 173, I\", keep_years: 5, from: payment_date, keep: [amount, payment_date]}\n" +
				"    fields:\n      amount:"},
		{"    match: {cpf: cpf, email: email}\n",
			"    match: {cpf: cpf, email: email}\n    retention:\n" +
				"      - {basis: obrigacao_legal, reference: \"CTN art. 195\", while: referenced, keep: [first_name, last_name, cpf]}\n"},
	} {
		if strings.Count(doc, edit[0]) != 1 {
			t.Fatalf("shop.yaml changed: %q is not there once", edit[0])
		}
		doc = strings.Replace(doc, edit[0], edit[1], 1)
	}
	path := filepath.Join(t.TempDir(), "shop-holds.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	m := crmtest.LoadMap(t, path)
	db := crmtest.CreateFixture(t, f)
	crmtest.CheckMap(t, db, m)
	held := 0
	for _, p := range f.Samples {
		res := crmtest.ProveDelete(t, db, m, f, p)
		if res == nil {
			continue
		}
		held += len(res.Blocks)
		for _, h := range res.Holds {
			t.Logf("%s: %s held %d row(s) (%s, keeps %v)", p.Label, h.Entity, h.Rows, h.Basis, h.Keep)
		}
	}
	if held == 0 {
		t.Fatal("no sample had a held payment: the test proves nothing about holds")
	}
}
