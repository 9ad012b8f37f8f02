package server

import (
	"context"
	"time"
)

// shutdownBound is the longest Stop takes: calls in flight, then
// background jobs, which are cancelled at the bound (each kind is safe to
// interrupt: its transaction rolls back and the work is found again).
const shutdownBound = 30 * time.Second

// Stop shuts everything down within shutdownBound: stop taking calls and
// let those in flight finish, stop the background jobs (cancelled at the
// bound), hand the tenants this replica held to the others, close the
// pools.
func (a *App) Stop() {
	sctx, cancel := context.WithTimeout(context.Background(), shutdownBound)
	defer cancel()
	a.srv.shutdown(sctx)
	a.cancel()
	<-a.catalogDone
	a.sched.Stop(sctx)
	_ = a.tenants.Close()
	_ = a.stopTracing(sctx) // flushes the last spans
}
