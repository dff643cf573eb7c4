package validation

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// ScoreEntry is one judged scenario of a target, for the scorecard.
type ScoreEntry struct {
	Regime, Scenario string
	Comparison       Comparison
}

// ScoreLine is one regime of a target's scorecard: the worst judged signed error per
// metric over its scenarios, whether every one of them passed, and why a statistic
// or scenario is not trusted (reported-only reasons, failures, problems).
type ScoreLine struct {
	Regime    string
	Scenarios []string
	// Worst holds, per judged metric (JudgedMetrics order), the judged row with the
	// largest |error| relative to its judged-at bound; ok is false when none was judged.
	Worst   [4]Row
	HasRow  [4]bool
	Trusted bool
	Why     []string
}

// Scorecard groups entries by regime, in first-seen order.
func Scorecard(entries []ScoreEntry) []ScoreLine {
	var lines []ScoreLine
	index := map[string]int{}
	for _, e := range entries {
		i, ok := index[e.Regime]
		if !ok {
			i = len(lines)
			index[e.Regime] = i
			lines = append(lines, ScoreLine{Regime: e.Regime, Trusted: true})
		}
		l := &lines[i]
		l.Scenarios = append(l.Scenarios, e.Scenario)
		c := e.Comparison
		if !c.Pass() {
			l.Trusted = false
			l.Why = append(l.Why, fmt.Sprintf("%s fails its bounds", e.Scenario))
		}
		for _, p := range c.Problems {
			l.Why = append(l.Why, e.Scenario+": "+p)
		}
		for _, r := range c.Checks {
			if !r.Gated {
				l.Why = append(l.Why, fmt.Sprintf("%s %s %s not judged: %s", e.Scenario, r.Metric, r.Stat, r.Why))
				continue
			}
			k := metricIndex(r.Metric)
			if k < 0 {
				continue
			}
			if !l.HasRow[k] || math.Abs(r.RelErr)/r.Effective > math.Abs(l.Worst[k].RelErr)/l.Worst[k].Effective {
				l.Worst[k], l.HasRow[k] = r, true
			}
		}
	}
	for i := range lines {
		lines[i].Why = dedupe(lines[i].Why)
	}
	return lines
}

func metricIndex(m Metric) int {
	for i, x := range JudgedMetrics {
		if x == m {
			return i
		}
	}
	return -1
}

// WriteScorecard writes a target's scorecard as a Markdown table: per regime, the worst
// judged error of each metric (statistic, error, judged-at bound) and whether the
// simulator is trusted there, with the reasons below the table.
func WriteScorecard(w io.Writer, target string, lines []ScoreLine) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Scorecard: %s\n\nWorst judged error per metric (statistic, signed error / judged-at bound).\n\n", target)
	b.WriteString("| regime | scenarios | ttft | itl | tpot | e2e | trusted |\n|---|---|---|---|---|---|---|\n")
	for _, l := range lines {
		cells := make([]string, 4)
		for k := range cells {
			if !l.HasRow[k] {
				cells[k] = "not judged"
				continue
			}
			r := l.Worst[k]
			cells[k] = fmt.Sprintf("%s %s / %s", r.Stat, errPct(r.RelErr), pct(r.Effective))
		}
		trusted := "yes"
		if !l.Trusted {
			trusted = "no"
		} else if len(l.Why) > 0 {
			trusted = "yes, with statistics not judged"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", l.Regime, strings.Join(l.Scenarios, ", "),
			cells[0], cells[1], cells[2], cells[3], trusted)
	}
	var why []string
	for _, l := range lines {
		for _, y := range l.Why {
			why = append(why, l.Regime+": "+y)
		}
	}
	writeList(&b, "Where the scorecard is not trusted, and why", why)
	_, err := io.WriteString(w, b.String())
	return err
}
