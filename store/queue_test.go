package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func checkLease(s *Store, id, owner string) error {
	return s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
		return tx.CheckLease(ctx, id, owner)
	})
}

func leaseUntil(t *testing.T, db *sql.DB, id string) sql.NullTime {
	t.Helper()
	var v sql.NullTime
	if err := db.QueryRow("SELECT lease_until FROM lgpd_requests WHERE id = ?", id).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestClaim_OldestOfKinds(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	clk := useClock(s)
	ctx := context.Background()
	if _, err := s.Claim(ctx, "w1", time.Minute, []Kind{KindExtract}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("claim on an empty queue: err = %v, want ErrNotFound", err)
	}
	var ids []string
	for _, k := range []Kind{KindExtract, KindDelete, KindExtract, KindConfirm} {
		clk.Advance(time.Second)
		ids = append(ids, createRequest(t, s, NewRequest{Kind: k, Subject: Identifiers{Email: "a@example.com"}}).ID)
	}
	// A request already finished is never claimed.
	if _, err := transition(s, ids[0], []Status{StatusReceived}, StatusCanceled, "dpo", ""); err != nil {
		t.Fatal(err)
	}

	r, err := s.Claim(ctx, "w1", 5*time.Minute, []Kind{KindDelete, KindExtract})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != ids[1] {
		t.Errorf("claimed %s (%s), want the oldest waiting DELETE/EXTRACT %s", r.ID, r.Kind, ids[1])
	}
	if r.Status != StatusProcessing || r.LeaseOwner != "w1" || r.Attempts != 1 {
		t.Errorf("claimed request = %+v", r)
	}
	stored, _ := s.GetRequest(ctx, r.ID)
	if stored.Status != StatusProcessing || stored.LeaseOwner != "w1" || stored.Attempts != 1 {
		t.Errorf("stored claimed request = %+v", stored)
	}
	if lu := leaseUntil(t, db, r.ID); !lu.Valid || !lu.Time.Equal(clk.Now().Add(5*time.Minute)) {
		t.Errorf("lease_until = %v, want now+5m", lu)
	}
	evs, _ := s.Events(ctx, r.ID)
	if last := evs[len(evs)-1]; last.From != StatusReceived || last.To != StatusProcessing || last.Actor != "worker" || last.Note != "" {
		t.Errorf("claim event = %+v", last)
	}

	r, err = s.Claim(ctx, "w1", time.Minute, []Kind{KindDelete, KindExtract})
	if err != nil || r.ID != ids[2] {
		t.Fatalf("second claim = %v, %v; want %s", r, err, ids[2])
	}
	if _, err := s.Claim(ctx, "w1", time.Minute, []Kind{KindDelete, KindExtract}); !errors.Is(err, ErrNotFound) {
		t.Errorf("third claim: err = %v, want ErrNotFound (the CONFIRM is another kind)", err)
	}
	r, err = s.Claim(ctx, "w1", time.Minute, []Kind{KindConfirm})
	if err != nil || r.ID != ids[3] {
		t.Errorf("claim CONFIRM = %v, %v; want %s", r, err, ids[3])
	}
}

// A row locked by one claimer is skipped by the next, not waited for: the
// second claim returns at once with the next request.
func TestClaim_SkipsLockedRows(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	clk := useClock(s)
	first := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	clk.Advance(time.Second)
	second := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "b@example.com"}})

	tx, err := s.DB().Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	var id string
	if err := tx.QueryRow("SELECT id FROM lgpd_requests WHERE id = ? FOR UPDATE", first.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := s.Claim(ctx, "w2", time.Minute, []Kind{KindExtract})
	if err != nil {
		t.Fatalf("claim while the oldest request is locked: %v", err)
	}
	if r.ID != second.ID {
		t.Errorf("claimed %s, want the unlocked %s", r.ID, second.ID)
	}
}

