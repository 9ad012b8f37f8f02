package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/titular/titular/ledger"
)

var workerKinds = []Kind{KindExtract, KindDelete, KindAnonymize}

// TestProbeWorkLease: the first replica to probe takes the tenant's lease,
// the next one is refused and recorded as standby, the holder learns of it,
// and the lease passes on when it expires or is released.
func TestProbeWorkLease(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	p, err := s.ProbeWork(ctx, "replica-a", time.Minute, workerKinds)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Held || p.Holder != "replica-a" || p.LeaseLeft < 50*time.Second || p.Standby != "" {
		t.Fatalf("first probe: %+v; want replica-a holding for about a minute", p)
	}
	p, err = s.ProbeWork(ctx, "replica-b", time.Minute, workerKinds)
	if err != nil {
		t.Fatal(err)
	}
	if p.Held || p.Holder != "replica-a" || p.LeaseLeft <= 0 {
		t.Fatalf("second replica: %+v; want refused while replica-a holds", p)
	}
	p, err = s.ProbeWork(ctx, "replica-a", time.Minute, workerKinds)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Held || p.Standby != "replica-b" {
		t.Fatalf("renewal: %+v; want held, with replica-b as standby", p)
	}
	if err := s.ReleaseLease(ctx, "replica-b"); err != nil {
		t.Fatal(err)
	}
	if p, _ = s.ProbeWork(ctx, "replica-b", time.Minute, workerKinds); p.Held {
		t.Fatal("a replica released a lease it did not hold")
	}
	if err := s.ReleaseLease(ctx, "replica-a"); err != nil {
		t.Fatal(err)
	}
	if p, _ = s.ProbeWork(ctx, "replica-b", time.Minute, workerKinds); !p.Held || p.Holder != "replica-b" {
		t.Fatalf("after release: %+v; want replica-b to take it", p)
	}
	// An expired lease is taken without a release.
	if _, err := s.ProbeWork(ctx, "replica-b", 200*time.Millisecond, workerKinds); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if p, _ = s.ProbeWork(ctx, "replica-a", time.Minute, workerKinds); !p.Held {
		t.Fatalf("after expiry: %+v; want replica-a to take it", p)
	}
}

// TestProbeWorkSimultaneousAssignment: the lease statement means the same
// under MariaDB's SIMULTANEOUS_ASSIGNMENT mode, where an UPDATE's
// assignments all read the row as it was.
func TestProbeWorkSimultaneousAssignment(t *testing.T) {
	s, db := newStore(t)
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',SIMULTANEOUS_ASSIGNMENT')"); err != nil {
		t.Fatalf("this server lacks SIMULTANEOUS_ASSIGNMENT (MariaDB 10.3.5+): %v", err)
	}
	steps := []struct {
		owner      string
		lease      time.Duration
		wantHolder string
	}{
		{"replica-a", 200 * time.Millisecond, "replica-a"},
		{"replica-b", time.Minute, "replica-a"},
		{"replica-a", 200 * time.Millisecond, "replica-a"},
	}
	for i, st := range steps {
		p, err := s.ProbeWork(ctx, st.owner, st.lease, workerKinds)
		if err != nil {
			t.Fatal(err)
		}
		if p.Holder != st.wantHolder || p.Held != (st.owner == st.wantHolder) {
			t.Fatalf("step %d: %+v; want holder %s", i, p, st.wantHolder)
		}
	}
	time.Sleep(300 * time.Millisecond)
	p, err := s.ProbeWork(ctx, "replica-b", time.Minute, workerKinds)
	if err != nil || !p.Held || p.LeaseLeft < 50*time.Second {
		t.Fatalf("takeover after expiry: %+v %v", p, err)
	}
	var standby string
	if err := db.QueryRowContext(ctx, "SELECT standby FROM lgpd_leases").Scan(&standby); err != nil || standby != "replica-b" {
		t.Errorf("standby %q (%v): the refused probe registers replica-b", standby, err)
	}
}

// TestProbeWorkFindsWork: the probe reports each kind of waiting work, and
// nothing on an idle tenant.
func TestProbeWorkFindsWork(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	probe := func() Probe {
		t.Helper()
		p, err := s.ProbeWork(ctx, "me", time.Minute, workerKinds)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := probe(); p.Requests || !p.RequestsAt.IsZero() || p.Ledger || !p.OutboxAt.IsZero() || p.LedgerSize != 0 || p.CheckpointSize != 0 {
		t.Fatalf("idle tenant: %+v", p)
	}
	// A CONFIRM waits for no worker; an EXTRACT does.
	createRequest(t, s, NewRequest{Kind: KindConfirm, Subject: Identifiers{Email: "a@example.com"}})
	if p := probe(); p.Requests || !p.Ledger {
		t.Fatalf("after a CONFIRM: %+v; want leaves pending, no request for workers", p)
	}
	r := createRequest(t, s, NewRequest{Kind: KindExtract, Subject: Identifiers{Email: "a@example.com"}})
	if p := probe(); !p.Requests {
		t.Fatalf("after an EXTRACT: %+v; want a claimable request", p)
	}
	claimed, err := s.Claim(ctx, "w", time.Minute, workerKinds)
	if err != nil || claimed.ID != r.ID {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if p := probe(); p.Requests || p.RequestsAt.Before(time.Now().Add(50*time.Second)) {
		t.Fatalf("while claimed: %+v; want no claimable request, one due when its lease ends", p)
	}
	// A worker that died leaves its request claimable once the lease ends.
	if _, err := db.ExecContext(ctx, "UPDATE lgpd_requests SET lease_until = ? WHERE id = ?", time.Now().UTC().Add(-time.Second), r.ID); err != nil {
		t.Fatal(err)
	}
	if p := probe(); !p.Requests {
		t.Fatalf("a running request whose lease ended: %+v; want it claimable", p)
	}
	integrate(t, s)
	if p := probe(); p.Ledger || p.LedgerSize < 3 || p.CheckpointSize != 0 {
		t.Fatalf("after integrating: %+v", p)
	}
	err = s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.EnqueueEvent(ctx, OutboxEvent{Type: EventConsentRevoked, SubjectRef: r.SubjectRef}, []string{"crm"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := probe(); p.OutboxAt.IsZero() || p.OutboxAt.After(time.Now().Add(time.Second)) {
		t.Fatalf("after an event: %+v; want a delivery due now", p)
	}
}

// TestOnCommitReportsWork: a committed transaction tells the hook what
// background work it left; a rolled-back one tells nothing.
func TestOnCommitReportsWork(t *testing.T) {
	_, db := newStore(t)
	var got []Work
	s := New(db, WithOnCommit(func(w Work) { got = append(got, w) }))
	ctx := context.Background()
	leaf := ledger.Leaf{Event: "test", At: time.Now().UTC()}
	if err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error { return tx.AppendLeaf(ctx, leaf) }); err != nil {
		t.Fatal(err)
	}
	_ = s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		if err := tx.AppendLeaf(ctx, leaf); err != nil {
			return err
		}
		return sql.ErrTxDone // roll back
	})
	err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.EnqueueEvent(ctx, OutboxEvent{Type: EventConsentRevoked}, []string{"crm"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	createRequest(t, s, NewRequest{Kind: KindExtract, Subject: Identifiers{Email: "a@example.com"}})
	if len(got) != 3 || got[0] != WorkLedger || got[1] != WorkOutbox || got[2] != WorkLedger {
		t.Fatalf("hook saw %v; want [ledger, outbox, ledger] (nothing for the rollback)", got)
	}
}
