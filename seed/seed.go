// Package seed creates the demo real-estate CRM schema (LGPD.md "Demo
// tenant") and fills it with synthetic, Brazilian-looking titulares: valid
// but fake CPFs, e-mails at reserved domains only, +55 phones, identifiers
// stored in mixed shapes that differ between the copies a CRM keeps, and the
// fixed scenarios of LGPD.md "Seed scenarios" that tests and demos rely on.
//
// The same Seed and Subjects always produce the same rows.
package seed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Options tunes a seeding run.
type Options struct {
	// Subjects is the number of titulares: pessoas plus people who exist
	// only as leads. Default 2000; at least 20, so every scenario fits.
	Subjects int
	// Seed makes the run reproducible: the same Seed and Subjects give
	// identical rows.
	Seed int64
	// HeavyInteractions, when > 0, adds the scenario "corretor_pesado": one
	// broker with this many lead_interacoes rows.
	HeavyInteractions int
	// Reset drops and recreates the fourteen demo tables first. Without it,
	// seeding tables that already hold rows fails with ErrNotEmpty.
	Reset bool
	// Progress receives progress lines ("seed: titulares 40000/100000
	// (12s)"); nil is silent.
	Progress io.Writer
}

// Scenario is one fixed titular of LGPD.md "Seed scenarios" and the
// identifiers to look them up by (normalized; Email and Phone are empty when
// the titular has none, e.g. a minor).
type Scenario struct {
	Name  string
	CPF   string // 11 digits
	Email string // lower-case
	Phone string // E.164
	// FullName is the person's name as the CRM's main record spells it;
	// tests check it never reaches a log.
	FullName string
	Note     string // what the scenario holds, in English, for tests and demo output
}

// Summary reports what a run wrote.
type Summary struct {
	Subjects  int
	Rows      map[string]int64 // table -> rows inserted
	Scenarios []Scenario
	Elapsed   time.Duration
}

// ErrNotEmpty means the demo tables already hold rows and Reset was not set.
var ErrNotEmpty = errors.New("seed: the demo tables already hold rows; pass --reset to drop and recreate them")

const (
	defaultSubjects = 2000
	// minSubjects leaves room for the fixed scenarios (11 titulares) and
	// a few random ones.
	minSubjects = 20
)

// Seed creates the demo schema and fills it. It refuses (ErrNotEmpty) to add
// to tables that already hold rows unless opts.Reset is set.
func Seed(ctx context.Context, db *sql.DB, opts Options) (*Summary, error) {
	start := time.Now()
	if opts.Subjects == 0 {
		opts.Subjects = defaultSubjects
	}
	if opts.Subjects < minSubjects {
		return nil, fmt.Errorf("seed: %d subjects is too few: at least %d are needed for the fixed scenarios", opts.Subjects, minSubjects)
	}
	if opts.HeavyInteractions < 0 {
		return nil, fmt.Errorf("seed: heavy interactions must not be negative (got %d)", opts.HeavyInteractions)
	}
	if err := CreateSchema(ctx, db, opts.Reset); err != nil {
		return nil, err
	}
	if !opts.Reset {
		name, err := nonEmptyTable(ctx, db)
		if err != nil {
			return nil, err
		}
		if name != "" {
			return nil, fmt.Errorf("%w (table %s is not empty)", ErrNotEmpty, name)
		}
	}
	l, err := startLoader(ctx, db)
	if err != nil {
		return nil, err
	}
	g := &gen{
		// Seeded on purpose, the same seed giving the same data; the stream
		// constant spells "titular".
		rng:   rand.New(rand.NewPCG(uint64(opts.Seed), 0x7469747561726c)), //nolint:gosec // G404: synthetic data, reproducible by design
		out:   l,
		opts:  opts,
		left:  opts.Subjects,
		start: start,
	}
	g.ids = newIdentities(g.rng)
	if err := l.finish(g.run()); err != nil {
		return nil, err
	}
	s := &Summary{
		Subjects:  opts.Subjects,
		Rows:      make(map[string]int64, numTables),
		Scenarios: g.scenarios,
		Elapsed:   time.Since(start),
	}
	for i, t := range tables {
		s.Rows[t.name] = l.counts[i]
	}
	g.report("seed: done, %d titulares (%s)\n", opts.Subjects, s.Elapsed.Round(time.Millisecond))
	return s, nil
}

// gen holds one run's generator state. It runs on one goroutine so the rows
// depend only on the seed, never on scheduling.
type gen struct {
	rng   *rand.Rand
	out   *loader
	ids   *identities
	opts  Options
	start time.Time

	next      [numTables]int64 // last key handed out per table
	emps      []emp
	agencies  []int64
	brokers   []int64
	terms     []term
	scenarios []Scenario

	left       int // titulares still to generate
	nextReport int
}

type emp struct {
	id    int64
	city  city
	units int // units created so far; numbers them
}

type term struct {
	id         int64
	finalidade string
	since      time.Time
}

// refDate is "today" for the synthetic data: fixed, so runs are reproducible
// whenever they happen.
var refDate = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)

func (g *gen) run() error {
	steps := []func() error{g.catalog, g.fixedScenarios, g.randomSubjects}
	if g.opts.HeavyInteractions > 0 {
		steps = append(steps, g.heavyBroker)
	}
	steps = append(steps, g.spareUnits)
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) randomSubjects() error {
	g.nextReport = g.reportStep()
	for g.left > 0 {
		if err := g.household(); err != nil {
			return err
		}
		if done := g.opts.Subjects - g.left; done >= g.nextReport {
			g.report("seed: titulares %d/%d (%s)\n", done, g.opts.Subjects, time.Since(g.start).Round(time.Second))
			g.nextReport += g.reportStep()
		}
	}
	return nil
}

func (g *gen) reportStep() int { return max(1000, g.opts.Subjects/10) }

func (g *gen) report(format string, args ...any) {
	if g.opts.Progress != nil {
		fmt.Fprintf(g.opts.Progress, format, args...)
	}
}

// id hands out the next primary key of a table: keys are assigned here, not
// by AUTO_INCREMENT, so foreign keys are known before any row is written.
func (g *gen) id(table int) int64 {
	g.next[table]++
	return g.next[table]
}

// subject accounts for one titular; scenario and household code call it for
// every pessoa and every lead-only person.
func (g *gen) subject() { g.left-- }
