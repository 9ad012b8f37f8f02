package fleet

import (
	"hash/fnv"
	"time"

	"github.com/titular/titular/store"
)

// probed records a backstop poll: who holds the tenant, what work waits,
// how soon to poll again, and whether to hand the tenant over. s.mu is
// held.
func (s *Scheduler) probed(st *tstate, p store.Probe, now time.Time) (a after) {
	s.notePeers(p, now)
	wasHeld := st.held
	st.held = p.Held
	if wasHeld != p.Held {
		s.opts.Log.Debug("fleet: tenant's background work changed hands", "tenant", st.id, "held", p.Held, "holder", p.Holder)
	}
	if p.Held && (p.Requests || p.Ledger || !p.RequestsAt.IsZero() || !p.OutboxAt.IsZero()) {
		s.opts.Log.Debug("fleet: the backstop poll found work", "tenant", st.id, "requests", p.Requests,
			"requests_at", p.RequestsAt, "ledger", p.Ledger, "outbox_at", p.OutboxAt)
	}
	if !p.Held {
		// Another replica runs it: poll when its lease would end, to take
		// the tenant over if that replica died.
		st.pending &^= JobCheckpoint | JobSweep
		st.active, st.backlog = false, false
		wait := max(p.LeaseLeft, s.opts.MinPoll) + jitter(s.opts.MinPoll)
		st.due[JobProbe.index()] = now.Add(wait)
		return after{releaseIdle: s.quiet(st)}
	}
	if !wasHeld {
		st.heldSince = now
		// Sweeps of a thousand tenants spread over the interval.
		s.setPending(st, JobSweep, now.Add(jitter(s.opts.SweepInterval)))
	}
	found := false
	if p.Requests {
		s.setPending(st, JobRequests, now)
		found = true
	}
	if !p.RequestsAt.IsZero() {
		s.setTimer(st, JobRequests, p.RequestsAt)
	}
	if p.Ledger {
		s.setPending(st, JobLedger, now)
		found = true
	}
	if !p.OutboxAt.IsZero() {
		if !p.OutboxAt.After(now) {
			found = true
		}
		s.setTimer(st, JobOutbox, p.OutboxAt)
	}
	if p.LedgerSize > p.CheckpointSize {
		s.needCheckpoint(st)
	}
	if found || st.active {
		st.interval = s.opts.MinPoll
	} else {
		st.interval = min(st.interval*2, s.maxPoll())
	}
	st.active = false
	st.due[JobProbe.index()] = now.Add(st.interval)
	if s.shouldHandOver(st, now) {
		st.held = false
		st.pending &^= JobCheckpoint | JobSweep
		st.due[JobProbe.index()] = now.Add(s.opts.OwnershipLease)
		a.releaseLease = true
	}
	a.releaseIdle = !found && s.quiet(st)
	return a
}

// maxPoll is the longest backstop interval: the configured one, but short
// enough that the lease is renewed three times per lease.
func (s *Scheduler) maxPoll() time.Duration {
	return max(s.opts.MinPoll, min(s.opts.MaxPoll, s.opts.OwnershipLease/3))
}

// quiet reports whether nothing but the probe that just ended is running
// or due for the tenant.
func (s *Scheduler) quiet(st *tstate) bool {
	for i, j := range jobOrder {
		if j == JobProbe {
			continue
		}
		if st.running[i] > 0 || (st.pending&j != 0 && !st.due[i].After(time.Now())) {
			return false
		}
	}
	return st.running[JobProbe.index()] == 0
}

// notePeers learns of the other replicas alive from a probe: the holder of
// a lease that has not ended, and the standby that asked for it recently.
func (s *Scheduler) notePeers(p store.Probe, now time.Time) {
	if p.Standby != "" {
		s.peers[p.Standby] = now.Add(s.opts.OwnershipLease)
	}
	if !p.Held && p.Holder != "" && p.Holder != s.opts.Owner && p.LeaseLeft > 0 {
		if until := now.Add(p.LeaseLeft); until.After(s.peers[p.Holder]) {
			s.peers[p.Holder] = until
		}
	}
	for id, until := range s.peers {
		if until.Before(now) {
			delete(s.peers, id)
		}
	}
}

// shouldHandOver reports whether a tenant held for a whole lease belongs,
// by rendezvous hashing over the replicas alive, to another replica: each
// replica then holds about its share, and a replica that joins or leaves
// moves only the tenants it gains or loses.
func (s *Scheduler) shouldHandOver(st *tstate, now time.Time) bool {
	if len(s.peers) == 0 || now.Sub(st.heldSince) < s.opts.OwnershipLease {
		return false
	}
	return preferred(st.id, s.opts.Owner, s.peers) != s.opts.Owner
}

// preferred is the replica with the highest hash of (tenant, replica).
func preferred(tenantID, self string, peers map[string]time.Time) string {
	best, bestScore := self, score(tenantID, self)
	for id := range peers {
		if sc := score(tenantID, id); sc > bestScore || (sc == bestScore && id < best) {
			best, bestScore = id, sc
		}
	}
	return best
}

func score(tenantID, replica string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(tenantID))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(replica))
	// fnv's high bits mix poorly for similar inputs: finish with a
	// splitmix64 step.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
