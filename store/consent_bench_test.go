package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkConsentWritePath measures titular's CONSENT writes alone, as the
// service's batcher issues them (32 callers, two flushers taking up to 100
// queued writes into one WriteConsentBatch transaction, the sequencer
// integrating meanwhile), against single-row INSERT transactions on the same
// server: the ceiling the consent scenario of `titular bench` cannot pass,
// since that adds gRPC or REST and webhook delivery on top.
//
//	go test -run '^$' -bench ConsentWritePath ./store
func BenchmarkConsentWritePath(b *testing.B) {
	s, db := newBenchStore(b)
	db.SetMaxOpenConns(40)
	db.SetMaxIdleConns(40)
	if _, err := db.Exec(`CREATE TABLE bench_plain (id BIGINT NOT NULL AUTO_INCREMENT, subject VARCHAR(100) NOT NULL,
 purpose VARCHAR(64) NOT NULL, action VARCHAR(8) NOT NULL, at DATETIME(6) NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB`); err != nil {
		b.Fatal(err)
	}
	const total, rounds = 6000, 5
	var next atomic.Int64
	write := func() ConsentWrite {
		i := next.Add(1)
		return ConsentWrite{
			New: NewRequest{Kind: KindConsent, CreatedBy: "bench", Deadline: 15 * 24 * time.Hour,
				Subject: Identifiers{Email: fmt.Sprintf("bench-%d@example.com", i)}},
			Record: ConsentRecord{PurposeID: "marketing_email", Action: ConsentRevoke, Channel: "portal",
				Evidence: ConsentEvidence{IP: "198.51.100.1", UserAgent: "titular-bench"}},
			Note:      "consent REVOKE marketing_email",
			Event:     &OutboxEvent{Type: EventConsentRevoked, Data: map[string]any{"purpose": "marketing_email"}},
			Endpoints: []string{"crm"},
		}
	}
	var plain, writes, ratio []float64
	for b.Loop() {
		for range rounds {
			p := runWriters(b, db, total, func(ctx context.Context, tx *sql.Tx, _ int) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO bench_plain (subject, purpose, action, at) VALUES (?, ?, ?, ?)",
					"bench@example.com", "marketing_email", ConsentRevoke, time.Now().UTC())
				return err
			}, nil)
			w := s.withSequencer(b, func(func()) float64 { return s.batchedConsents(b, total, write) })
			plain, writes, ratio = append(plain, p), append(writes, w), append(ratio, w/p)
		}
	}
	b.ReportMetric(median(plain), "plain_tx/s")
	b.ReportMetric(median(writes), "consents/s")
	b.ReportMetric(median(ratio), "consent_ratio")
}

// batchedConsents writes total consents from 32 callers through two
// flushers, as service's consentBatcher does, and returns consents/s.
func (s *Store) batchedConsents(b *testing.B, total int, write func() ConsentWrite) float64 {
	type job struct {
		w    ConsentWrite
		done chan error
	}
	jobs := make(chan job, 256)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var flushers sync.WaitGroup
	for range 2 {
		flushers.Go(func() {
			for {
				var batch []job
				select {
				case j := <-jobs:
					batch = append(batch, j)
				case <-ctx.Done():
					return
				}
			more:
				for len(batch) < 100 {
					select {
					case j := <-jobs:
						batch = append(batch, j)
					default:
						break more
					}
				}
				ws := make([]ConsentWrite, len(batch))
				for i, j := range batch {
					ws[i] = j.w
				}
				err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
					_, err := s.WriteConsentBatch(ctx, tx, ws)
					return err
				})
				for _, j := range batch {
					j.done <- err
				}
			}
		})
	}
	var left atomic.Int64
	left.Store(int64(total))
	start := time.Now()
	var callers sync.WaitGroup
	for range 32 {
		callers.Go(func() {
			for left.Add(-1) >= 0 {
				j := job{w: write(), done: make(chan error, 1)}
				jobs <- j
				if err := <-j.done; err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	callers.Wait()
	rate := float64(total) / time.Since(start).Seconds()
	cancel()
	flushers.Wait()
	return rate
}
