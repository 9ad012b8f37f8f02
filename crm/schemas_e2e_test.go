package crm_test

import (
	"context"
	"testing"

	"github.com/titular/titular/crm/crmtest"
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
