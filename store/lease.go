package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/titular/titular/internal/sqlq"
)

// Probe is what one backstop poll learns of a tenant: who runs its
// background work, and what background work is waiting.
type Probe struct {
	// Held says the caller holds the tenant's background lease (it took or
	// renewed it); LeaseLeft is how long the lease has left, by the
	// database's clock, whoever holds it.
	Held      bool
	Holder    string
	LeaseLeft time.Duration
	// Standby is another replica that asked for the lease while it was
	// held, when that was less than a lease ago: the holder learns of the
	// replicas alive from it.
	Standby string
	// Requests: a request is claimable now (waiting, or running under a
	// lease that ended: its worker died). RequestsAt: the earliest time a
	// waiting request (in backoff) or a running one (whose worker may die)
	// becomes claimable; zero when none.
	Requests   bool
	RequestsAt time.Time
	// Ledger: leaves wait for the sequencer.
	Ledger bool
	// OutboxAt: the earliest time a pending webhook delivery is due; zero
	// when none.
	OutboxAt time.Time
	// LedgerSize and CheckpointSize: the tree's size and that of its latest
	// signed checkpoint; they differ when a checkpoint is due.
	LedgerSize, CheckpointSize uint64
}

// leaseName is the lease of a tenant's background work.
const leaseName = "background"

// ProbeWork renews (or takes, when it expired) owner's lease on the
// tenant's background work, then reads what background work is waiting: two
// statements, the whole cost of an idle tenant's poll. kinds are the request
// kinds workers process. A replica that does not get the lease is recorded
// as the standby.
func (s *Store) ProbeWork(ctx context.Context, owner string, lease time.Duration, kinds []Kind) (Probe, error) {
	var p Probe
	us := lease.Microseconds()
	// The statement means the same whether the server assigns left to
	// right (MySQL, MariaDB's default) or simultaneously (MariaDB's
	// SIMULTANEOUS_ASSIGNMENT): the standby columns come before anything
	// they test changes, and the expiry's test holds after the holder's
	// assignment exactly when it held before it.
	const free = "(holder = ? OR expires_at < UTC_TIMESTAMP(6))"
	if _, err := s.db.ExecContext(ctx, `UPDATE lgpd_leases SET
 standby = IF(`+free+`, standby, ?),
 standby_expires_at = IF(`+free+`, standby_expires_at, UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND),
 holder = IF(`+free+`, ?, holder),
 expires_at = IF(`+free+`, UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND, expires_at)
 WHERE name = ?`, owner, owner, owner, us, owner, owner, owner, us, leaseName); err != nil {
		return p, fmt.Errorf("probe: lease: %w", err)
	}
	now := s.now()
	kindIn := "kind IN (" + sqlq.Placeholders(len(kinds)) + ")"
	var args []any
	for range 2 {
		for _, k := range kinds {
			args = append(args, k)
		}
		args = append(args, StatusReceived, StatusProcessing, now)
	}
	args = append(args, DeliveryPending, leaseName)
	var leftUS int64
	var standbyLeftUS int64
	var reqAt, outAt sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT l.holder, TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), l.expires_at),
 l.standby, TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), l.standby_expires_at),
 EXISTS(SELECT 1 FROM lgpd_requests WHERE `+kindIn+` AND status IN (?, ?) AND (lease_until IS NULL OR lease_until <= ?)),
 (SELECT MIN(lease_until) FROM lgpd_requests WHERE `+kindIn+` AND status IN (?, ?) AND lease_until > ?),
 EXISTS(SELECT 1 FROM lgpd_ledger_pending),
 (SELECT MIN(next_attempt_at) FROM lgpd_outbox_deliveries WHERE state = ?),
 (SELECT size FROM lgpd_ledger_head WHERE id = 1),
 (SELECT COALESCE(MAX(size), 0) FROM lgpd_ledger_checkpoints)
 FROM lgpd_leases l WHERE l.name = ?`, args...).
		Scan(&p.Holder, &leftUS, &p.Standby, &standbyLeftUS, &p.Requests, &reqAt, &p.Ledger, &outAt, &p.LedgerSize, &p.CheckpointSize)
	if err != nil {
		if err == sql.ErrNoRows {
			return p, fmt.Errorf("probe: the lease row is missing; run titular migrate")
		}
		return p, fmt.Errorf("probe: %w", err)
	}
	p.Held = p.Holder == owner
	p.LeaseLeft = time.Duration(leftUS) * time.Microsecond
	if standbyLeftUS <= 0 || p.Standby == owner {
		p.Standby = ""
	}
	if reqAt.Valid {
		p.RequestsAt = reqAt.Time
	}
	if outAt.Valid {
		p.OutboxAt = outAt.Time
	}
	return p, nil
}

// ReleaseLease gives up owner's lease on the tenant's background work, so
// another replica takes it at its next poll instead of when it expires: on
// shutdown, and when the fleet's hashing prefers another replica.
func (s *Store) ReleaseLease(ctx context.Context, owner string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE lgpd_leases SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND
 WHERE name = ? AND holder = ?`, leaseName, owner); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	return nil
}
