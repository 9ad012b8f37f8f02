package service

import (
	"context"
	"errors"
	"time"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/store"
)

// SweepOptions say how a sweep runs.
type SweepOptions struct {
	// DryRun runs the very sweep a real run does, in one transaction that
	// is rolled back: what it reports is what a run would do, changing
	// nothing (not the CRM, not titular's records, not the ledger).
	DryRun bool
	// AsOf, with DryRun only, runs the sweep as if the clock read AsOf: a
	// DPO sees what a future date would release. Zero means now.
	AsOf time.Time
}

// ErrAsOfNeedsDryRun refuses a real sweep at another date: a real sweep
// releases only what the law lets go today.
var ErrAsOfNeedsDryRun = errors.New("--as-of needs --dry-run: a real sweep only releases what is due now; run with --dry-run to see what that date would release")

// SweepCount is what a sweep did (or with DryRun would do) to one entity's
// blocked rows. Erased and Anonymized are rows the server changed
// (RowsAffected), not rows planned.
type SweepCount struct {
	Entity string `json:"entity"`
	// Due blocks had their hold ended (or were kept only for rows that may
	// now be gone) and were looked at.
	Due int64 `json:"due"`
	// Erased rows were deleted. Anonymized rows were anonymized in place:
	// those an ANONYMIZE had to leave as they were, and those a DELETE kept
	// that rows the sweep cannot delete still reference. Gone blocks were
	// released with nothing to change: their row had already left the CRM.
	Erased     int64 `json:"erased"`
	Anonymized int64 `json:"anonymized"`
	Gone       int64 `json:"gone"`
	// Held rows stay blocked: their hold still runs, or they are due but
	// still referenced while another hold of the titular runs, or the data
	// map cannot anonymize them (Refused says why, naming fields only).
	Held int64 `json:"held"`
	// NextRelease is the earliest date one of the Held rows' hold ends.
	NextRelease *time.Time `json:"next_release,omitempty"`
	Refused     string     `json:"refused,omitempty"`
}

// SweepReport is a sweep's outcome for one tenant.
type SweepReport struct {
	DryRun bool      `json:"dry_run"`
	AsOf   time.Time `json:"as_of"`
	// Entities, in map order, then entities the map no longer has.
	Entities []SweepCount `json:"entities"`
	// Completed titulares' erasures (CompleteErasures).
	Completed int `json:"completed"`
	// Evidence is how many consent records' kept evidence was cleared.
	Evidence int64 `json:"evidence"`
}

