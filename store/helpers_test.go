package store

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/titular/titular/store/storetest"
)

// newStore returns a Store on a fresh, migrated database.
func newStore(t *testing.T) (*Store, *sql.DB) {
	t.Helper()
	db, _ := storetest.NewDatabase(t)
	if _, err := Migrate(context.Background(), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return New(db), db
}

// fakeClock replaces Store.now so tests control leases, backoffs, expiry
// and the received_at order without sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// useClock makes s read time from a fake clock starting at a fixed instant.
func useClock(s *Store) *fakeClock {
	c := &fakeClock{t: time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)}
	s.now = c.Now
	return c
}

// createRequest inserts a request in its own transaction.
func createRequest(t *testing.T, s *Store, n NewRequest) *Request {
	t.Helper()
	if n.CreatedBy == "" {
		n.CreatedBy = "backend"
	}
	if n.Kind == "" {
		n.Kind = KindExtract
	}
	if n.Deadline == 0 {
		n.Deadline = 15 * 24 * time.Hour
	}
	var r *Request
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
		var err error
		r, _, err = tx.InsertRequest(ctx, n)
		return err
	})
	if err != nil {
		t.Fatalf("insert request: %v", err)
	}
	return r
}

// countRows runs a COUNT(*) query.
func countRows(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// eventTos lists a request's events as to-statuses, oldest first.
func eventTos(t *testing.T, s *Store, id string) []Status {
	t.Helper()
	evs, err := s.Events(context.Background(), id)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	out := make([]Status, len(evs))
	for i, e := range evs {
		out[i] = e.To
	}
	return out
}
