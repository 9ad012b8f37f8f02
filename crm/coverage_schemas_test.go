package crm_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/titular/titular/datamap"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/crm/crmtest"
)

// TestCoverageOnTestSchemas runs the report on the three test schemas
// (crmtest.Fixtures: FKs to shared rows, no FKs with polymorphic links,
// composite keys and a split person table) with their hand-written maps.
// For the fixtures' sample titulares, the rows reached per table, the
// maximum per titular and how many titulares have rows there equal the
// fixtures' hand-written SQL; nothing holding their identifiers is left
// unreached. A sample of 20 drawn by the report itself finds nothing
// unreached either.
func TestCoverageOnTestSchemas(t *testing.T) {
	t.Parallel()
	for _, f := range crmtest.Fixtures() {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := crmtest.CreateFixture(t, f)
			m := crmtest.LoadMap(t, crmtest.FixtureMapPath(f))
			var subjects []crm.Identifiers
			union := map[string]map[string]bool{}
			maxPer := map[string]int64{}
			titulares := map[string]int{}
			for _, p := range f.Samples {
				subjects = append(subjects, p.IDs)
				keys, err := f.PersonKeys(ctx, db, p)
				if err != nil {
					t.Fatal(err)
				}
				for table, set := range keys {
					if union[table] == nil {
						union[table] = map[string]bool{}
					}
					for k := range set {
						union[table][k] = true
					}
					maxPer[table] = max(maxPer[table], int64(len(set)))
					if len(set) > 0 {
						titulares[table]++
					}
				}
			}
			r, err := crm.Coverage(ctx, db, m, crm.CoverageOptions{Subjects: subjects})
			if err != nil {
				t.Fatal(err)
			}
			if r.Titulares != len(f.Samples) {
				t.Errorf("%d titulares, want the %d samples", r.Titulares, len(f.Samples))
			}
			for _, tc := range r.Tables {
				want := int64(len(union[tc.Table]))
				if tc.ReachedRows != want || tc.MaxPerTitular != maxPer[tc.Table] || tc.TitularesReached != titulares[tc.Table] {
					t.Errorf("%s: reached %d rows, at most %d per titular, %d titulares; the hand-written SQL says %d, %d, %d",
						tc.Table, tc.ReachedRows, tc.MaxPerTitular, tc.TitularesReached, want, maxPer[tc.Table], titulares[tc.Table])
				}
				delete(union, tc.Table)
			}
			for table, set := range union {
				if len(set) > 0 {
					t.Errorf("%s: the samples own %d rows there, but the report has no line for it", table, len(set))
				}
			}
			if r.Unreached.Rows != 0 {
				t.Errorf("unreached %+v with the hand-written map; tables %+v", r.Unreached, r.Tables)
			}
			t.Log(r.Summary())

			sampled, err := crm.Coverage(ctx, db, m, crm.CoverageOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if sampled.Titulares != 20 || sampled.Unreached.Rows != 0 {
				t.Errorf("a sample of 20: %s", sampled.Summary())
			}
			t.Log(sampled.Summary())
		})
	}
}

// TestCoverageOnTestSchemasMissingTable: the polymorphic CRM's map without
// the entity of the e-mails' texts, whose recipients are the contacts'
// e-mail addresses. For the fixture's sample titulares, the report counts
// as unreached exactly the rows the hand-written SQL finds quoting their
// e-mails there, all in the recipients column, and names the table
// unmapped.
func TestCoverageOnTestSchemasMissingTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := crmtest.PolyCRM()
	db := crmtest.CreateFixture(t, f)
	m := crmtest.LoadMap(t, crmtest.FixtureMapPath(f))
	m.Entities = slices.DeleteFunc(m.Entities, func(e *datamap.Entity) bool { return e.Table == "emails_text" })
	var subjects []crm.Identifiers
	var likes []string
	var args []any
	for _, p := range f.Samples {
		subjects = append(subjects, p.IDs)
		if p.IDs.Email != "" {
			likes = append(likes, "to_addrs LIKE ?")
			args = append(args, "%"+p.IDs.Email+"%")
		}
	}
	if len(likes) == 0 {
		t.Fatal("no sample of the polymorphic CRM has an e-mail")
	}
	want := int64(crmtest.CountRows(t, db, "SELECT COUNT(*) FROM emails_text WHERE "+strings.Join(likes, " OR "), args...))
	if want == 0 {
		t.Fatal("the samples' e-mails are quoted in no e-mail text; the fixture changed")
	}
	r, err := crm.Coverage(ctx, db, m, crm.CoverageOptions{Subjects: subjects})
	if err != nil {
		t.Fatal(err)
	}
	var got *crm.TableCoverage
	for i := range r.Tables {
		if r.Tables[i].Table == "emails_text" {
			got = &r.Tables[i]
		}
	}
	if got == nil {
		t.Fatalf("no line for emails_text: %s", r.Summary())
	}
	cols := []crm.ColumnCount{{Column: "to_addrs", Kinds: []string{"email"}, Rows: want}}
	if len(got.Entities) != 0 || got.UnreachedRows != want || !slices.EqualFunc(got.UnreachedColumns, cols, func(a, b crm.ColumnCount) bool {
		return a.Column == b.Column && a.Rows == b.Rows && slices.Equal(a.Kinds, b.Kinds)
	}) {
		t.Errorf("emails_text: %+v, want %d unreached rows in to_addrs", *got, want)
	}
	if r.Unreached.Rows != want || r.Unreached.UnmappedTables != 1 {
		t.Errorf("unreached %+v, want %d rows in 1 unmapped table", r.Unreached, want)
	}
	t.Log(r.Summary())
}
