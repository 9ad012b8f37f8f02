package store

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titular/titular/internal/sqlq"
	"github.com/titular/titular/ledger"
	"github.com/titular/titular/store/storetest"
)

func newBenchStore(tb testing.TB) (*Store, *sql.DB) {
	tb.Helper()
	db, _ := storetest.NewDatabase(tb)
	if _, err := Migrate(context.Background(), db); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return New(db), db
}

// runWriters runs total transactions of fn over 32 concurrent writers and
// returns transactions per second; after, when set, runs before the clock
// stops (the sequencer catching up).
func runWriters(b *testing.B, db *sql.DB, total int, fn func(ctx context.Context, tx *sql.Tx, i int) error, after func()) float64 {
	const writers = 32
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range writers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				tx, err := db.BeginTx(context.Background(), nil)
				if err == nil {
					if err = fn(context.Background(), tx, i); err == nil {
						err = tx.Commit()
					} else {
						_ = tx.Rollback()
					}
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if after != nil {
		after()
	}
	return float64(total) / time.Since(start).Seconds()
}

// BenchmarkLedgerAppend compares, under 32 concurrent writers on one
// tenant, ledger appends (committed and integrated into the tree) with plain
// single-row INSERT transactions on the same server. Reported as medians of
// several rounds; the goal is append_ratio >= 0.5. change+leaf_ratio is a
// change (one INSERT) with its leaf, against the change alone.
// headlock_ratio emulates the design this one replaced: every change's
// transaction locking and moving the head row.
func BenchmarkLedgerAppend(b *testing.B) {
	s, db := newBenchStore(b)
	db.SetMaxOpenConns(40)
	db.SetMaxIdleConns(40)
	if _, err := db.Exec(`CREATE TABLE bench_plain (id BIGINT NOT NULL AUTO_INCREMENT, v VARBINARY(512) NOT NULL,
 created_at DATETIME(6) NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB`); err != nil {
		b.Fatal(err)
	}
	const total, rounds = 3000, 5
	leaf, _ := benchLeaf(1).Marshal()
	plainInsert := func(ctx context.Context, tx *sql.Tx, _ int) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO bench_plain (v, created_at) VALUES (?, ?)", leaf, time.Now())
		return err
	}
	// Rounds interleave the variants and each ratio is taken within its
	// round, so load from elsewhere on the server skews them alike.
	var plain, appends, appendRatio, changeRatio, lockRatio []float64
	for b.Loop() {
		for range rounds {
			p := runWriters(b, db, total, plainInsert, nil)
			plain = append(plain, p)
			a := s.withSequencer(b, func(catchUp func()) float64 {
				return runWriters(b, db, total, func(ctx context.Context, tx *sql.Tx, i int) error {
					return s.appendLeaf(ctx, tx, benchLeaf(i))
				}, catchUp)
			})
			appends, appendRatio = append(appends, a), append(appendRatio, a/p)
			c := s.withSequencer(b, func(catchUp func()) float64 {
				return runWriters(b, db, total, func(ctx context.Context, tx *sql.Tx, i int) error {
					if err := plainInsert(ctx, tx, i); err != nil {
						return err
					}
					return s.appendLeaf(ctx, tx, benchLeaf(i))
				}, catchUp)
			})
			changeRatio = append(changeRatio, c/p)
			l := runWriters(b, db, total/4, func(ctx context.Context, tx *sql.Tx, i int) error {
				if err := plainInsert(ctx, tx, i); err != nil {
					return err
				}
				var size uint64
				if err := tx.QueryRowContext(ctx, "SELECT size FROM lgpd_ledger_head WHERE id = 1 FOR UPDATE").Scan(&size); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, "UPDATE lgpd_ledger_head SET updated_at = ? WHERE id = 1", time.Now())
				return err
			}, nil)
			lockRatio = append(lockRatio, l/p)
		}
	}
	b.ReportMetric(median(plain), "plain_tx/s")
	b.ReportMetric(median(appends), "appends/s")
	b.ReportMetric(median(appendRatio), "append_ratio")
	b.ReportMetric(median(changeRatio), "change+leaf_ratio")
	b.ReportMetric(median(lockRatio), "headlock_ratio")
	if _, err := s.VerifyLedger(context.Background(), ledger.Checks{}); err != nil {
		b.Fatalf("ledger after the benchmark: %v", err)
	}
}

