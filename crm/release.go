package crm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/internal/sqlq"
)

// ReleasePlan is how the sweep anonymizes a blocked row once its hold has
// ended: the row an ANONYMIZE had to leave as it was, or a row a DELETE
// kept that other rows still reference. The fields are an ANONYMIZE's (the
// map's comment: after the hold, every field with an anonymizer changes,
// `keep` excepted), but an entity the map cannot anonymize is refused on
// its own, where an ANONYMIZE refuses the whole map: one bad entity must
// not stop the others' releases.
type ReleasePlan struct {
	p *AnonymizePlan
	// refused names, per entity, the fields that would keep personal data;
	// their blocks stay open until the map is fixed.
	refused map[string]string
}

// ErrCannotAnonymize is returned for a row of an entity the data map cannot
// anonymize (or whose columns no longer fit its anonymizers): the row is
// left as it is, still blocked.
var ErrCannotAnonymize = errors.New("the data map cannot anonymize this entity")

// PlanRelease builds the sweep's plan for m.
func PlanRelease(m *datamap.Map, reg *anonymize.Registry) (*ReleasePlan, error) {
	p, refused, err := buildPlan(m, reg, false)
	if err != nil {
		return nil, err
	}
	rp := &ReleasePlan{p: p, refused: map[string]string{}}
	for i, r := range refused.Reasons {
		if rp.refused[r.Entity] != "" {
			rp.refused[r.Entity] += "; "
		}
		rp.refused[r.Entity] += refused.fields[i]
	}
	return rp, nil
}

// Refused reports why the plan cannot anonymize entity's rows (the fields,
// never data), or "" when it can.
func (rp *ReleasePlan) Refused(entity string) string { return rp.refused[entity] }

// Releaser anonymizes single rows, picked by key, in one transaction. Each
// titular's rows take the key the caller gives for them (a request key that
// does not outlive the sweep of that titular), and share one sink per key,
// so a value's collision redraws follow it across the titular's rows.
type Releaser struct {
	ctx     context.Context
	tx      Querier
	plan    *ReleasePlan
	now     time.Time
	run     map[string]*boundEntity
	bindErr error
	sinks   map[*anonymize.Key]*anonymizeSink
}

// Releaser starts anonymizing released rows in tx. The plan is bound to the
// live schema on first use.
func (x *Executor) Releaser(ctx context.Context, tx Querier, plan *ReleasePlan) *Releaser {
	return &Releaser{ctx: ctx, tx: tx, plan: plan, now: x.now(), sinks: map[*anonymize.Key]*anonymizeSink{}}
}

// AnonymizeRow anonymizes the row of e with rowKey (as lgpd_blocks holds
// it) under key, locking it. It reports whether the row exists and how many
// rows the server changed (RowsAffected: 0 when every value already was what
// the anonymizers give). A row of an entity the plan refuses fails with
// ErrCannotAnonymize and is not touched.
func (r *Releaser) AnonymizeRow(e *datamap.Entity, rowKey []any, key *anonymize.Key) (found bool, changed int64, err error) {
	if why := r.plan.Refused(e.Name); why != "" {
		return false, 0, fmt.Errorf("%w: %s", ErrCannotAnonymize, why)
	}
	if r.run == nil && r.bindErr == nil {
		schema, err := LoadSchema(r.ctx, r.tx)
		if err == nil {
			r.run, err = bindPlan(r.plan.p, schema)
		}
		if err != nil {
			r.bindErr = err
		}
	}
	if r.bindErr != nil {
		var refused *RefusedError
		if errors.As(r.bindErr, &refused) {
			return false, 0, fmt.Errorf("%w: %s", ErrCannotAnonymize, refused.Error())
		}
		return false, 0, r.bindErr
	}
	row, err := r.read(e, rowKey)
	if err != nil || row == nil {
		return false, 0, err
	}
	be := r.run[e.Name]
	if be == nil || be.writer == nil {
		return true, 0, nil // no field to anonymize: nothing personal left
	}
	sink := r.sinks[key]
	if sink == nil {
		sink = newAnonymizeSink(r.ctx, r.tx, key, r.now, r.run)
		r.sinks[key] = sink
	}
	before := be.writer.rowsAffected
	if _, err := sink.anonymizeRows(e, []keyedRow{*row}); err != nil {
		return true, 0, fmt.Errorf("anonymize released %s row: %w", e.Name, err)
	}
	return true, be.writer.rowsAffected - before, nil
}

// read locks and reads the row of e with key: its key as the server gives
// it and its values aligned with e.Fields. It returns nil when the row is
// gone.
func (r *Releaser) read(e *datamap.Entity, key []any) (*keyedRow, error) {
	cols := append([]string(nil), e.Key...)
	for _, f := range e.Fields {
		cols = append(cols, f.Column)
	}
	rows, err := r.tx.QueryContext(r.ctx, "SELECT "+sqlq.JoinQuoted(cols)+" FROM "+sqlq.QuoteIdent(e.Table)+
		" WHERE "+keyWhere(e)+" FOR UPDATE", key...)
	if err != nil {
		return nil, fmt.Errorf("read released %s row: %w", e.Name, err)
	}
	var out *keyedRow
	err = eachRow(rows, func(row []any) error {
		out = &keyedRow{key: row[:len(e.Key)], values: row[len(e.Key):]}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read released %s row: %w", e.Name, err)
	}
	return out, nil
}
