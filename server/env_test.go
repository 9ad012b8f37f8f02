package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/config"
	"github.com/titular/titular/seed"
	"github.com/titular/titular/store"
	"github.com/titular/titular/store/storetest"
)

// Test credentials; the config holds only their hashes.
const (
	keyDPO     = "test-dpo-key"
	keyBackend = "test-backend-key"
	keyAuditor = "test-auditor-key"
	keyOther   = "test-other-tenant-key"
)

// testEnv is a running titular over a freshly seeded demo tenant and a
// second, empty tenant, reached through real gRPC and HTTP clients.
type testEnv struct {
	app       *App
	baseURL   string
	grpc      *grpc.ClientConn
	scenarios map[string]seed.Scenario
	demoDSN   string
	cfg       *config.Config
	logs      *lockedBuffer
}

// envOption edits the test config's YAML before titular starts.
type envOption func(yaml string) string

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func newTestEnv(t testing.TB, subjects int, opts ...envOption) *testEnv {
	t.Helper()
	ctx := context.Background()
	demoDB, demoDSN := storetest.NewDatabase(t)
	sum, err := seed.Seed(ctx, demoDB, seed.Options{Subjects: subjects, Seed: 42})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	// The second tenant holds the same CRM schema (its map is checked
	// against it when it opens), with titulares of its own.
	otherDB, otherDSN := storetest.NewDatabase(t)
	if _, err := seed.Seed(ctx, otherDB, seed.Options{Subjects: 20, Seed: 7}); err != nil {
		t.Fatalf("seed other: %v", err)
	}
	if _, err := store.Migrate(ctx, demoDB); err != nil {
		t.Fatalf("migrate demo: %v", err)
	}
	if _, err := store.Migrate(ctx, otherDB); err != nil {
		t.Fatalf("migrate other: %v", err)
	}
	mapPath, err := filepath.Abs("../examples/realestate/datamap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgYAML := fmt.Sprintf(`
grpc_addr: 127.0.0.1:0
http_addr: 127.0.0.1:0
state_dir: %q
workers: {per_tenant: 2, poll_interval: 200ms, lease: 1m, max_attempts: 3}
tenants:
  - {id: demo, name: "Incorporadora Teste Ltda", dsn: %q, datamap: %q}
  - {id: other, dsn: %q, datamap: %q}
auth:
  api_keys:
    - {name: dpo, role: dpo, tenants: [demo], key_sha256: %s}
    - {name: backend, role: backend, tenants: [demo], key_sha256: %s}
    - {name: auditor, role: auditor, tenants: [demo], key_sha256: %s}
    - {name: other-dpo, role: dpo, tenants: [other], key_sha256: %s}
`, filepath.Join(dir, "state"), demoDSN, mapPath, otherDSN, mapPath, sha(keyDPO), sha(keyBackend), sha(keyAuditor), sha(keyOther))
	for _, o := range opts {
		cfgYAML = o(cfgYAML)
	}
	cfgPath := filepath.Join(dir, "titular.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &lockedBuffer{}
	var out io.Writer = logs
	if testing.Verbose() {
		out = io.MultiWriter(logs, os.Stderr)
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := Start(ctx, cfg, log, Options{})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		a.Stop()
		assertNoPersonalData(t, logs.String(), sum.Scenarios)
	})
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	env := &testEnv{app: a, baseURL: "http://" + a.HTTPAddr(), grpc: conn, scenarios: map[string]seed.Scenario{}, demoDSN: demoDSN, cfg: cfg, logs: logs}
	waitReady(t, env.baseURL, len(cfg.Tenants))
	for _, s := range sum.Scenarios {
		env.scenarios[s.Name] = s
	}
	return env
}

// waitReady waits until /readyz says every one of n tenants is up: serve
// opens its tenants in the background.
func waitReady(t testing.TB, baseURL string, n int) {
	t.Helper()
	want := fmt.Sprintf("ready: %d of %d tenants up", n, n)
	until := time.Now().Add(deadline)
	var last string
	for time.Now().Before(until) {
		resp, err := http.Get(baseURL + "/readyz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			if resp.StatusCode == http.StatusOK && strings.HasPrefix(last, want) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("titular did not get ready: /readyz says %q", last)
}

func (e *testEnv) scenario(t testing.TB, name string) seed.Scenario {
	t.Helper()
	s, ok := e.scenarios[name]
	if !ok {
		t.Fatalf("seed has no scenario %q", name)
	}
	return s
}

// deadline bounds polling loops in tests; not a performance assertion.
const deadline = 90 * time.Second

// lockedBuffer collects the service's logs across goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// assertNoPersonalData fails when any seeded titular's identifier, in any
// stored shape, reached the logs.
func assertNoPersonalData(t testing.TB, logs string, scenarios []seed.Scenario) {
	t.Helper()
	if logs == "" {
		t.Error("the service logged nothing; the personal-data check would be vacuous")
	}
	for _, s := range scenarios {
		needles := append(brdoc.CPFShapes(s.CPF), s.Email, s.FullName)
		if s.Phone != "" {
			needles = append(needles, brdoc.PhoneShapes(s.Phone)...)
		}
		for _, n := range needles {
			if n != "" && strings.Contains(strings.ToLower(logs), strings.ToLower(n)) {
				t.Errorf("logs contain an identifier of scenario %s", s.Name)
			}
		}
	}
}
