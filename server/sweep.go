package server

import (
	"context"
	"fmt"

	"github.com/titular/titular/service"
	"github.com/titular/titular/tenant"
)

// Sweep erases (or with dry counts) an open tenant's rows whose retention
// hold has ended, completes the erasure of titulares left with nothing
// held, clears consent evidence kept as proof past its time, and reports
// each with printf. It is the server's sweep job and `titular sweep`.
func Sweep(ctx context.Context, t *tenant.Tenant, dry bool, printf func(string, ...any)) error {
	id := t.Config.ID
	counts, err := service.SweepHolds(ctx, t.Store, t.Map, dry)
	if err != nil {
		return fmt.Errorf("tenant %s: sweep: %w", id, err)
	}
	completed, err := service.CompleteErasures(ctx, t.Store, t.Map, dry)
	if err != nil {
		return fmt.Errorf("tenant %s: complete erasures: %w", id, err)
	}
	evidence, err := t.Store.SweepConsentEvidence(ctx, dry)
	if err != nil {
		return fmt.Errorf("tenant %s: sweep consent evidence: %w", id, err)
	}
	verb, cleared, complete := "erased", "cleared", "completed"
	if dry {
		verb, cleared, complete = "would erase (dry run)", "would clear (dry run)", "would complete (dry run)"
	}
	if len(counts) == 0 && completed == 0 && evidence == 0 {
		printf("tenant %s: no blocked rows or kept consent evidence are due\n", id)
	}
	if completed > 0 {
		printf("tenant %s: erasures of titulares whose last held row is gone: %s %d\n", id, complete, completed)
	}
	if evidence > 0 {
		printf("tenant %s: consent evidence kept as proof: %s on %d record(s)\n", id, cleared, evidence)
	}
	for _, c := range counts {
		n := c.Erased
		if dry {
			n = c.Due
		}
		printf("tenant %s: %-24s due %6d  %s %6d  still referenced %6d\n", id, c.Entity, c.Due, verb, n, c.Kept)
	}
	return nil
}
