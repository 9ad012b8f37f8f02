package store

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"
)

func enqueue(t *testing.T, s *Store, typ string, endpoints ...string) *OutboxEvent {
	t.Helper()
	var e *OutboxEvent
	err := s.ReadWriteTx(context.Background(), func(ctx context.Context, tx *Tx) error {
		var err error
		e, err = tx.EnqueueEvent(ctx, OutboxEvent{Type: typ, SubjectRef: "00000000-0000-4000-8000-000000000001",
			RequestID: "00000000-0000-4000-8000-000000000002", Data: map[string]string{"purpose": "marketing_email"}}, endpoints)
		return err
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return e
}

func TestEnqueueEventIsTransactional(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	e := enqueue(t, s, EventConsentRevoked, "crm", "parceiro")
	if e.ID == "" || e.Seq == 0 {
		t.Fatalf("event not assigned an id and seq: %+v", e)
	}
	enqueue(t, s, EventSubjectDeleted) // no endpoint subscribes: recorded, nothing to deliver
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_outbox"); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM lgpd_outbox_deliveries WHERE state = 'PENDING'"); n != 2 {
		t.Errorf("%d pending deliveries, want one per subscribed endpoint", n)
	}
	boom := errors.New("the change failed")
	err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.EnqueueEvent(ctx, OutboxEvent{Type: EventConsentRevoked}, []string{"crm"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || countRows(t, db, "SELECT COUNT(*) FROM lgpd_outbox") != 2 {
		t.Errorf("a rolled-back change left its event behind: %v", err)
	}
}

func TestClaimDeliveriesLeaseAndOutcome(t *testing.T) {
	s, _ := newStore(t)
	clock := useClock(s)
	ctx := context.Background()
	e := enqueue(t, s, EventConsentRevoked, "crm")
	got, err := s.ClaimDeliveries(ctx, 10, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim: %v %v", got, err)
	}
	d := got[0]
	var data map[string]string
	if d.Event.ID != e.ID || d.Attempts != 1 || d.Endpoint != "crm" || json.Unmarshal(d.Event.Data.(json.RawMessage), &data) != nil || data["purpose"] != "marketing_email" {
		t.Errorf("claimed delivery: %+v", d)
	}
	if again, _ := s.ClaimDeliveries(ctx, 10, time.Minute); len(again) != 0 {
		t.Error("a leased delivery was claimed again before its lease ended")
	}
	// The dispatcher died: after the lease, the delivery is due again.
	clock.Advance(2 * time.Minute)
	got, _ = s.ClaimDeliveries(ctx, 10, time.Minute)
	if len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("after the lease: %+v", got)
	}
	// The first claimer's late report is ignored; the current one counts.
	if err := s.DeliveryFailed(ctx, d.Event.Seq, "crm", 1, "HTTP 500", clock.Now(), true); err != nil {
		t.Fatal(err)
	}
	if ds, _, _ := s.ListDeliveries(ctx, []string{DeliveryFailed}, 10, ""); len(ds) != 0 {
		t.Error("a stale attempt's failure was recorded")
	}
	if err := s.DeliveryFailed(ctx, d.Event.Seq, "crm", 2, "HTTP 503", clock.Now().Add(time.Second), false); err != nil {
		t.Fatal(err)
	}
	ds, _, err := s.ListDeliveries(ctx, []string{DeliveryPending}, 10, "")
	if err != nil || len(ds) != 1 || ds[0].LastError != "HTTP 503" || ds[0].Attempts != 2 {
		t.Fatalf("pending after a failure: %+v %v", ds, err)
	}
	clock.Advance(time.Second)
	got, _ = s.ClaimDeliveries(ctx, 10, time.Minute)
	if len(got) != 1 {
		t.Fatal("a failed attempt was not retried at its time")
	}
	if err := s.DeliveriesSucceeded(ctx, []DeliveryKey{{d.Event.Seq, "crm"}}); err != nil {
		t.Fatal(err)
	}
	ds, _, _ = s.ListDeliveries(ctx, []string{DeliveryDelivered}, 10, "")
	if len(ds) != 1 || ds[0].DeliveredAt == nil || ds[0].LastError != "" {
		t.Errorf("delivered: %+v", ds)
	}
	clock.Advance(time.Hour)
	if got, _ := s.ClaimDeliveries(ctx, 10, time.Minute); len(got) != 0 {
		t.Error("a delivered event was claimed again")
	}
}

// TestClaimDeliveriesConcurrent: replicas claiming at once never take the
// same delivery.
func TestClaimDeliveriesConcurrent(t *testing.T) {
	s, _ := newStore(t)
	for range 40 {
		enqueue(t, s, EventConsentRevoked, "a", "b")
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				got, err := s.ClaimDeliveries(context.Background(), 5, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.Event.ID+"/"+d.Endpoint]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 80 {
		t.Errorf("claimed %d distinct deliveries, want 80", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", k, n)
		}
	}
}

func TestListDeliveriesPaging(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for range 5 {
		enqueue(t, s, EventConsentRevoked, "a", "b")
	}
	var all []Delivery
	token := ""
	for {
		ds, next, err := s.ListDeliveries(ctx, []string{DeliveryPending, DeliveryFailed}, 3, token)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ds...)
		if token = next; token == "" {
			break
		}
	}
	if len(all) != 10 {
		t.Fatalf("listed %d deliveries, want 10", len(all))
	}
	for i := 1; i < len(all); i++ {
		prev, cur := all[i-1], all[i]
		if cur.Event.Seq > prev.Event.Seq || (cur.Event.Seq == prev.Event.Seq && cur.Endpoint >= prev.Endpoint) {
			t.Errorf("not newest first at %d: %d/%s after %d/%s", i, cur.Event.Seq, cur.Endpoint, prev.Event.Seq, prev.Endpoint)
		}
	}
	if _, _, err := s.ListDeliveries(ctx, []string{DeliveryPending}, 3, "bm90LWEtdG9rZW4"); !errors.Is(err, ErrBadPageToken) {
		t.Errorf("bad token: %v", err)
	}
}

// TestRetryFailedDeliveries: only FAILED deliveries return to the queue,
// due at once with attempts restarted, narrowed by endpoint and event.
func TestRetryFailedDeliveries(t *testing.T) {
	s, db := newStore(t)
	clock := useClock(s)
	ctx := context.Background()
	a := enqueue(t, s, EventConsentRevoked, "crm", "parceiro")
	b := enqueue(t, s, EventConsentRevoked, "crm", "parceiro")
	c := enqueue(t, s, EventConsentRevoked, "crm")
	claimed, err := s.ClaimDeliveries(ctx, 10, time.Minute)
	if err != nil || len(claimed) != 5 {
		t.Fatalf("claim: %d %v", len(claimed), err)
	}
	for _, d := range claimed {
		giveUp := d.Event.ID != c.ID // c's stays pending, retrying
		if err := s.DeliveryFailed(ctx, d.Event.Seq, d.Endpoint, d.Attempts, "HTTP 500", clock.Now().Add(time.Hour), giveUp); err != nil {
			t.Fatal(err)
		}
	}
	state := func(e *OutboxEvent, ep string) (st string, attempts int) {
		t.Helper()
		if err := db.QueryRow("SELECT state, attempts FROM lgpd_outbox_deliveries WHERE seq = ? AND endpoint = ?", e.Seq, ep).Scan(&st, &attempts); err != nil {
			t.Fatal(err)
		}
		return st, attempts
	}
	if n, err := s.RetryFailedDeliveries(ctx, "parceiro", []string{a.ID}); err != nil || n != 1 {
		t.Fatalf("retry parceiro's delivery of a: %d %v, want 1", n, err)
	}
	if st, att := state(a, "parceiro"); st != DeliveryPending || att != 0 {
		t.Errorf("a to parceiro: %s after %d attempts, want PENDING with attempts restarted", st, att)
	}
	for _, k := range []struct {
		e  *OutboxEvent
		ep string
	}{{a, "crm"}, {b, "crm"}, {b, "parceiro"}} {
		if st, _ := state(k.e, k.ep); st != DeliveryFailed {
			t.Errorf("seq %d to %s: %s, want still FAILED (outside the filter)", k.e.Seq, k.ep, st)
		}
	}
	if n, err := s.RetryFailedDeliveries(ctx, "crm", nil); err != nil || n != 2 {
		t.Fatalf("retry crm's: %d %v, want a and b (c's is pending, not failed)", n, err)
	}
	if st, att := state(c, "crm"); st != DeliveryPending || att != 1 {
		t.Errorf("c to crm: %s after %d attempts; a pending delivery must be left alone", st, att)
	}
	if n, err := s.RetryFailedDeliveries(ctx, "", nil); err != nil || n != 1 {
		t.Fatalf("retry all: %d %v, want b to parceiro", n, err)
	}
	// All four requeued ones are due now; c's waits for its backoff.
	due, err := s.ClaimDeliveries(ctx, 10, time.Minute)
	if err != nil || len(due) != 4 {
		t.Fatalf("due after retry: %d %v, want 4", len(due), err)
	}
	for _, d := range due {
		if d.Attempts != 1 || d.LastError != "HTTP 500" {
			t.Errorf("requeued %d to %s: attempt %d, last error %q; want attempt 1, the old error kept until replaced", d.Event.Seq, d.Endpoint, d.Attempts, d.LastError)
		}
	}
}
