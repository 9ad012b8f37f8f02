package bench

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/titular/titular/ledger"
	"github.com/titular/titular/store"
)

// The ledger scenarios. --scenario ledger selects all three.
func ledgerAppendScenario() Scenario {
	return Scenario{
		Name: "ledger-append",
		About: "ledger appends under concurrent writers (a transaction with AppendLeaf, committed; the server's " +
			"sequencer integrates meanwhile) vs plain single-row INSERT transactions of the same bytes",
		Run: func(ctx context.Context, env *Env) ([]Result, error) {
			if _, err := env.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_plain (id BIGINT NOT NULL AUTO_INCREMENT,
 v VARBINARY(512) NOT NULL, created_at DATETIME(6) NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB`); err != nil {
				return nil, fmt.Errorf("baseline table: %w", err)
			}
			var next atomic.Int64
			s := env.tenant.Store
			n := env.opts.Clients
			res, err := compare(ctx, env, comparison{
				scenario: "ledger-append",
				variants: []variant{
					{name: "baseline", clients: n, what: "INSERT of a leaf's bytes in its own transaction",
						op: func(ctx context.Context) (int64, error) {
							leaf, err := benchLeaf(int(next.Add(1))).Marshal()
							if err != nil {
								return 0, err
							}
							return 1, inTx(ctx, env.db, func(tx *sql.Tx) error {
								_, err := tx.ExecContext(ctx, "INSERT INTO bench_plain (v, created_at) VALUES (?, ?)", leaf, time.Now().UTC())
								return err
							})
						}},
					{name: "titular", clients: n, what: "store.Tx.AppendLeaf in its own transaction, committed",
						op: func(ctx context.Context) (int64, error) {
							return 1, s.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
								return tx.AppendLeaf(ctx, benchLeaf(int(next.Add(1))))
							})
						}},
				},
				ratio: rateRatio, ratioMeans: "appends/s relative to the baseline's INSERT transactions/s",
				goal: goal{text: "ratio ≥ 0.5", met: func(r Result) bool { return r.Ratio >= 0.5 }},
			})
			if err != nil {
				return nil, err
			}
			// Every committed leaf reaches the tree.
			if _, err := s.Integrate(ctx); err != nil {
				return nil, fmt.Errorf("integrate after appending: %w", err)
			}
			return res, nil
		},
	}
}

func ledgerVerifyScenario() Scenario {
	return Scenario{
		Name: "ledger-verify",
		About: "verify of the whole ledger (--ledger-leaves leaves: every entry and node read back, " +
			"leaf MACs and hashes recomputed, head and latest signed checkpoint checked) vs reading the same rows only",
		Run: func(ctx context.Context, env *Env) ([]Result, error) {
			if err := env.fillLedger(ctx); err != nil {
				return nil, err
			}
			s := env.tenant.Store
			return compare(ctx, env, comparison{
				scenario: "ledger-verify",
				variants: []variant{
					{name: "baseline", what: "SELECT every entry (seq, leaf, leaf_hash, mac) and node (seq, level, hash), nothing computed",
						op: func(ctx context.Context) (int64, error) { return env.readLedger(ctx) }},
					{name: "titular", what: "store.VerifyLedger with the checkpoint verifier",
						op: func(ctx context.Context) (int64, error) {
							rep, err := s.VerifyLedger(ctx, env.ledgerChecks)
							return int64(rep.Size), err //nolint:gosec // G115: the bench's ledger holds about --ledger-leaves entries, an int
						}},
				},
				ratio: speedRatio, ratioMeans: "speed relative to reading the rows: baseline median time / titular median time",
				goal: goal{text: fmt.Sprintf("under 2 s at %d leaves", env.opts.LedgerLeaves), met: func(r Result) bool {
					return r.MedianMS < 2000
				}},
			})
		},
	}
}

func ledgerProofScenario() Scenario {
	return Scenario{
		Name: "ledger-proof",
		About: "inclusion proof of a random leaf against the current head, from stored nodes, " +
			"vs one indexed SELECT of that leaf's hash",
		Run: func(ctx context.Context, env *Env) ([]Result, error) {
			if err := env.fillLedger(ctx); err != nil {
				return nil, err
			}
			s := env.tenant.Store
			head, err := s.LedgerHead(ctx)
			if err != nil {
				return nil, err
			}
			size := head.Size
			rnd := rand.New(rand.NewPCG(7, 9)) //nolint:gosec // G404: picks which leaf to prove, seeded so each run proves the same leaves
			return compare(ctx, env, comparison{
				scenario: "ledger-proof",
				variants: []variant{
					{name: "baseline", what: "SELECT leaf_hash FROM lgpd_ledger_entries WHERE seq = ? (a random leaf)",
						op: func(ctx context.Context) (int64, error) {
							var h []byte
							return 1, env.db.QueryRowContext(ctx, "SELECT leaf_hash FROM lgpd_ledger_entries WHERE seq = ?", rnd.Uint64N(size)).Scan(&h)
						}},
					{name: "titular", what: fmt.Sprintf("store.InclusionProof of a random leaf at size %d", size),
						op: func(ctx context.Context) (int64, error) {
							_, err := s.InclusionProof(ctx, rnd.Uint64N(size), size)
							return 1, err
						}},
				},
				ratio: timeRatio, ratioMeans: "titular median time / baseline median time",
				goal: goal{text: "p99 < 5 ms", met: func(r Result) bool { return r.P99MS < 5 }},
			})
		},
	}
}

// benchLeaf is a typical request-status leaf, distinct per i.
func benchLeaf(i int) ledger.Leaf {
	return ledger.Leaf{Event: ledger.EventRequestStatus, Kind: string(store.KindExtract),
		RequestID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), SubjectRef: fmt.Sprintf("10000000-0000-4000-8000-%012d", i%977),
		From: string(store.StatusReceived), To: string(store.StatusProcessing), At: time.Unix(1_741_600_000+int64(i), 0).UTC()}
}

func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// fillLedger grows the ledger to --ledger-leaves leaves: multi-row INSERTs
// into the pending table (leaves MACed with the tenant's key, as AppendLeaf
// does) and the sequencer, so setup takes a minute per million, not hours.
func (e *Env) fillLedger(ctx context.Context) error {
	s := e.tenant.Store
	if err := e.integrateAll(ctx); err != nil {
		return err
	}
	head, err := s.LedgerHead(ctx)
	if err != nil {
		return err
	}
	if e.opts.LedgerLeaves < 0 || head.Size >= uint64(e.opts.LedgerLeaves) {
		return nil
	}
	// The ledger is smaller than LedgerLeaves, an int, so its size is one too.
	want, have := e.opts.LedgerLeaves, int(head.Size) //nolint:gosec // G115: head.Size < LedgerLeaves, checked just above
	e.progress("ledger: filling %d leaves (%d present)", want-have, have)
	const chunk = 2000
	base := have + 1_000_000_000 // apart from the append scenario's leaves
	for done := have; done < want; {
		k := min(chunk, want-done)
		args := make([]any, 0, k*4)
		now := time.Now().UTC()
		for i := range k {
			l := benchLeaf(base + done + i)
			b, err := l.Marshal()
			if err != nil {
				return err
			}
			args = append(args, b, ledger.MAC(e.ledgerKey, b), l.RequestID, now)
		}
		if _, err := e.db.ExecContext(ctx, "INSERT INTO lgpd_ledger_pending (leaf, mac, request_id, created_at) VALUES "+ //nolint:gosec // G202: only placeholders are concatenated; every value is a bound parameter
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", k), ", "), args...); err != nil {
			return fmt.Errorf("fill the ledger: %w", err)
		}
		done += k
		if done%100_000 < chunk || done == want {
			if err := e.integrateAll(ctx); err != nil {
				return err
			}
			e.progress("ledger: %d leaves", done)
		}
	}
	return nil
}

// integrateAll integrates until nothing is pending (the server's sequencer
// may take some of the batches meanwhile).
func (e *Env) integrateAll(ctx context.Context) error {
	s := e.tenant.Store
	for {
		if _, err := s.Integrate(ctx); err != nil {
			return fmt.Errorf("integrate: %w", err)
		}
		n, err := s.PendingLeaves(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// readLedger reads every entry and node, as verify does, computing nothing.
// It returns the number of entries.
func (e *Env) readLedger(ctx context.Context) (int64, error) {
	n, err := e.scanAll(ctx, "SELECT seq, leaf, leaf_hash, mac FROM lgpd_ledger_entries ORDER BY seq")
	if err != nil {
		return 0, err
	}
	if _, err := e.scanAll(ctx, "SELECT seq, level, hash FROM lgpd_ledger_nodes ORDER BY seq, level"); err != nil {
		return 0, err
	}
	return n, nil
}

// scanAll reads every row of q into raw bytes and returns how many it read.
func (e *Env) scanAll(ctx context.Context, q string) (int64, error) {
	rows, err := e.db.QueryContext(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		n++
	}
	return n, rows.Err()
}
