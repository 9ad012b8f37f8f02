package store

import "context"

// Work is background work a committed change leaves behind, so the
// scheduler can start it at once instead of finding it by polling.
type Work uint8

// The kinds of background work a change can leave.
const (
	// WorkRequests: a request became claimable by the workers.
	WorkRequests Work = 1 << iota
	// WorkLedger: leaves wait in lgpd_ledger_pending for the sequencer.
	WorkLedger
	// WorkOutbox: webhook deliveries are due.
	WorkOutbox
)

// WithOnCommit sets the function told, after each transaction of
// ReadWriteTx commits, which background work it left. It must not block.
func WithOnCommit(f func(Work)) Option { return func(s *Store) { s.onCommit = f } }

// txWork collects the work one transaction leaves; ReadWriteTx puts it in
// the context it hands to its callback.
type txWork struct{ w Work }

type txWorkKey struct{}

// leaveWork records that the transaction running under ctx leaves w.
// Outside ReadWriteTx it does nothing: the scheduler's backstop poll finds
// that work instead.
func leaveWork(ctx context.Context, w Work) {
	if t, ok := ctx.Value(txWorkKey{}).(*txWork); ok {
		t.w |= w
	}
}

// notify tells the commit hook about work left outside a transaction
// (single statements on the pool).
func (s *Store) notify(w Work) {
	if s.onCommit != nil && w != 0 {
		s.onCommit(w)
	}
}
