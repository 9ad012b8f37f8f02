package tenant

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titular/titular/config"
	"github.com/titular/titular/fleet/fleettest"
	"github.com/titular/titular/keyring"
)

// newRegistry parses yaml (tenants and settings; state_dir is added) as a
// config file in a temporary directory and returns a registry over it.
func newRegistry(t *testing.T, yaml string) (*Registry, *config.Config) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "titular.yaml")
	yaml = fmt.Sprintf("state_dir: %q\n", filepath.Join(dir, "state")) + yaml
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	var out io.Writer = io.Discard
	if testing.Verbose() {
		out = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(out, nil))
	r := NewRegistry(cfg, keyring.New(cfg.StateDir, log), log)
	r.CheckSchema = true
	t.Cleanup(func() { r.Close() })
	return r, cfg
}

// TestRegistryTenantsOpenIndependently: while one tenant's database hangs,
// the others open and answer; callers of the hung one wait for their own
// context only, and share one open.
func TestRegistryTenantsOpenIndependently(t *testing.T) {
	fast := fleettest.NewTenants(t, 1, 1, true)[0]
	r, _ := newRegistry(t, fmt.Sprintf(`tenants:
  - {id: fast, dsn: %q, datamap: %q}
  - {id: slow, dsn: "root:pw@tcp(%s)/db", datamap: %q}
`, fast.DSN, fleettest.Datamap(t), fleettest.StalledServer(t), fleettest.Datamap(t)))

	slowCtx, stopSlow := context.WithCancel(context.Background())
	defer stopSlow()
	slowDone := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := r.Get(slowCtx, "slow")
			slowDone <- err
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ft, err := r.Get(ctx, "fast")
	if err != nil {
		t.Fatalf("fast tenant: %v", err)
	}
	if err := ft.Store.DB().PingContext(ctx); err != nil {
		t.Fatalf("fast tenant's pool: %v", err)
	}
	if again, _ := r.Get(ctx, "fast"); again != ft {
		t.Error("a second Get opened the tenant again")
	}
	r.mu.Lock()
	shared := r.entries["slow"].opening != nil
	r.mu.Unlock()
	select {
	case err := <-slowDone:
		// Possible only if the connect timeout passed meanwhile.
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("a hung tenant's caller returned %v", err)
		}
	default:
		if !shared {
			t.Error("the hung tenant's callers do not share one open")
		}
		stopSlow()
		for range 2 {
			if err := <-slowDone; !errors.Is(err, context.Canceled) {
				t.Errorf("hung tenant's caller: %v, want its own cancellation", err)
			}
		}
	}
	if _, err := r.Get(context.Background(), "nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown tenant: %v", err)
	}
}

// TestRegistryClosed: after Close, Get refuses instead of opening pools
// nothing will close.
func TestRegistryClosed(t *testing.T) {
	fast := fleettest.NewTenants(t, 1, 1, true)[0]
	r, _ := newRegistry(t, fmt.Sprintf("tenants: [{id: fast, dsn: %q, datamap: %q}]\n", fast.DSN, fleettest.Datamap(t)))
	if _, err := r.Get(context.Background(), "fast"); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(context.Background(), "fast"); err == nil {
		t.Error("Get after Close opened the tenant again")
	}
}

