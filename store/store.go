// Package store is titular's own records in a tenant's database:
// migrations, the request queue and its events, the ledger, the webhook
// outbox, purposes, terms and consents, encrypted exports, the subject index,
// blocked rows, and the lease that shares a tenant's background work.
//
// Changes go through ReadWriteTx, whose callback gets a typed transaction
// (Tx) with a method per record it writes and, through Tx.CRM, the same
// transaction for the CRM executor (package crm): the service composes both
// into one commit. Every value reaches SQL as a bound parameter.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"time"
)

// Store is one tenant's database. It is safe for concurrent use.
type Store struct {
	// Reads are the reads of titular's records, each on its own statement.
	Reads
	db  *sql.DB
	now func() time.Time
	// failpoint, when set by a test, runs between the statements of a
	// multi-statement change and may fail it, to prove all-or-nothing.
	failpoint func(step string) error
	// subjectKey keys the HMAC of identifiers in lgpd_subject_index;
	// ledgerKey authenticates ledger leaves. Both live outside the database.
	subjectKey, ledgerKey []byte
	// onCommit learns what background work each committed change left.
	onCommit func(Work)
	// routes and eventKey: where the store's own events go and the key
	// that seals their identifiers (WithEvents).
	routes   EventRoutes
	eventKey []byte
}

// Option configures a Store.
type Option func(*Store)

// WithSubjectKey sets the tenant's secret for subject references: the same
// titular gets the same reference for as long as the key stays.
func WithSubjectKey(key []byte) Option { return func(s *Store) { s.subjectKey = key } }

// WithLedgerKey sets the tenant's secret that authenticates ledger leaves.
func WithLedgerKey(key []byte) Option { return func(s *Store) { s.ledgerKey = key } }

func randomKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails on supported platforms
	return k
}

func (s *Store) fail(step string) error {
	if s.failpoint == nil {
		return nil
	}
	return s.failpoint(step)
}

// New wraps a tenant's pool. Keys not given are random for this Store only,
// which suits tests; the service passes the tenant's keys.
func New(db *sql.DB, opts ...Option) *Store {
	s := &Store{db: db, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
	s.Reads = Reads{s: s, q: db}
	for _, o := range opts {
		o(s)
	}
	if s.subjectKey == nil {
		s.subjectKey = randomKey()
	}
	if s.ledgerKey == nil {
		s.ledgerKey = randomKey()
	}
	return s
}

// WithFailpoint makes the store run f between the statements of its
// multi-statement changes and before each commit ("commit"); an error from
// f fails the change there, and a deadlock error makes ReadWriteTx run it
// again. Tests use it to prove that a crash midway leaves nothing half done
// and that a retried transaction reports what it did once.
func WithFailpoint(f func(step string) error) Option { return func(s *Store) { s.failpoint = f } }

// WithClock makes the store read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// Now is the store's clock: what its records and the executor's retention
// decisions are dated with.
func (s *Store) Now() time.Time { return s.now() }

// DB returns the underlying pool.
func (s *Store) DB() *sql.DB { return s.db }

// Querier is what both *sql.DB and *sql.Tx offer for reads.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// ReadWriteTx runs fn in a transaction, committing when it returns nil and
// rolling back otherwise. A deadlock or lock-wait timeout reruns fn from the
// start, a few times, so callers write fn to be repeatable.
func (s *Store) ReadWriteTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return s.readWriteTx(ctx, nil, func(ctx context.Context, tx *sql.Tx) error {
		return fn(ctx, &Tx{Reads: Reads{s: s, q: tx}, s: s, tx: tx})
	})
}

// readWrite is ReadWriteTx for the store's own multi-statement changes.
func (s *Store) readWrite(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.readWriteTx(ctx, nil, fn)
}

// readCommittedTx is ReadWriteTx at READ COMMITTED: for claims, whose
// SELECT … FOR UPDATE SKIP LOCKED would otherwise take gap locks on the
// queue index under REPEATABLE READ and deadlock with concurrent inserts of
// new requests.
func (s *Store) readCommittedTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.readWriteTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, fn)
}

func (s *Store) readWriteTx(ctx context.Context, opts *sql.TxOptions, fn func(ctx context.Context, tx *sql.Tx) error) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = s.tryTx(ctx, opts, fn)
		if err == nil || !IsRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 20 * time.Millisecond):
		}
	}
	return err
}

func (s *Store) tryTx(ctx context.Context, opts *sql.TxOptions, fn func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	work := &txWork{}
	if err := fn(context.WithValue(ctx, txWorkKey{}, work), tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := s.fail("commit"); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.notify(work.w)
	return nil
}
