package server

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/config"
	"github.com/titular/titular/fleet/fleettest"
	"github.com/titular/titular/store"
)

// keyFleet is the fleet tests' credential: dpo on every tenant.
const keyFleet = "test-fleet-dpo-key"

// fleetEnv is a fleet of tenant databases served from a tenants_dir: one
// file per tenant, ids t000, t001, …
type fleetEnv struct {
	dir, tenantsDir, cfgPath string
	tenants                  []fleettest.Tenant
}

// newFleetEnv creates n tenant databases and a config whose tenants_dir
// lists them. workers overrides the workers settings (short intervals and
// leases, so tests see polls, expiries and takeovers in seconds).
func newFleetEnv(t *testing.T, n int, workers string) *fleetEnv {
	t.Helper()
	f := &fleetEnv{dir: t.TempDir()}
	f.tenantsDir = filepath.Join(f.dir, "tenants.d")
	if err := os.MkdirAll(f.tenantsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	f.tenants = fleettest.NewTenants(t, n, 100, true)
	for i, tn := range f.tenants {
		f.writeTenant(t, fleetID(i), fmt.Sprintf("dsn: %q\ndatamap: %q\n", tn.DSN, fleettest.Datamap(t)))
	}
	if workers == "" {
		workers = "{concurrency: 8, per_tenant: 2, min_poll_interval: 200ms, poll_interval: 1s, ownership_lease: 3s, lease: 5s, max_attempts: 3}"
	}
	yaml := fmt.Sprintf(`grpc_addr: 127.0.0.1:0
http_addr: 127.0.0.1:0
state_dir: %q
tenants_dir: tenants.d
workers: %s
auth:
  api_keys:
    - {name: fleet-dpo, role: dpo, tenants: ["*"], key_sha256: %s}
`, filepath.Join(f.dir, "state"), workers, sha(keyFleet))
	f.cfgPath = filepath.Join(f.dir, "titular.yaml")
	if err := os.WriteFile(f.cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func fleetID(i int) string { return fmt.Sprintf("t%03d", i) }

func (f *fleetEnv) writeTenant(t *testing.T, id, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.tenantsDir, id+".yaml"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// start runs a replica in this process; its logs are checked for the
// fleet's titulares' identifiers when the test ends.
func (f *fleetEnv) start(t *testing.T, reload chan os.Signal) (*App, *testEnv) {
	t.Helper()
	cfg, err := config.Load(f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	var out io.Writer = logs
	if testing.Verbose() {
		out = io.MultiWriter(logs, os.Stderr)
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := Start(context.Background(), cfg, log, Options{Reload: reload})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		a.Stop()
		f.assertNoPersonalData(t, logs.String())
	})
	return a, &testEnv{app: a, baseURL: "http://" + a.HTTPAddr(), cfg: cfg, logs: logs}
}

// assertNoPersonalData fails when a titular's identifier reached text.
func (f *fleetEnv) assertNoPersonalData(t *testing.T, text string) {
	t.Helper()
	lower := strings.ToLower(text)
	for _, tn := range f.tenants {
		for _, p := range tn.Titulares() {
			for _, n := range []string{p.CPF, p.Email, p.Celular, p.Nome} {
				if strings.Contains(lower, strings.ToLower(n)) {
					t.Fatalf("a titular's identifier reached the logs")
				}
			}
		}
	}
}

// readyz returns /readyz's status and text.
func readyz(t *testing.T, e *testEnv) (int, string) {
	t.Helper()
	resp, err := http.Get(e.baseURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls cond until it holds or the test deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > deadline {
			t.Fatalf("timed out after %s waiting for %s", deadline, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// extract creates an EXTRACT for the tenant's i-th titular over REST.
func (e *testEnv) extract(t *testing.T, tenantID string, tn fleettest.Tenant, i int) restRequest {
	t.Helper()
	code, _, b := e.rest(t, "POST", "/v1/tenants/"+tenantID+"/requests", keyFleet,
		map[string]any{"kind": "EXTRACT", "subject": map[string]any{"cpf": tn.Titulares()[i].CPF}})
	if code != http.StatusOK {
		t.Fatalf("create on %s: HTTP %d: %s", tenantID, code, b)
	}
	return decode[restRequest](t, b)
}

// insertElsewhere creates an EXTRACT the way another process would: a row
// in the tenant's database that no replica was told about.
func insertElsewhere(t *testing.T, tn fleettest.Tenant, i int) string {
	t.Helper()
	s := store.New(tn.DB)
	var id string
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		r, _, err := tx.InsertRequest(ctx, store.NewRequest{Kind: store.KindExtract, CreatedBy: "elsewhere",
			Subject: store.Identifiers{CPF: tn.Titulares()[i].CPF}, Deadline: 15 * 24 * time.Hour})
		if r != nil {
			id = r.ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// statusCounts counts a request's events by the status they moved to.
func statusCounts(t *testing.T, db *sql.DB, id string) map[string]int {
	t.Helper()
	rows, err := db.Query("SELECT to_status, COUNT(*) FROM lgpd_request_events WHERE request_id = ? GROUP BY to_status", id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		out[s] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// leaseHolder is who holds the tenant's background lease now ("" when it
// expired).
func leaseHolder(t *testing.T, db *sql.DB) string {
	t.Helper()
	var holder string
	var live bool
	if err := db.QueryRow("SELECT holder, expires_at > UTC_TIMESTAMP(6) FROM lgpd_leases WHERE name = 'background'").Scan(&holder, &live); err != nil {
		t.Fatal(err)
	}
	if !live {
		return ""
	}
	return holder
}
