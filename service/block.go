package service

import (
	"context"
	"strings"

	lgpdv1 "github.com/titular/titular/api/lgpd/v1"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// blockRowBatch bounds the blocked rows one statement records.
const blockRowBatch = 500

// block runs a BLOCK (Art. 18 IV) in one transaction: every row of the
// titular the data map reaches is recorded as suspended, by table and key
// (lgpd_subject_block_rows, for the CRM to join), and nothing in them
// changes. Sharing recipients are told to suspend too (subject.blocked,
// Art. 18 §6). The block holds until the DPO lifts it (LiftBlock).
func (w *Worker) block(ctx context.Context, t *tenant.Tenant, r *store.Request) error {
	return w.leased(ctx, t, r, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.RecordSubjectBlock(ctx, r.ID, r.SubjectRef); err != nil {
			return err
		}
		sink := &blockSink{ctx: ctx, tx: tx, requestID: r.ID}
		// Read in the transaction that records the block, which holds the
		// titular's lock: a DELETE or ANONYMIZE of the titular runs before
		// or after, never in between.
		counts, err := crm.WalkWith(ctx, tx.CRM(), t.Map, r.Subject, sink, crm.WalkOptions{})
		if err != nil {
			return err
		}
		if err := sink.flush(); err != nil {
			return err
		}
		res := &store.BlockResult{Entities: counts}
		for _, c := range counts {
			res.TotalRows += c.Rows
		}
		if err := propagate(ctx, t, tx, r, store.EventSubjectBlocked, map[string]any{
			"reason": "titular_request", "entities": touched(counts),
		}); err != nil {
			return err
		}
		return finish(ctx, tx, r, store.StatusCompleted, &store.Result{Block: res}, nil)
	})
}

// blockSink records each row the walk reaches by table and key; it never
// keeps the rows' values.
type blockSink struct {
	ctx       context.Context
	tx        *store.Tx
	requestID string
	e         *datamap.Entity
	pending   []store.SubjectBlockRow
}

func (s *blockSink) BeginEntity(e *datamap.Entity) error { s.e = e; return nil }

// Row is not called: blockSink is a KeyedSink.
func (s *blockSink) Row([]any) error { return nil }

func (s *blockSink) KeyedRow(key, _, _ []any) error {
	s.pending = append(s.pending, store.SubjectBlockRow{Entity: s.e.Name, Table: s.e.Table, RowKey: crm.RowKeyJSON(key)})
	if len(s.pending) >= blockRowBatch {
		return s.flush()
	}
	return nil
}

func (s *blockSink) EndEntity(*datamap.Entity, int64) error { return nil }

func (s *blockSink) flush() error {
	err := s.tx.AddSubjectBlockRows(s.ctx, s.requestID, s.pending)
	s.pending = s.pending[:0]
	return err
}

// LiftBlock ends the block a completed BLOCK request recorded: the DPO
// gives the reason, kept in the request's history; the ledger records the
// lift and sharing recipients are told (subject.unblocked), in one
// transaction.
func (s *Requests) LiftBlock(ctx context.Context, in *lgpdv1.LiftBlockRequest) (*lgpdv1.Request, error) {
	p, _ := PrincipalFrom(ctx)
	reason := strings.TrimSpace(in.GetReason())
	if reason == "" {
		return nil, invalid("REASON_REQUIRED", "reason is required: say why the block ends (e.g. the titular asked for it to be lifted, and where that is recorded)")
	}
	if err := historyText("reason", reason, 500, true); err != nil {
		return nil, err
	}
	out, err := s.transition(ctx, in.GetTenant(), in.GetId(), func(ctx context.Context, t *tenant.Tenant, tx *store.Tx) (*store.Request, error) {
		r, err := tx.LiftSubjectBlock(ctx, in.GetId(), p.Name, reason)
		if err != nil {
			return nil, err
		}
		if err := propagate(ctx, t, tx, r, store.EventSubjectUnblocked, map[string]any{"blocked_by": r.ID}); err != nil {
			return nil, err
		}
		return r, nil
	})
	return out, err
}

// withBlock adds, to a BLOCK request's result, when its block was lifted.
func withBlock(ctx context.Context, t *tenant.Tenant, r *store.Request, out *lgpdv1.Request) error {
	if r.Kind != store.KindBlock || out.GetResult().GetBlock() == nil {
		return nil
	}
	b, err := t.Store.SubjectBlock(ctx, r.ID)
	if err != nil {
		return err
	}
	if b.LiftedAt != nil {
		out.Result.Block.LiftedAt = ts(*b.LiftedAt)
	}
	return nil
}