// TestRegistryDegraded: tenants that cannot be used — a refused port, a
// hung server, a wrong password, a database titular has not migrated, a
// data map that does not match the schema — are reported down with a
// reason that names no DSN or password, answer ErrUnavailable without
// waiting while their retry is not due, and never stop the others.
func TestRegistryDegraded(t *testing.T) {
	ts := fleettest.NewTenants(t, 3, 1, true)
	unmigrated := fleettest.NewTenants(t, 1, 10, false)[0]
	brokenMap := filepath.Join(t.TempDir(), "broken.yaml")
	data, err := os.ReadFile(fleettest.Datamap(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(brokenMap, []byte(strings.Replace(string(data), "table: propostas", "table: propostas_x", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	const password = "s3cret-Pw"
	m := fleettest.Datamap(t)
	r, _ := newRegistry(t, fmt.Sprintf(`tenants:
  - {id: good, dsn: %q, datamap: %q}
  - {id: refused, dsn: "root:%s@tcp(%s)/db", datamap: %q}
  - {id: hung, dsn: "root:%s@tcp(%s)/db", datamap: %q}
  - {id: badpw, dsn: %q, datamap: %q}
  - {id: unmigrated, dsn: %q, datamap: %q}
  - {id: badmap, dsn: %q, datamap: %q}
`, ts[0].DSN, m, password, fleettest.FreeAddr(t), m, password, fleettest.StalledServer(t), m,
		strings.Replace(ts[1].DSN, "root@", "nobody:"+password+"@", 1), m, unmigrated.DSN, m, ts[2].DSN, brokenMap))
	var ups []string
	var mu sync.Mutex
	r.OnUp = func(id string) { mu.Lock(); ups = append(ups, id); mu.Unlock() }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx, nil)
	until := time.Now().Add(time.Minute)
	for {
		if done, _, _ := r.Started(); done || time.Now().After(until) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := map[string]string{
		"good":       "",
		"refused":    "does not answer",
		"hung":       "did not answer in time",
		"badpw":      "credentials",
		"unmigrated": "run titular migrate",
		"badmap":     "propostas_x",
	}
	for _, h := range r.Health() {
		w := want[h.ID]
		switch {
		case w == "" && h.State != StateUp:
			t.Errorf("%s: %s %q, want up", h.ID, h.State, h.Reason)
		case w != "" && (h.State != StateDown || !strings.Contains(h.Reason, w)):
			t.Errorf("%s: %s %q, want down saying %q", h.ID, h.State, h.Reason, w)
		case w != "" && h.RetryAt.IsZero():
			t.Errorf("%s: down with no retry scheduled", h.ID)
		}
		if strings.Contains(h.Reason, password) || strings.Contains(h.Reason, "@tcp(") {
			t.Errorf("%s: the reason quotes the DSN: %q", h.ID, h.Reason)
		}
	}
	mu.Lock()
	if len(ups) != 1 || ups[0] != "good" {
		t.Errorf("OnUp told %v, want [good]", ups)
	}
	mu.Unlock()
	start := time.Now()
	_, err = r.Get(context.Background(), "hung")
	if !errors.Is(err, ErrUnavailable) || time.Since(start) > time.Second {
		t.Errorf("Get of a tenant down and not due for a retry: %v after %s; want ErrUnavailable at once", err, time.Since(start))
	}
}

// TestRegistryCatalogWatch: a tenant file added to the tenants_dir opens
// without a restart; a changed one reopens with its new configuration; a
// file that turns invalid is reported and its tenant keeps the last good
// configuration; a removed file removes its tenant.
func TestRegistryCatalogWatch(t *testing.T) {
	ts := fleettest.NewTenants(t, 2, 1, true)
	dir := t.TempDir()
	r, cfg := newRegistry(t, fmt.Sprintf("tenants_dir: %q\nauth: {api_keys: [{name: k, role: dpo, tenants: ['*'], key_sha256: %s}]}\n",
		dir, strings.Repeat("ab", 32)))
	events := make(chan string, 16)
	r.OnUp = func(id string) { events <- "up " + id }
	r.OnRemove = func(id string) { events <- "removed " + id }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reload := make(chan os.Signal, 1)
	go r.Run(ctx, reload)
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-events:
			if got != want {
				t.Fatalf("event %q, want %q", got, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no %q", want)
		}
	}
	// Written beside and renamed into place, as editors and Kubernetes
	// ConfigMaps do: the directory changes, so the next look sees it (an
	// edit in place is seen within fullScanEvery, or at once on SIGHUP).
	write := func(name, body string) {
		t.Helper()
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	write("acme.yaml", fmt.Sprintf("dsn: %q\ndatamap: %q\n", ts[0].DSN, fleettest.Datamap(t)))
	expect("up acme")
	acme, err := r.Get(ctx, "acme")
	if err != nil || acme.Config.Name != "acme" || acme.Config.Source == "" {
		t.Fatalf("acme: %+v %v", acme, err)
	}
	// A reload (SIGHUP) reads the directory at once.
	write("bravo.yml", fmt.Sprintf("name: Bravo Incorporadora\ndsn: %q\ndatamap: %q\n", ts[1].DSN, fleettest.Datamap(t)))
	reload <- os.Interrupt
	expect("up bravo")
	write("acme.yaml", fmt.Sprintf("name: Acme Nova\ndsn: %q\ndatamap: %q\n", ts[0].DSN, fleettest.Datamap(t)))
	expect("up acme")
	if t2, _ := r.Get(ctx, "acme"); t2 == acme || t2.Config.Name != "Acme Nova" {
		t.Errorf("acme after its file changed: %+v", t2.Config)
	}
	write("bravo.yml", "dsn: [")
	write(".swap.yaml", "not: a tenant")
	deadline := time.Now().Add(30 * time.Second)
	for len(r.Problems()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if p := r.Problems(); len(p) != 1 || !strings.Contains(p[0], "bravo.yml") {
		t.Errorf("problems %q, want the invalid bravo.yml only", p)
	}
	if b, err := r.Get(ctx, "bravo"); err != nil || b.Config.Name != "Bravo Incorporadora" {
		t.Errorf("bravo with an invalid file keeps its last good configuration: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "acme.yaml")); err != nil {
		t.Fatal(err)
	}
	expect("removed acme")
	if _, err := r.Get(ctx, "acme"); !errors.Is(err, ErrUnknown) {
		t.Errorf("a removed tenant: %v, want ErrUnknown", err)
	}
	if ids := r.IDs(); len(ids) != 1 || ids[0] != "bravo" {
		t.Errorf("catalog %v, want [bravo]", ids)
	}
	_ = cfg
}

// TestRegistryUseOutlivesRemoval: background work holding a tenant keeps
// its pool open after the tenant leaves the catalog; the pool closes once
// the work is done.
func TestRegistryUseOutlivesRemoval(t *testing.T) {
	ts := fleettest.NewTenants(t, 1, 1, true)
	r, _ := newRegistry(t, fmt.Sprintf("tenants: [{id: acme, dsn: %q, datamap: %q}]\n", ts[0].DSN, fleettest.Datamap(t)))
	ctx := context.Background()
	tn, done, err := r.Use(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	retireGrace = 10 * time.Millisecond
	r.apply(nil)
	time.Sleep(100 * time.Millisecond)
	if err := tn.Store.DB().PingContext(ctx); err != nil {
		t.Fatalf("the pool closed under work in hand: %v", err)
	}
	done()
	deadline := time.Now().Add(10 * time.Second)
	for tn.Store.DB().PingContext(ctx) == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := tn.Store.DB().PingContext(ctx); err == nil {
		t.Error("the pool of a removed tenant stays open after its work ended")
	}
}

// TestRegistryMigratesOnOpen: with Migrate (serve --migrate), a tenant whose
// titular tables are missing is migrated as it opens and served.
func TestRegistryMigratesOnOpen(t *testing.T) {
	raw := fleettest.NewTenants(t, 1, 1, false)[0]
	r, _ := newRegistry(t, fmt.Sprintf("tenants: [{id: raw, dsn: %q, datamap: %q}]\n", raw.DSN, fleettest.Datamap(t)))
	r.Migrate = true
	tn, err := r.Get(context.Background(), "raw")
	if err != nil {
		t.Fatalf("open with migrate: %v", err)
	}
	var n int
	if err := tn.Store.DB().QueryRow("SELECT COUNT(*) FROM lgpd_leases").Scan(&n); err != nil || n != 1 {
		t.Errorf("titular's tables after opening: %d lease rows, %v", n, err)
	}
}