// Sweep releases the blocked rows whose retention hold has ended, completes
// the erasure of titulares left with nothing held, and clears consent
// evidence kept as proof past its time. A row a DELETE kept is deleted, or,
// when rows the sweep cannot delete still reference it and none of the
// titular's holds still runs, anonymized in place; a row an ANONYMIZE had
// to leave as it was is anonymized. Anonymization takes a key drawn for each
// titular (anonymize.NewRequestKey) that is dropped when the sweep ends:
// never the tenant's kept key, with which an output could be recomputed from
// a guessed CPF (pseudonymization, Art. 13). Each release is recorded with a
// ledger leaf in the transaction that changes the row.
//
// A real run commits batch by batch (store.SweepBatch). A dry run runs the
// same code over every batch in a single transaction and rolls it back, so
// its report cannot disagree with a run at the same moment; it holds the
// locks of what it looks at until it ends. The CRM's own tables must be
// transactional (InnoDB), as titular requires for every erasure anyway.
func Sweep(ctx context.Context, s *store.Store, m *datamap.Map, reg *anonymize.Registry, opts SweepOptions) (*SweepReport, error) {
	if !opts.AsOf.IsZero() {
		if !opts.DryRun {
			return nil, ErrAsOfNeedsDryRun
		}
		s = s.At(opts.AsOf.UTC())
	}
	plan, err := crm.PlanRelease(m, reg)
	if err != nil {
		return nil, err
	}
	sw := &sweeper{m: m, plan: plan, keys: map[string]*anonymize.Key{}}
	rep := &SweepReport{DryRun: opts.DryRun, AsOf: s.Now()}
	if opts.DryRun {
		err = s.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			// Counted afresh on every attempt: a deadlock reruns this.
			counts := map[string]*SweepCount{}
			*rep = SweepReport{DryRun: true, AsOf: rep.AsOf}
			for after := int64(0); ; {
				n, last, err := sw.batch(ctx, tx, after, counts)
				if err != nil {
					return err
				}
				if n < store.SweepBatch {
					break
				}
				after = last
			}
			refs, err := tx.ErasuresToComplete(ctx)
			if err != nil {
				return err
			}
			for _, ref := range refs {
				ok, err := completeErasure(ctx, tx, m, ref)
				if err != nil {
					return err
				}
				if ok {
					rep.Completed++
				}
			}
			if rep.Evidence, err = tx.SweepConsentEvidence(ctx); err != nil {
				return err
			}
			if err := sw.report(ctx, tx.Reads, counts, rep); err != nil {
				return err
			}
			return errRolledBack
		})
		if !errors.Is(err, errRolledBack) {
			return nil, err
		}
		return rep, nil
	}
	counts := map[string]*SweepCount{}
	for after := int64(0); ; {
		var n int
		var last int64
		var batch map[string]*SweepCount
		err := s.ReadWriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
			// Counted afresh on every attempt: a deadlock reruns this
			// function, and only the attempt that commits is reported.
			batch = map[string]*SweepCount{}
			var err error
			n, last, err = sw.batch(ctx, tx, after, batch)
			return err
		})
		if err != nil {
			return nil, err
		}
		for name, c := range batch {
			t := sweepEntry(counts, name)
			t.Due, t.Erased, t.Anonymized, t.Gone, t.Held = t.Due+c.Due, t.Erased+c.Erased, t.Anonymized+c.Anonymized, t.Gone+c.Gone, t.Held+c.Held
			if c.Refused != "" {
				t.Refused = c.Refused
			}
		}
		if n < store.SweepBatch {
			break
		}
		after = last
	}
	if rep.Completed, err = CompleteErasures(ctx, s, m, false); err != nil {
		return nil, err
	}
	if rep.Evidence, err = s.SweepConsentEvidence(ctx, false); err != nil {
		return nil, err
	}
	if err := sw.report(ctx, s.Reads, counts, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// errRolledBack ends a dry run's transaction: ReadWriteTx rolls back on any
// error, and this one is the dry run's success.
var errRolledBack = errors.New("dry run: rolled back")

// sweeper is one sweep of one tenant.
type sweeper struct {
	m    *datamap.Map
	plan *crm.ReleasePlan
	// keys holds each titular's anonymization key for this sweep only: the
	// same within the sweep (a CPF anonymizes alike across the titular's
	// rows), gone with it.
	keys map[string]*anonymize.Key
}

func (sw *sweeper) key(ref string) (*anonymize.Key, error) {
	if k := sw.keys[ref]; k != nil {
		return k, nil
	}
	k, err := anonymize.NewRequestKey()
	if err != nil {
		return nil, err
	}
	sw.keys[ref] = k
	return k, nil
}

// batch releases one batch of due blocks after id `after` in tx, adding
// what it did to counts. It returns how many blocks it looked at and the
// last one's id.
func (sw *sweeper) batch(ctx context.Context, tx *store.Tx, after int64, counts map[string]*SweepCount) (int, int64, error) {
	due, err := tx.DueBlocks(ctx, after)
	if err != nil || len(due) == 0 {
		return 0, 0, err
	}
	rel := crm.New(tx.Now).Releaser(ctx, tx.CRM(), sw.plan)
	anonymized := map[string]bool{}
	for _, b := range due {
		c := sweepEntry(counts, b.Entity)
		c.Due++
		as, n, refused, err := sw.release(ctx, tx, rel, b)
		if err != nil {
			return 0, 0, err
		}
		switch as {
		case "":
			c.Held++
			if refused != "" {
				c.Refused = refused
			}
			continue
		case store.ReleasedErased:
			c.Erased += n
		case store.ReleasedAnonymized:
			c.Anonymized += n
		case store.ReleasedGone:
			c.Gone++
		}
		if err := tx.ReleaseBlock(ctx, b, as); err != nil {
			return 0, 0, err
		}
		if b.Action == store.ActionAnonymize {
			anonymized[b.SubjectRef] = true
		}
	}
	for ref := range anonymized {
		if _, err := tx.ForgetAnonymized(ctx, ref); err != nil {
			return 0, 0, err
		}
	}
	return len(due), due[len(due)-1].ID, nil
}

// release decides and does what the sweep does to one due block's row:
// it returns the outcome (store.Released*, or "" to keep it blocked), the
// rows the server changed, and why the map could not anonymize it.
func (sw *sweeper) release(ctx context.Context, tx *store.Tx, rel *crm.Releaser, b store.Block) (string, int64, string, error) {
	e := sw.m.Entity(b.Entity)
	if e == nil {
		// The map no longer has the entity: keep the block for the DPO.
		return "", 0, "", nil
	}
	if b.Action == store.ActionDelete {
		// A row the CRM's SET NULL or CASCADE keys would change held or
		// unmapped rows through is not deleted: it counts as referenced.
		referenced, err := crm.KeptByFKAction(ctx, tx.CRM(), sw.m, e, b.Key, tx.Now())
		if err != nil {
			return "", 0, "", err
		}
		var n int64
		if !referenced {
			if n, referenced, err = crm.DeleteRow(ctx, tx.CRM(), e, b.Key); err != nil {
				return "", 0, "", err
			}
		}
		if !referenced {
			if n == 0 {
				return store.ReleasedGone, 0, "", nil
			}
			return store.ReleasedErased, n, "", nil
		}
		// Still referenced: by another titular's rows (a spouse's part in
		// the sale), or by a row of this titular whose hold still runs,
		// which the law keeps whole, this row with it.
		held, err := tx.SubjectStillHeld(ctx, b.SubjectRef)
		if err != nil || held {
			return "", 0, "", err
		}
	}
	key, err := sw.key(b.SubjectRef)
	if err != nil {
		return "", 0, "", err
	}
	found, n, err := rel.AnonymizeRow(e, b.Key, key)
	if errors.Is(err, crm.ErrCannotAnonymize) {
		return "", 0, err.Error(), nil
	}
	if err != nil {
		return "", 0, "", err
	}
	if !found {
		return store.ReleasedGone, 0, "", nil
	}
	return store.ReleasedAnonymized, n, "", nil
}

// report fills rep.Entities from counts and what stays held at the
// store's clock, in map order.
func (sw *sweeper) report(ctx context.Context, r store.Reads, counts map[string]*SweepCount, rep *SweepReport) error {
	held, err := r.StillHeld(ctx)
	if err != nil {
		return err
	}
	for _, h := range held {
		c := sweepEntry(counts, h.Entity)
		c.Held += h.Rows
		c.NextRelease = h.NextRelease
	}
	for _, e := range sw.m.Order() {
		if c := counts[e.Name]; c != nil {
			rep.Entities = append(rep.Entities, *c)
			delete(counts, e.Name)
		}
	}
	for _, c := range counts { // entities the map no longer has
		rep.Entities = append(rep.Entities, *c)
	}
	return nil
}

func sweepEntry(counts map[string]*SweepCount, entity string) *SweepCount {
	c := counts[entity]
	if c == nil {
		c = &SweepCount{Entity: entity}
		counts[entity] = c
	}
	return c
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
// dryRun each titular's completion is rolled back. It returns how many
// titulares were (or would be) completed. Sweep's dry run completes them
// in its own transaction, after the releases it would make.
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
			if ok, err = completeErasure(ctx, tx, m, ref); err == nil && ok && dryRun {
				return errRolledBack
			}
			return err
		})
		if err != nil && !errors.Is(err, errRolledBack) {
			return done, err
		}
		if ok {
			done++
		}
	}
	return done, nil
}

// completeErasure completes ref's erasure in tx when it is completable.
func completeErasure(ctx context.Context, tx *store.Tx, m *datamap.Map, ref string) (bool, error) {
	ok, err := erasureCompletable(ctx, tx, m, ref)
	if err != nil || !ok {
		return false, err
	}
	return true, tx.CompleteErasure(ctx, ref, m.ConsentEvidence)
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
