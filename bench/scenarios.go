package bench

import (
	"context"
	"fmt"
	"strings"
)

// Scenario is one thing titular does, measured against a baseline.
type Scenario struct {
	// Name is what --scenario selects, e.g. "extract-json".
	Name string
	// About says in one line what is timed and against what.
	About string
	// Run measures the scenario on env, usually through compare, and
	// returns one Result per variant (titular's and the baseline's).
	Run func(ctx context.Context, env *Env) ([]Result, error)
}

// All lists the scenarios in the order they run.
//
// Extension point: a new scenario is a function returning a Scenario in its
// own file, added to this list. It gets the seeded database, the running
// server, the tenant as titular opens it and API clients from Env, and
// compare runs its variants with warm-up, interleaved runs, percentiles,
// peak RSS and the ratio.
func All() []Scenario {
	return []Scenario{
		extractJSONScenario(),
		extractXLSXHeavyScenario(),
		concurrentScenario(),
		consentScenario(),
		anonymizeHeavyScenario(),
		ledgerAppendScenario(),
		ledgerVerifyScenario(),
		ledgerProofScenario(),
	}
}

// Select returns the named scenarios in All's order, or all of them when
// names is empty.
func Select(names []string) ([]Scenario, error) {
	all := All()
	if len(names) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[strings.TrimSpace(n)] = true
	}
	var out []Scenario
	for _, s := range all {
		// A group name selects its scenarios: "ledger" is ledger-append,
		// ledger-verify and ledger-proof.
		group, _, _ := strings.Cut(s.Name, "-")
		if want[s.Name] || (group != s.Name && want[group]) {
			out = append(out, s)
		}
	}
	for n := range want {
		for _, s := range all {
			if group, _, _ := strings.Cut(s.Name, "-"); s.Name == n || group == n {
				delete(want, n)
			}
		}
	}
	for n := range want {
		known := make([]string, len(all))
		for i, s := range all {
			known[i] = s.Name
		}
		return nil, fmt.Errorf("bench: no scenario %q; known: %s", n, strings.Join(known, ", "))
	}
	return out, nil
}
