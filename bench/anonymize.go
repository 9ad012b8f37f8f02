package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/seed"
)

func anonymizeHeavyScenario() Scenario {
	return Scenario{
		Name: "anonymize-heavy",
		About: "ANONYMIZE of the heavy titular (corretor_pesado): the executor as the worker runs it " +
			"vs the same rows read by key and the same new values written with multi-row UPDATEs on one connection",
		Run: func(ctx context.Context, env *Env) ([]Result, error) {
			ids, err := env.subject(seed.ScenarioHeavyBroker)
			if err != nil {
				return nil, err
			}
			t := env.tenant
			plan, err := crm.PlanAnonymize(t.Map, t.Anonymizers)
			if err != nil {
				return nil, fmt.Errorf("anonymize plan: %w", err)
			}
			// One request key for both variants, so they write the same values.
			key, err := anonymize.NewRequestKey()
			if err != nil {
				return nil, err
			}
			env.progress("anonymize-heavy: capturing what ANONYMIZE writes, for the baseline")
			writes, err := crm.New(t.Store.Now).CaptureAnonymizeWrites(ctx, env.db, plan, key, ids)
			if err != nil {
				return nil, err
			}
			if writes.Rows() < int64(env.opts.Heavy) {
				return nil, fmt.Errorf("ANONYMIZE changes %d rows, fewer than the heavy titular's %d", writes.Rows(), env.opts.Heavy)
			}
			// Every operation is rolled back after it, untimed, so each run
			// starts from the same rows.
			var open *sql.Tx
			undo := func(context.Context) error {
				tx := open
				open = nil
				if tx == nil {
					return nil
				}
				return tx.Rollback()
			}
			return compare(ctx, env, comparison{
				scenario: "anonymize-heavy",
				variants: []variant{
					{name: "baseline", what: "read the rows by key and write the captured values with multi-row UPDATEs, one transaction on one connection",
						after: undo, op: func(ctx context.Context) (int64, error) {
							tx, err := env.db.BeginTx(ctx, nil)
							if err != nil {
								return 0, err
							}
							open = tx
							return writes.Rows(), writes.Replay(ctx, tx)
						}},
					{name: "titular", what: "store.AnonymizeSubject as the worker runs it: snapshot read, data-map walk, anonymizers, batched UPDATEs",
						after: undo, op: func(ctx context.Context) (int64, error) {
							read, err := env.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
							if err != nil {
								return 0, err
							}
							defer read.Rollback() //nolint:errcheck // read-only
							tx, err := env.db.BeginTx(ctx, nil)
							if err != nil {
								return 0, err
							}
							open = tx
							res, err := crm.New(t.Store.Now).Anonymize(ctx, read, tx, plan, key, ids)
							if err != nil {
								return 0, err
							}
							if res.TotalRows != writes.Rows() {
								return 0, errors.New("ANONYMIZE changed another number of rows than the captured baseline writes")
							}
							return res.TotalRows, nil
						}},
				},
				ratio: speedRatio, ratioMeans: "rows/s relative to the baseline: baseline median time / titular median time",
				goal: goal{text: "ratio ≥ 0.7, peak RSS < 64 MiB", met: func(r Result) bool {
					return r.Ratio >= 0.7 && r.PeakRSSMiB >= 0 && r.PeakRSSMiB < 64
				}},
			})
		},
	}
}
