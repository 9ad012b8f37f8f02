package crm_test

import (
	"context"
	"testing"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
	"github.com/titular/titular/datamap"
)

// TestDiscoveredDraftsProof is issue #16's proof on the three test schemas
// (shop: foreign keys to and from shared rows; polycrm: no foreign keys,
// polymorphic links; split: composite keys, a person in two tables):
// discovery's draft, with only purposes and legal bases filled in, passes
// every error of datamap check (schema, anonymizers against the columns and
// constraints, fan-out over sampled titulares, ANONYMIZE planning), and
// EXTRACT, DELETE and ANONYMIZE under it reach and change exactly each
// sampled titular's rows, as the fixtures' hand-written SQL says.
func TestDiscoveredDraftsProof(t *testing.T) {
	for _, f := range crmtest.Fixtures() {
		t.Run(f.Name, func(t *testing.T) {
			db := crmtest.CreateFixture(t, f)
			m := crmtest.DraftMap(t, db, f.Name)
			for _, line := range crmtest.DraftSummary(m) {
				t.Log(line)
			}
			if missing := datamap.MissingBasics(m); len(missing) != 0 {
				t.Errorf("purposes and bases filled in, yet missing for %v", missing)
			}
			fo, err := crm.CheckFanOut(context.Background(), db, m, crm.FanOutOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range fo {
				if x.Mentions {
					t.Logf("warning (as datamap check prints it): %s reaches rows that point at up to %d other %s records", x.Entity, x.Max, x.Person)
					continue
				}
				t.Errorf("fan-out: %s through %s reaches up to %d other people over %d sampled titulares of %s", x.Entity, x.Through, x.Max, x.Sampled, x.Root)
			}
			if _, err := crm.PlanAnonymize(m, anonymize.NewRegistry()); err != nil {
				t.Errorf("ANONYMIZE would be refused under the draft: %v", err)
			}
			crmtest.Prove(t, f, m, f.Samples)
		})
	}
}
