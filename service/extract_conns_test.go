package service

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/config"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/tenant"
)

// TestExtractReadsOnlyInItsTransactions: an EXTRACT holds a snapshot and a
// read-write transaction, two connections, and reads nothing through the
// pool meanwhile. A pool read there waits for a third connection, which
// other writers may hold while they wait for the worker's transaction: the
// demo's engine, which runs one read-write transaction at a time, stalled
// 30 s on it. With a pool of two, such a read would wait until the deadline.
func TestExtractReadsOnlyInItsTransactions(t *testing.T) {
	// One worker: the configuration allows it a pool of two.
	f := newFixture(t, withWorkers("{per_tenant: 1, poll_interval: 1s, lease: 1m, max_attempts: 1}"))
	buyer := f.scenario(seed.ScenarioBuyer2023)
	// A consent, so that the export's receipt reads the purpose catalog too.
	f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_CONSENT, Subject: &lgpdv1.Subject{Cpf: buyer.CPF},
		Consent: &lgpdv1.ConsentChange{Purpose: "partner_sharing", Action: lgpdv1.ConsentAction_GRANT, TermVersion: "1",
			Evidence: &lgpdv1.ConsentEvidence{Channel: "portal"}}})
	x := f.create(f.backend, &lgpdv1.CreateRequestRequest{Kind: lgpdv1.RequestKind_EXTRACT, Subject: &lgpdv1.Subject{Cpf: buyer.CPF}})

	yaml := strings.Replace(f.cfgYAML, "max_open_conns: 8", "max_open_conns: 2", 1)
	if yaml == f.cfgYAML {
		t.Fatal("the fixture's config no longer sets max_open_conns: 8")
	}
	cfg, err := config.Parse(filepath.Join(f.dir, "titular.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	reg := tenant.NewRegistry(cfg, keyring.New(cfg.StateDir, f.log), f.log)
	t.Cleanup(func() { _ = reg.Close() })
	two, err := reg.Get(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	found, _, err := f.worker.RunOnce(ctx, two)
	if err != nil || !found {
		t.Fatalf("worker on a two-connection pool: found %v, %v after %v", found, err, time.Since(start))
	}
	if got := f.get(x.GetId()).GetStatus(); got != lgpdv1.RequestStatus_COMPLETED {
		t.Fatalf("EXTRACT is %v, want COMPLETED", got)
	}
}
