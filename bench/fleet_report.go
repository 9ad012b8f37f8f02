package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Figure is one measured quantity that is not a timed comparison with a
// baseline: the fleet scenario's start times, idle costs, latencies and
// rates, each in its own unit and next to its goal where there is one.
type Figure struct {
	Scenario string  `json:"scenario"`
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	// Samples is how many measurements the value summarizes (a median or
	// percentile over them); 1 for a single measurement.
	Samples int    `json:"samples"`
	How     string `json:"how"`
	Goal    string `json:"goal,omitempty"`
	GoalMet *bool  `json:"goal_met,omitempty"`
}

// figure starts a Figure of the fleet scenario.
func figure(name string, value float64, unit string, samples int, how string) Figure {
	return Figure{Scenario: "fleet", Name: name, Value: value, Unit: unit, Samples: samples, How: how}
}

// withGoal holds the figure to a target.
func (x Figure) withGoal(text string, met bool) Figure {
	x.Goal, x.GoalMet = text, &met
	return x
}

// writeFigures writes the figures as a table, then how each was measured.
func writeFigures(w io.Writer, figs []Figure) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tfigure\tvalue\tunit\tsamples\tgoal\t")
	for _, x := range figs {
		g := "-"
		if x.GoalMet != nil {
			g = x.Goal + map[bool]string{true: " met", false: " MISSED"}[*x.GoalMet]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t\n", x.Scenario, x.Name, figureValue(x.Value), x.Unit, x.Samples, g)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, x := range figs {
		fmt.Fprintf(w, "%s/%s: %s\n", x.Scenario, x.Name, x.How)
	}
	return nil
}

// figureValue prints three significant digits or so, without exponents.
func figureValue(v float64) string {
	switch {
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10 || v <= -10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
