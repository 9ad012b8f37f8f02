package service

import (
	"context"

	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store"
)

// SweepCount is what a sweep did (or would do) to one entity's blocked rows.
type SweepCount struct {
	Entity string `json:"entity"`
	// Due rows' hold has ended (or they were kept only for rows now gone).
	Due int64 `json:"due"`
	// Erased rows were deleted; Kept rows are still referenced by held rows.
	Erased int64 `json:"erased"`
	Kept   int64 `json:"kept"`
}

// SweepHolds erases blocked rows whose retention hold has ended, and rows
// that were kept only because held rows referenced them once those are
// gone. Each batch commits on its own, the CRM's rows with the records of
// their release; a row still referenced stays blocked. Children's blocks
// come before their parents' in id order (DELETE blocks children first), so
// one pass frees a whole titular once every hold has ended. With dryRun it
// only counts what is due.
func SweepHolds(ctx context.Context, s *store.Store, m *datamap.Map, dryRun bool) ([]SweepCount, error) {
	total := map[string]*SweepCount{}
	var after int64
	for {
		var due []store.Block
		var batch map[string]*SweepCount
		err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			// Counted afresh on every attempt: a deadlock reruns this
			// function, and only the attempt that commits is reported.
			batch = map[string]*SweepCount{}
			var err error
			if due, err = tx.DueBlocks(ctx, after, !dryRun); err != nil || dryRun {
				return err
			}
			return releaseBlocks(ctx, tx, m, due, batch)
		})
		if err != nil {
			return nil, err
		}
		if dryRun {
			for _, b := range due {
				sweepEntry(batch, b.Entity).Due++
			}
		}
		for name, c := range batch {
			t := sweepEntry(total, name)
			t.Due, t.Erased, t.Kept = t.Due+c.Due, t.Erased+c.Erased, t.Kept+c.Kept
		}
		if len(due) < store.SweepBatch {
			break
		}
		after = due[len(due)-1].ID
	}
	var out []SweepCount
	for _, e := range m.Order() {
		if c := total[e.Name]; c != nil {
			out = append(out, *c)
		}
	}
	return out, nil
}

func sweepEntry(counts map[string]*SweepCount, entity string) *SweepCount {
	c := counts[entity]
	if c == nil {
		c = &SweepCount{Entity: entity}
		counts[entity] = c
	}
	return c
}

// releaseBlocks deletes each due row in tx and records its release.
func releaseBlocks(ctx context.Context, tx *store.Tx, m *datamap.Map, due []store.Block, counts map[string]*SweepCount) error {
	for _, b := range due {
		c := sweepEntry(counts, b.Entity)
		c.Due++
		e := m.Entity(b.Entity)
		if e == nil {
			// The map no longer has the entity: keep the block for the DPO.
			c.Kept++
			continue
		}
		// A row the CRM's SET NULL or CASCADE keys would change held or
		// unmapped rows through stays, as a referenced one does.
		kept, err := crm.KeptByFKAction(ctx, tx.CRM(), m, e, b.Key, tx.Now())
		if err != nil {
			return err
		}
		if kept {
			c.Kept++
			continue
		}
		ok, err := crm.DeleteRow(ctx, tx.CRM(), e, b.Key)
		if err != nil {
			return err
		}
		if !ok {
			c.Kept++
			continue
		}
		if err := tx.ReleaseBlock(ctx, b.ID); err != nil {
			return err
		}
		c.Erased++
	}
	return nil
}

// CompleteErasures finishes what a partial DELETE left for later. A DELETE
// that blocked held rows keeps the titular's identifiers (their requests'
// subject, the subject index) and consent evidence while those rows remain;
// once the sweep has released the last of them, this does what a complete
// DELETE does at once: requests lose their identifiers, the subject index
// forgets them, consent evidence goes (or stays as proof under the map's
// consent_evidence retention), and a ledger leaf records it. A titular who
// came back is left alone: one who recorded a CONSENT after their DELETE
// (consent records are data about them), or whom the map still reaches (new
// rows in the CRM); so is one with a request still to run. A CONFIRM or
// EXTRACT after the DELETE found nothing to keep and does not stop it. With
// dryRun it only counts. It returns how many titulares were (or would be)
// completed.
func CompleteErasures(ctx context.Context, s *store.Store, m *datamap.Map, dryRun bool) (int, error) {
	refs, err := s.ErasuresToComplete(ctx)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, ref := range refs {
		var ok bool
		err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			var err error
			if ok, err = erasureCompletable(ctx, tx, m, ref); err != nil || !ok || dryRun {
				return err
			}
			return tx.CompleteErasure(ctx, ref, m.ConsentEvidence)
		})
		if err != nil {
			return done, err
		}
		if ok {
			done++
		}
	}
	return done, nil
}

// erasureCompletable is the records' rules (store's ErasureCompletable)
// and the CRM's: the map reaches no row of any identifier ref's requests
// named, read under lock so it stays so until tx commits.
func erasureCompletable(ctx context.Context, tx *store.Tx, m *datamap.Map, ref string) (bool, error) {
	ok, identifiers, err := tx.ErasureCompletable(ctx, ref)
	if err != nil || !ok {
		return false, err
	}
	for _, ids := range identifiers {
		reached, err := crm.Reaches(ctx, tx.CRM(), m, ids)
		if err != nil {
			return false, err
		}
		if reached {
			return false, nil // the CRM holds rows of theirs again
		}
	}
	return true, nil
}
