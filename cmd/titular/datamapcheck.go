package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/titular/titular/anonymize"
	"github.com/titular/titular/config"
	"github.com/titular/titular/crm"
	"github.com/titular/titular/datamap"
	"github.com/titular/titular/tenant"
)

func runDatamapCheck(ctx context.Context, args []string) error {
	cmd := newConfigCommand("datamap check")
	samples := cmd.fs.Int("samples", crm.DefaultFanOutSamples,
		fmt.Sprintf("titulares sampled per root entity to find requests that reach other people's rows (at most %d)", crm.MaxFanOutSamples))
	cfg, log, err := cmd.load(args)
	if err != nil {
		return err
	}
	if *samples < 1 || *samples > crm.MaxFanOutSamples {
		return fmt.Errorf("--samples %d: use 1 to %d", *samples, crm.MaxFanOutSamples)
	}
	failed := 0
	for _, tc := range cfg.Tenants {
		if err := checkTenantMap(ctx, tc.ID, tc.Datamap, func() (*datamap.Schema, error) {
			db, err := tenant.Open(ctx, tc)
			if err != nil {
				return nil, err
			}
			defer func() { _ = db.Close() }()
			return crm.LoadSchema(ctx, db)
		}); err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "tenant %s: data map %s has problems:\n%v\n", tc.ID, tc.Datamap, err)
			continue
		}
		log.Debug("checking what requests reach", "tenant", tc.ID)
		var warnings strings.Builder
		if err := checkTenantRows(ctx, tc, *samples, &warnings); err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "tenant %s: data map %s has problems with what requests would do to the CRM's rows:\n%v\n", tc.ID, tc.Datamap, err)
		} else {
			fmt.Printf("tenant %s: data map %s matches the live schema\n", tc.ID, tc.Datamap)
		}
		fmt.Fprint(os.Stderr, warnings.String())
		log.Debug("checking coverage", "tenant", tc.ID)
		warnCoverage(ctx, tc, os.Stderr)
		warnBasics(tc, os.Stderr)
		warnAnonymize(tc, os.Stderr)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d data maps have problems; fix what each lists and run titular datamap check again", failed, len(cfg.Tenants))
	}
	return nil
}

func checkTenantMap(_ context.Context, id, path string, schema func() (*datamap.Schema, error)) error {
	// The built-in anonymizers: names, params and their fit to each column.
	m, err := datamap.Load(path, crm.DatamapOptions(anonymize.NewRegistry())...)
	if err != nil {
		return err
	}
	s, err := schema()
	if err != nil {
		return fmt.Errorf("tenant %s: read schema: %w", id, err)
	}
	if len(s.Tables) == 0 {
		return errors.New("the tenant database has no tables; seed it or check the DSN")
	}
	return m.CheckSchema(s)
}

// checkTenantRows runs the checks that need the CRM's rows and foreign
// keys, on a map that fits the schema: requests that reach other people's
// rows (fan-out) and foreign-key actions a DELETE would fire into held rows.
// It writes the warnings it finds to w and returns the problems.
func checkTenantRows(ctx context.Context, tc config.Tenant, samples int, w io.Writer) error {
	m, db, err := openTenantMap(ctx, tc)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	var probs datamap.Problems
	fan, err := fanOutProblems(ctx, db, m, samples, tc.ID, w)
	if err != nil {
		return err
	}
	probs = append(probs, fan...)
	fk, err := fkActionProblems(ctx, db, m, tc.ID, w)
	if err != nil {
		return err
	}
	probs = append(probs, fk...)
	return probs.AsError()
}

// warnBasics names the entities without a purpose or a legal basis, in one
// line: a draft from datamap discover leaves them all empty.
func warnBasics(tc config.Tenant, w io.Writer) {
	m, err := datamap.Load(tc.Datamap)
	if err != nil {
		return // the check reported it
	}
	if missing := datamap.MissingBasics(m); len(missing) > 0 {
		fmt.Fprintf(w, "tenant %s: warning: fill in purpose and legal_basis for %d entities: %s "+
			"(LGPD Art. 9 and 37: an EXTRACT tells the titular why each is processed)\n", tc.ID, len(missing), joinList(missing, 12))
	}
	for _, msg := range unnamedPurposeWarnings(tc.Datamap) {
		fmt.Fprintf(w, "tenant %s: warning: %s\n", tc.ID, msg)
	}
}

// warnAnonymize runs the planning an ANONYMIZE request runs and prints why
// it would refuse this map.
func warnAnonymize(tc config.Tenant, w io.Writer) {
	reg := anonymize.NewRegistry()
	m, err := datamap.Load(tc.Datamap, crm.DatamapOptions(reg)...)
	if err != nil {
		return // the check reported it
	}
	var refused *crm.RefusedError
	if _, err := crm.PlanAnonymize(m, reg); errors.As(err, &refused) {
		fmt.Fprintf(w, "tenant %s: warning: ANONYMIZE requests would be refused: %v (fix: give each personal field an irreversible anonymizer "+
			"such as fake.*, nullify, redact or generalize.*, or map it as category: contexto if it is not personal)\n", tc.ID, err)
	} else if err != nil {
		fmt.Fprintf(w, "tenant %s: warning: could not plan an ANONYMIZE: %v\n", tc.ID, err)
	}
}

// joinList joins names with ", ", the first limit of them and a count of
// the rest.
func joinList(names []string, limit int) string {
	if len(names) <= limit {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:limit], ", "), len(names)-limit)
}
