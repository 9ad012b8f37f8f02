package service

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/titular/titular/config"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/store"
	"github.com/titular/titular/store/storetest"
	"github.com/titular/titular/tenant"
)

// BenchmarkConsentWritePath measures CONSENTs as CreateRequest records them
// once validated (createConsent: the tenant's batcher, the purpose read,
// the consent rules, WriteConsentBatch), with the sequencer integrating
// meanwhile and a webhook configured, so every revocation writes its
// delivery row, but no gRPC, no REST and no delivery. Against single-row
// INSERT transactions on the same server, 32 callers each: the ceiling the
// consent scenario of `titular bench` cannot pass.
//
//	go test -run '^$' -bench ConsentWritePath ./service
func BenchmarkConsentWritePath(b *testing.B) {
	ctx := context.Background()
	db, dsn := storetest.NewDatabase(b)
	if _, err := store.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE bench_plain (id BIGINT NOT NULL AUTO_INCREMENT, subject VARCHAR(100) NOT NULL,
 purpose VARCHAR(64) NOT NULL, action VARCHAR(8) NOT NULL, at DATETIME(6) NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB`); err != nil {
		b.Fatal(err)
	}
	t, plainDB := benchTenant(b, dsn)
	reqs := NewRequests(nil, slog.New(slog.NewTextHandler(io.Discard, nil)), func(string) {})
	var next atomic.Int64
	consent := func(ctx context.Context) error {
		n := store.NewRequest{Kind: store.KindConsent, CreatedBy: "bench", Deadline: t.Config.Policy.Deadline(),
			Subject: store.Identifiers{Email: fmt.Sprintf("bench-%d@example.com", next.Add(1))}}
		_, err := reqs.createConsent(ctx, t, n, consentChange{purpose: "marketing_email", action: store.ConsentRevoke,
			channel: "portal", evidence: store.ConsentEvidence{IP: "198.51.100.1", UserAgent: "titular-bench"}})
		return err
	}
	plain := func(ctx context.Context) error {
		tx, err := plainDB.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
		if _, err := tx.ExecContext(ctx, "INSERT INTO bench_plain (subject, purpose, action, at) VALUES (?, ?, ?, ?)",
			"bench@example.com", "marketing_email", store.ConsentRevoke, time.Now().UTC()); err != nil {
			return err
		}
		return tx.Commit()
	}
	const total, rounds = 6000, 5
	var plains, consents, ratios []float64
	for b.Loop() {
		for range rounds {
			p := rate(b, total, plain)
			sctx, stop := context.WithCancel(ctx)
			var seq sync.WaitGroup
			seq.Go(func() { // the sequencer, as serve runs it
				for sctx.Err() == nil {
					_, _ = t.Store.Integrate(sctx)
					time.Sleep(200 * time.Millisecond)
				}
			})
			c := rate(b, total, consent)
			stop()
			seq.Wait()
			plains, consents, ratios = append(plains, p), append(consents, c), append(ratios, c/p)
		}
	}
	b.ReportMetric(medianOf(plains), "plain_tx/s")
	b.ReportMetric(medianOf(consents), "consents/s")
	b.ReportMetric(medianOf(ratios), "consent_ratio")
}

// rate runs op total times over 32 concurrent callers and returns ops/s.
func rate(b *testing.B, total int, op func(context.Context) error) float64 {
	var left atomic.Int64
	left.Store(int64(total))
	start := time.Now()
	var callers sync.WaitGroup
	for range 32 {
		callers.Go(func() {
			for left.Add(-1) >= 0 {
				if err := op(context.Background()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	callers.Wait()
	return float64(total) / time.Since(start).Seconds()
}

func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// benchTenant opens the database at dsn as the tenant "bench", with the
// demo map and purposes and a webhook subscribed to revocations, and
// returns it with a second pool for the baseline.
func benchTenant(b *testing.B, dsn string) (*tenant.Tenant, *sql.DB) {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	mapPath, err := filepath.Abs("../examples/realestate/datamap.yaml")
	if err != nil {
		b.Fatal(err)
	}
	secret := filepath.Join(dir, "webhook.secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef"), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse(filepath.Join(dir, "titular.yaml"), []byte(fmt.Sprintf(`state_dir: %q
tenants:
  - {id: bench, name: Bench, dsn: %q, datamap: %q, max_open_conns: 48,
     webhooks: [{name: crm, url: "http://127.0.0.1:9/hook", secret_file: %q, events: [consent.revoked]}]}
`, filepath.Join(dir, "state"), dsn, mapPath, secret)))
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := tenant.NewRegistry(cfg, keyring.New(cfg.StateDir, log), log)
	b.Cleanup(func() { reg.Close() })
	t, err := reg.Get(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile("../examples/realestate/purposes.yaml")
	if err != nil {
		b.Fatal(err)
	}
	var catalog PurposeCatalog
	if err := yaml.Unmarshal(raw, &catalog); err != nil {
		b.Fatal(err)
	}
	if _, err := LoadPurposes(ctx, t, catalog, "bench"); err != nil {
		b.Fatal(err)
	}
	plain, err := tenant.OpenDSN(ctx, dsn, 48)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { plain.Close() })
	return t, plain
}
