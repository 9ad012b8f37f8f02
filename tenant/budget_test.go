package tenant

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titular/titular/fleet/fleettest"
)

// TestBudgetRoundRobin: when the budget is spent, freed slots go to the
// waiting tenants in turn, not to whichever tenant queued the most.
func TestBudgetRoundRobin(t *testing.T) {
	b := NewBudget("test", 1)
	ctx := context.Background()
	if err := b.acquire(ctx, "busy"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	for i, tn := range []string{"busy", "busy", "busy", "quiet", "other"} {
		wg.Go(func() {
			if err := b.acquire(ctx, tn); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, tn)
			mu.Unlock()
			b.release()
		})
		// Queued in this order, one at a time.
		for deadline := time.Now().Add(5 * time.Second); b.Stats().Waiting != i+1 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	b.release()
	wg.Wait()
	want := "busy quiet other busy busy"
	if got := fmt.Sprint(order); got != "["+want+"]" {
		t.Errorf("grant order %v, want %s", order, want)
	}
	if s := b.Stats(); s.Open != 0 || s.Waiting != 0 || s.WaitsTotal != 5 {
		t.Errorf("stats after all released: %+v", s)
	}
}

// TestBudgetCancel: a caller that gives up leaves the queue, and a slot
// granted as it gave up is passed on, not lost.
func TestBudgetCancel(t *testing.T) {
	b := NewBudget("test", 1)
	if err := b.acquire(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.acquire(ctx, "b"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire past its deadline: %v", err)
	}
	b.release()
	if s := b.Stats(); s.Open != 0 || s.Waiting != 0 {
		t.Fatalf("after a cancelled wait: %+v", s)
	}
	if err := b.acquire(context.Background(), "c"); err != nil {
		t.Fatal(err)
	}
	b.release()
}

// TestBudgetBoundsPools: tenants on one server never hold more connections
// than its budget, however many queries they run at once, and a pool's
// idle connections are given up when another tenant needs one.
func TestBudgetBoundsPools(t *testing.T) {
	ts := fleettest.NewTenants(t, 3, 1, true)
	m := fleettest.Datamap(t)
	r, _ := newRegistry(t, fmt.Sprintf(`workers: {concurrency: 1}
databases: {max_connections: 4}
tenants:
  - {id: a, dsn: %q, datamap: %q}
  - {id: b, dsn: %q, datamap: %q}
  - {id: c, dsn: %q, datamap: %q}
`, ts[0].DSN, m, ts[1].DSN, m, ts[2].DSN, m))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var peak atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, s := range r.Budgets() {
				if int64(s.Open) > peak.Load() {
					peak.Store(int64(s.Open))
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	for i := range 30 {
		id := []string{"a", "b", "c"}[i%3]
		wg.Go(func() {
			tn, err := r.Get(ctx, id)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := tn.Store.DB().ExecContext(ctx, "DO SLEEP(0.02)"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(stop)
	if p := peak.Load(); p > 4 || p < 2 {
		t.Errorf("peak connections %d; want at most the budget of 4 (and some concurrency)", p)
	}
	// a holds its idle connections; b's need makes a give them up.
	a, _ := r.Get(ctx, "a")
	conns := make([]interface{ Close() error }, 0, 4)
	for range 4 {
		c, err := a.Store.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
	if a.Store.DB().Stats().Idle == 0 {
		t.Fatal("a kept no idle connection; the reclaim test needs some")
	}
	b, _ := r.Get(ctx, "b")
	if err := b.Store.DB().PingContext(ctx); err != nil {
		t.Fatalf("b could not get a connection while a's sat idle: %v", err)
	}
	a.ReleaseIdle()
	b.ReleaseIdle()
	if s := r.Budgets()[0]; s.Open != 0 {
		t.Errorf("after releasing idle connections: %+v", s)
	}
}