// Several workers draining one queue never take the same request and
// together take all of them.
func TestClaim_ConcurrentWorkers(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	db.SetMaxOpenConns(20)
	const n, workers = 20, 6
	want := map[string]bool{}
	for range n {
		want[createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}}).ID] = true
	}
	var (
		mu      sync.Mutex
		claimed = map[string]string{}
		dups    []string
		wg      sync.WaitGroup
		start   = make(chan struct{})
		errs    = make(chan error, workers)
	)
	for w := range workers {
		owner := "worker-" + string(rune('A'+w))
		wg.Go(func() {
			<-start
			for {
				r, err := s.Claim(context.Background(), owner, time.Minute, []Kind{KindExtract})
				if errors.Is(err, ErrNotFound) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if prev, ok := claimed[r.ID]; ok {
					dups = append(dups, r.ID+" by "+prev+" and "+owner)
				}
				claimed[r.ID] = owner
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("claim: %v", err)
	}
	if len(dups) > 0 {
		t.Errorf("requests claimed twice: %v", dups)
	}
	if len(claimed) != n {
		t.Errorf("claimed %d requests, want %d", len(claimed), n)
	}
	for id := range want {
		if _, ok := claimed[id]; !ok {
			t.Errorf("request %s never claimed", id)
		}
	}
	if c := countRows(t, db, "SELECT COUNT(*) FROM lgpd_requests WHERE status = ? AND attempts = 1", StatusProcessing); c != n {
		t.Errorf("%d requests PROCESSING with one attempt, want %d", c, n)
	}
	if c := countRows(t, db, "SELECT COUNT(*) FROM lgpd_request_events WHERE to_status = ?", StatusProcessing); c != n {
		t.Errorf("%d claim events, want %d", c, n)
	}
}

// A worker that died leaves its request PROCESSING; once the lease runs out
// another worker takes it over and the first one's lease is gone.
func TestClaim_ReclaimsExpiredLease(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	ctx := context.Background()
	r := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	if _, err := s.Claim(ctx, "dead", time.Hour, []Kind{KindExtract}); err != nil {
		t.Fatal(err)
	}
	// Lease still running: nobody else gets it.
	if _, err := s.Claim(ctx, "alive", time.Minute, []Kind{KindExtract}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("claim while the lease runs: err = %v, want ErrNotFound", err)
	}
	// The dead worker's lease expired.
	if _, err := db.Exec("UPDATE lgpd_requests SET lease_until = ? WHERE id = ?", time.Now().UTC().Add(-time.Minute), r.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, "alive", time.Minute, []Kind{KindExtract})
	if err != nil {
		t.Fatalf("reclaim: %v", err)
	}
	if got.ID != r.ID || got.LeaseOwner != "alive" || got.Attempts != 2 || got.Status != StatusProcessing {
		t.Errorf("reclaimed = %+v; want %s owned by alive, attempt 2", got, r.ID)
	}
	evs, _ := s.Events(ctx, r.ID)
	last := evs[len(evs)-1]
	if last.From != StatusProcessing || last.To != StatusProcessing || !strings.Contains(last.Note, "lease") {
		t.Errorf("reclaim event = %+v; want PROCESSING -> PROCESSING with a note about the lease", last)
	}
	if err := checkLease(s, r.ID, "dead"); !errors.Is(err, ErrConflict) {
		t.Errorf("CheckLease by the dead worker: err = %v, want ErrConflict", err)
	}
	if err := checkLease(s, r.ID, "alive"); err != nil {
		t.Errorf("CheckLease by the new owner: %v", err)
	}
	if lu := leaseUntil(t, db, r.ID); !lu.Valid || !lu.Time.After(time.Now().UTC()) {
		t.Errorf("lease_until after reclaim = %v, want in the future", lu)
	}
}

func TestCheckLease(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	r := createRequest(t, s, NewRequest{Subject: Identifiers{Email: "a@example.com"}})
	if err := checkLease(s, r.ID, "w1"); !errors.Is(err, ErrConflict) {
		t.Errorf("CheckLease on an unclaimed request: err = %v, want ErrConflict", err)
	}
	if _, err := s.Claim(ctx, "w1", time.Minute, []Kind{KindExtract}); err != nil {
		t.Fatal(err)
	}
	if err := checkLease(s, r.ID, "w1"); err != nil {
		t.Errorf("CheckLease by the owner: %v", err)
	}
	if err := checkLease(s, r.ID, "w2"); !errors.Is(err, ErrConflict) {
		t.Errorf("CheckLease by another worker: err = %v, want ErrConflict", err)
	}
	if err := checkLease(s, "00000000-0000-0000-0000-000000000000", "w1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("CheckLease on an unknown request: err = %v, want ErrNotFound", err)
	}
	if _, err := transition(s, r.ID, []Status{StatusProcessing}, StatusCompleted, "worker", ""); err != nil {
		t.Fatal(err)
	}
	if err := checkLease(s, r.ID, "w1"); !errors.Is(err, ErrConflict) {
		t.Errorf("CheckLease on a completed request: err = %v, want ErrConflict", err)
	}
}

func TestRelease_BackoffThenFail(t *testing.T) {
	t.Parallel()
	s, db := newStore(t)
	clk := useClock(s)
	ctx := context.Background()
	kinds := []Kind{KindDelete}
	r := createRequest(t, s, NewRequest{Kind: KindDelete, Subject: Identifiers{Email: "a@example.com"}})
	const maxAttempts, backoff = 3, 10 * time.Minute

	for attempt := 1; attempt <= maxAttempts; attempt++ {
		got, err := s.Claim(ctx, "w1", time.Minute, kinds)
		if err != nil || got.ID != r.ID || got.Attempts != attempt {
			t.Fatalf("attempt %d: claim = %+v, %v", attempt, got, err)
		}
		if err := s.Release(ctx, r.ID, "w2", "io", backoff, maxAttempts); !errors.Is(err, ErrConflict) {
			t.Errorf("attempt %d: Release by a worker without the lease: err = %v, want ErrConflict", attempt, err)
		}
		if err := s.Release(ctx, r.ID, "w1", "lock wait timeout", backoff, maxAttempts); err != nil {
			t.Fatalf("attempt %d: release: %v", attempt, err)
		}
		stored, _ := s.GetRequest(ctx, r.ID)
		if stored.LastError != "lock wait timeout" || stored.LeaseOwner != "" {
			t.Errorf("attempt %d: after release %+v", attempt, stored)
		}
		if attempt == maxAttempts {
			break
		}
		if stored.Status != StatusReceived || stored.CompletedAt != nil {
			t.Fatalf("attempt %d: status %s, want RECEIVED for a retry", attempt, stored.Status)
		}
		if lu := leaseUntil(t, db, r.ID); !lu.Valid || !lu.Time.Equal(clk.Now().Add(backoff)) {
			t.Errorf("attempt %d: lease_until = %v, want now+backoff", attempt, lu)
		}
		// Not claimable during the backoff, claimable right after.
		clk.Advance(backoff - time.Second)
		if _, err := s.Claim(ctx, "w1", time.Minute, kinds); !errors.Is(err, ErrNotFound) {
			t.Fatalf("attempt %d: claim during backoff: err = %v, want ErrNotFound", attempt, err)
		}
		clk.Advance(time.Second)
	}

	stored, err := s.GetRequest(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != StatusFailed || stored.CompletedAt == nil || stored.Attempts != maxAttempts {
		t.Fatalf("after %d failed attempts: %+v; want FAILED", maxAttempts, stored)
	}
	if len(stored.Reasons) != 1 || stored.Reasons[0].Code != "PROCESSING_FAILED" || !strings.Contains(stored.Reasons[0].Message, "lock wait timeout") {
		t.Errorf("reasons = %+v, want one PROCESSING_FAILED naming the error class", stored.Reasons)
	}
	if lu := leaseUntil(t, db, r.ID); lu.Valid {
		t.Errorf("a failed request keeps lease_until %v", lu.Time)
	}
	clk.Advance(24 * time.Hour)
	if _, err := s.Claim(ctx, "w1", time.Minute, kinds); !errors.Is(err, ErrNotFound) {
		t.Errorf("claim after FAILED: err = %v, want ErrNotFound", err)
	}
	want := []Status{StatusReceived,
		StatusProcessing, StatusReceived,
		StatusProcessing, StatusReceived,
		StatusProcessing, StatusFailed}
	if got := eventTos(t, s, r.ID); !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	evs, _ := s.Events(ctx, r.ID)
	if !strings.Contains(evs[2].Note, "lock wait timeout") {
		t.Errorf("retry event note = %q, want the error class", evs[2].Note)
	}
}
