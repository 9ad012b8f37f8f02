package server

import (
	"context"
	"fmt"

	"github.com/titular/titular/service"
	"github.com/titular/titular/tenant"
)

// Sweep releases an open tenant's blocked rows whose retention hold has
// ended, completes the erasure of titulares left with nothing held, clears
// consent evidence kept as proof past its time (service.Sweep), and reports
// each with printf: per entity, what was (with DryRun, would be) erased,
// anonymized and is still held, with the next release date. It is the
// server's sweep job and `titular sweep`.
func Sweep(ctx context.Context, t *tenant.Tenant, opts service.SweepOptions, printf func(string, ...any)) error {
	id := t.Config.ID
	rep, err := service.Sweep(ctx, t.Store, t.Map, t.Anonymizers, opts)
	if err != nil {
		return fmt.Errorf("tenant %s: sweep: %w", id, err)
	}
	printSweep(id, rep, printf)
	return nil
}

// printSweep writes rep for a DPO: one line per entity and one per other
// outcome. Only counts, dates, entity and field names: no personal data.
func printSweep(id string, rep *service.SweepReport, printf func(string, ...any)) {
	prefix := "tenant " + id + ": "
	if rep.DryRun {
		prefix = fmt.Sprintf("tenant %s (dry run as of %s, nothing changed): ", id, rep.AsOf.Format("2006-01-02 15:04 MST"))
	}
	verb := map[bool][3]string{false: {"erased", "anonymized", "completed"}, true: {"would erase", "would anonymize", "would complete"}}[rep.DryRun]
	if len(rep.Entities) == 0 && rep.Completed == 0 && rep.Evidence == 0 {
		printf("%sno blocked rows or kept consent evidence\n", prefix)
	}
	for _, c := range rep.Entities {
		next := "-"
		if c.NextRelease != nil {
			next = c.NextRelease.Format("2006-01-02")
		}
		printf("%s%-24s %s %6d  %s %6d  already gone %6d  still held %6d  next release %s\n",
			prefix, c.Entity, verb[0], c.Erased, verb[1], c.Anonymized, c.Gone, c.Held, next)
		if c.Refused != "" {
			printf("%s%-24s kept blocked: %s; fix the data map and reload it\n", prefix, c.Entity, c.Refused)
		}
	}
	if rep.Completed > 0 {
		printf("%serasures of titulares whose last held row is gone: %s %d\n", prefix, verb[2], rep.Completed)
	}
	if rep.Evidence > 0 {
		cleared := "cleared"
		if rep.DryRun {
			cleared = "would clear"
		}
		printf("%sconsent evidence kept as proof: %s on %d record(s)\n", prefix, cleared, rep.Evidence)
	}
}