// withSequencer runs fn while a sequencer integrates; fn's catchUp waits
// until every pending leaf is in the tree.
func (s *Store) withSequencer(b *testing.B, fn func(catchUp func()) float64) float64 {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			n, err := s.Integrate(ctx)
			if err != nil && ctx.Err() == nil {
				b.Error(err)
				return
			}
			if n == 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
	})
	rate := fn(func() {
		cancel()
		wg.Wait()
		if _, err := s.Integrate(context.Background()); err != nil {
			b.Error(err)
		}
	})
	cancel()
	wg.Wait()
	return rate
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	ys := slices.Clone(xs)
	slices.Sort(ys)
	return ys[len(ys)/2]
}

// benchLeaves is the ledger size for BenchmarkLedger1M
// ($TITULAR_BENCH_LEAVES, default 1,000,000).
func benchLeaves(b *testing.B) int {
	if v := os.Getenv("TITULAR_BENCH_LEAVES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			b.Fatalf("TITULAR_BENCH_LEAVES=%q: want a number >= 2", v)
		}
		return n
	}
	return 1_000_000
}

// fillLedger appends n leaves through the pending table and the sequencer,
// in large batches so that setup takes a minute rather than an hour.
func fillLedger(b *testing.B, s *Store, n int) {
	ctx := context.Background()
	const chunk = 2000
	for done := 0; done < n; {
		k := min(chunk, n-done)
		args := make([]any, 0, k*4)
		for i := range k {
			leaf, _ := benchLeaf(done + i).Marshal()
			args = append(args, leaf, ledger.MAC(s.ledgerKey, leaf), benchLeaf(done+i).RequestID, time.Now())
		}
		if _, err := s.db.ExecContext(ctx, "INSERT INTO lgpd_ledger_pending (leaf, mac, request_id, created_at) VALUES "+sqlq.RowsOf(k, 4), args...); err != nil {
			b.Fatal(err)
		}
		done += k
		if done%10000 == 0 || done == n {
			for {
				got, err := s.integrateOnce(ctx, 5000)
				if err != nil {
					b.Fatal(err)
				}
				if got == 0 {
					break
				}
			}
		}
	}
}

// BenchmarkLedger1M measures, on a 1,000,000-leaf ledger in MariaDB:
// verify (read every entry and node back and recompute; goal under 2 s for
// the recomputation), and inclusion and consistency proofs from stored nodes
// (goal: p99 under 5 ms).
func BenchmarkLedger1M(b *testing.B) {
	s, _ := newBenchStore(b)
	n := benchLeaves(b)
	start := time.Now()
	fillLedger(b, s, n)
	b.Logf("setup: %d leaves integrated in %s", n, time.Since(start).Round(time.Second))
	ctx := context.Background()
	head, err := s.LedgerHead(ctx)
	if err != nil || head.Size != uint64(n) {
		b.Fatalf("head %+v, %v", head, err)
	}
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			rep, err := s.VerifyLedger(ctx, ledger.Checks{})
			if err != nil || rep.Size != uint64(n) {
				b.Fatalf("verify: %+v, %v", rep, err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/verify")
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
	})
	proofBench := func(name string, prove func(rnd *rand.Rand) error) {
		b.Run(name, func(b *testing.B) {
			rnd := rand.New(rand.NewPCG(7, 9))
			var lat []float64
			// Each iteration is 100 proofs, so even -benchtime 3x gives a p99.
			for b.Loop() {
				for range 100 {
					t0 := time.Now()
					if err := prove(rnd); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, float64(time.Since(t0).Microseconds()))
				}
			}
			slices.Sort(lat)
			b.ReportMetric(lat[len(lat)/2]/1000, "p50_ms")
			b.ReportMetric(lat[len(lat)*99/100]/1000, "p99_ms")
		})
	}
	size := head.Size
	proofBench("inclusion_proof", func(rnd *rand.Rand) error {
		_, err := s.InclusionProof(ctx, rnd.Uint64N(size), size)
		return err
	})
	// The proofs served are right, not just fast.
	for _, index := range []uint64{0, size / 3, size - 1} {
		p, err := s.InclusionProof(ctx, index, size)
		if err != nil {
			b.Fatal(err)
		}
		e, err := s.LedgerEntries(ctx, index, index+1)
		if err != nil {
			b.Fatal(err)
		}
		if err := ledger.VerifyInclusion(index, size, e[0].LeafHash, p, head.Root); err != nil {
			b.Fatal(err)
		}
	}
	proofBench("consistency_proof", func(rnd *rand.Rand) error {
		_, err := s.ConsistencyProof(ctx, 1+rnd.Uint64N(size-1), size)
		return err
	})
}
