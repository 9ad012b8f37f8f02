package tenant

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/titular/titular/config"
	"github.com/titular/titular/keyring"
	"github.com/titular/titular/store/storetest"
)

// stalledServer accepts connections and never speaks: a database host that
// is up but hung. It returns its address.
func stalledServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func registry(t *testing.T, fastDSN, slowAddr string) *Registry {
	t.Helper()
	dir := t.TempDir()
	mapPath, err := filepath.Abs("../examples/realestate/datamap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`state_dir: %q
tenants:
  - {id: fast, name: Rápida, dsn: %q, datamap: %q}
  - {id: slow, name: Travada, dsn: "root@tcp(%s)/db?timeout=30s", datamap: %q}
auth:
  api_keys:
    - {name: dpo, role: dpo, tenants: ["*"], key_sha256: %s}
`, filepath.Join(dir, "state"), fastDSN, mapPath, slowAddr, mapPath, "00000000000000000000000000000000000000000000000000000000000000aa")
	cfg, err := config.Parse(filepath.Join(dir, "titular.yaml"), []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := NewRegistry(cfg, keyring.New(cfg.StateDir, log), log)
	t.Cleanup(func() { r.Close() })
	return r
}

// TestRegistryTenantsOpenIndependently: while one tenant's database hangs,
// the others open and answer; callers of the hung one wait for their own
// context only, and share one open.
func TestRegistryTenantsOpenIndependently(t *testing.T) {
	_, dsn := storetest.NewDatabase(t)
	r := registry(t, dsn, stalledServer(t))

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
	type got struct {
		t   *Tenant
		err error
	}
	fastDone := make(chan got, 1)
	go func() {
		t, err := r.Get(ctx, "fast")
		fastDone <- got{t, err}
	}()
	var fast *Tenant
	select {
	case g := <-fastDone:
		if g.err != nil {
			t.Fatalf("fast tenant: %v", g.err)
		}
		fast = g.t
	case <-time.After(time.Minute): // a guard against hanging, not a speed check
		t.Fatal("the fast tenant waits for the hung one")
	}
	if err := fast.Store.DB().PingContext(ctx); err != nil {
		t.Fatalf("fast tenant's pool: %v", err)
	}
	if again, _ := r.Get(ctx, "fast"); again != fast {
		t.Error("a second Get opened the tenant again")
	}
	select {
	case err := <-slowDone:
		t.Fatalf("a hung tenant's caller returned (%v) before its context ended", err)
	default:
	}
	r.mu.Lock()
	n := len(r.opening)
	r.mu.Unlock()
	if n != 1 {
		t.Errorf("%d opens in flight, want the hung tenant's one, shared by its callers", n)
	}
	stopSlow()
	for range 2 {
		if err := <-slowDone; !errors.Is(err, context.Canceled) {
			t.Errorf("hung tenant's caller: %v, want its own cancellation", err)
		}
	}
	if _, err := r.Get(context.Background(), "nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown tenant: %v", err)
	}
}

// TestRegistryClosed: after Close, Get refuses instead of opening pools
// nothing will close.
func TestRegistryClosed(t *testing.T) {
	_, dsn := storetest.NewDatabase(t)
	r := registry(t, dsn, stalledServer(t))
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
