package server

import (
	"context"
	"sync"
	"time"
)

// DefaultShutdownTimeout is Stop's bound when Options leave it unset.
const DefaultShutdownTimeout = 30 * time.Second

// Calls and background jobs in flight get drainShare of the bound to
// finish; then they are cancelled, and the rest of the bound is theirs to
// let go (a cancelled request records its attempt within a few seconds, or
// its lease expires), and the replica's to release its tenant leases.
const drainShare = 0.8

// Stop shuts everything down within one bound, the App's shutdown timeout:
// at once it stops taking calls and claiming work; calls and background
// jobs in flight get until the drain point (most of the bound) and are
// then cancelled; the tenants this replica held are handed to the others
// when there was time to; at the bound Stop closes the pools and returns,
// whatever still runs. Nothing cut off is lost: a cancelled job's
// transaction rolls back, and its request is claimed again when its lease
// ends. Stop may be called more than once; later calls wait for the first.
func (a *App) Stop() {
	a.stopOnce.Do(a.stop)
}

func (a *App) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), a.bound)
	defer cancel()
	drain, cancelDrain := context.WithTimeout(ctx, time.Duration(float64(a.bound)*drainShare))
	defer cancelDrain()
	a.cancel() // the catalog stops opening and watching tenants
	var wg sync.WaitGroup
	wg.Go(func() { a.srv.shutdown(drain) })
	wg.Go(func() { a.sched.Stop(drain) })
	wg.Go(func() { <-a.catalogDone })
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		// A job still busy (one that ignores its cancellation, or whose
		// clean-up waits on a lock) must not hold the process: its
		// request's lease lets another replica, or the next start, take it.
		a.log.Warn("shutdown bound reached; background work still running is abandoned and its leases will expire",
			"bound", a.bound.String())
	}
	_ = a.tenants.Close()
	_ = a.stopTracing(ctx) // flushes the last spans, if the bound left time
}
