package service

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/crm/crmtest"
)

// TestSchemasThroughService drives real requests through the service (the
// request RPCs, the worker, titular's records in the tenant's database) on
// each test schema of crmtest with its hand-written map, and judges the
// outcome with crmtest's harness: EXTRACT reaches, entity by entity, what
// the walk the harness checked against the hand-written truth reaches;
// DELETE and ANONYMIZE change exactly the titular's rows and nothing else in
// any table of the CRM. No titular's identifier may reach the logs.
func TestSchemasThroughService(t *testing.T) {
	for _, fx := range crmtest.Fixtures() {
		t.Run(fx.Name, func(t *testing.T) {
			create := func(ctx context.Context, db *sql.DB) error { return fx.Create(ctx, db) }
			people := fx.Samples
			t.Run("extract", func(t *testing.T) {
				f := newFixture(t, withCRM(create, crmtest.FixtureMapPath(fx)))
				m := f.tenant().Map
				for _, p := range people {
					crmtest.ProveExtract(t, f.db, m, fx, p)
					r := f.request(lgpdv1.RequestKind_EXTRACT, p)
					want := map[string]int64{}
					for e, n := range crmtest.Reach(t, f.db, m, p.IDs) {
						want[e] = n
					}
					got := map[string]int64{}
					for _, c := range r.GetResult().GetExtract().GetEntities() {
						if c.GetRows() > 0 {
							got[c.GetEntity()] = c.GetRows()
						}
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%s: the service's EXTRACT reached %v, the checked walk %v", p.Label, got, want)
					}
				}
				f.assertNoIdentifiers(people)
			})
			t.Run("delete", func(t *testing.T) {
				f := newFixture(t, withCRM(create, crmtest.FixtureMapPath(fx)))
				m := f.tenant().Map
				for _, p := range people {
					crmtest.ProveDeleteBy(t, f.db, m, fx, p, func() (map[string]bool, error) {
						r := f.request(lgpdv1.RequestKind_DELETE, p)
						if !r.GetResult().GetDelete().GetComplete() {
							return nil, fmt.Errorf("DELETE not complete: %v", r.GetResult().GetDelete())
						}
						return map[string]bool{}, nil
					})
				}
				f.assertNoIdentifiers(people)
			})
			t.Run("anonymize", func(t *testing.T) {
				f := newFixture(t, withCRM(create, crmtest.FixtureMapPath(fx)))
				m := f.tenant().Map
				for _, p := range people {
					crmtest.ProveAnonymizeBy(t, f.db, m, fx, p, func() (map[string]bool, error) {
						r := f.request(lgpdv1.RequestKind_ANONYMIZE, p)
						if h := r.GetResult().GetAnonymize().GetHolds(); len(h) > 0 {
							return nil, fmt.Errorf("ANONYMIZE held rows: %v", h)
						}
						return map[string]bool{}, nil
					})
				}
				f.assertNoIdentifiers(people)
			})
		})
	}
}

// request files a request of kind for p as the backend, with every
// identifier the seed holds for p, runs the worker and returns the request,
// failing unless it completed.
func (f *fixture) request(kind lgpdv1.RequestKind, p crmtest.Person) *lgpdv1.Request {
	f.t.Helper()
	r := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: kind,
		Subject: &lgpdv1.Subject{Cpf: p.IDs.CPF, Email: p.IDs.Email, Phone: p.IDs.Phone}})
	if n := f.work(); n != 1 {
		f.t.Fatalf("%s: the worker took %d requests, want 1", p.Label, n)
	}
	r = f.get(r.GetId())
	if r.GetStatus() != lgpdv1.RequestStatus_COMPLETED {
		f.t.Fatalf("%s: %s ended %s: %v", p.Label, kind, r.GetStatus(), r.GetReasons())
	}
	return r
}

// assertNoIdentifiers fails when an identifier of people, in any stored
// shape, reached the logs.
func (f *fixture) assertNoIdentifiers(people []crmtest.Person) {
	f.t.Helper()
	logs := strings.ToLower(f.logs.String())
	for _, p := range people {
		for _, n := range crmtest.Needles(p.IDs) {
			if n != "" && strings.Contains(logs, strings.ToLower(n)) {
				f.t.Errorf("logs contain an identifier of %s", p.Label)
				break
			}
		}
	}
}
