// Package suitetest is the suite's `go test` harness: it runs a System on a catalog
// scenario as subtests, with golden files. It holds everything that imports `testing`
// and goldie, so that package suite (the evaluating library, also linked into the
// simval binary) imports neither and the binary registers no test flags.
package suitetest

import (
	"context"
	"strings"
	"testing"

	"github.com/simval/simval/golden"
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/suite"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

// RealSource gives the real runs a system is judged against for a scenario on a
// target, or nil with a reason when there are none (suite.RecordedBaselines is one).
type RealSource func(sc *scenarios.Scenario, tgt *targets.Target) (*suite.Real, string, error)

// RunScenario runs sys on the named catalog scenario for every target it can
// predict, as subtests named by target: invariants, the golden summary (exactly, when
// withGolden), and the comparison with real runs from src within the scenario's
// bounds. A target without real runs says so in the log; nothing is skipped silently.
func RunScenario(t *testing.T, name string, sys suite.System, src RealSource, withGolden bool) {
	t.Helper()
	sc, err := scenarios.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	all, err := targets.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, tgt := range all {
		t.Run(tgt.Name, func(t *testing.T) {
			if tgt.Profile == "" {
				t.Skipf("target %s has no profile bundle: nothing to simulate it from", tgt.Name)
			}
			var real *suite.Real
			if src != nil {
				r, why, err := src(sc, tgt)
				if err != nil {
					t.Fatalf("real runs for %s on %s: %v", sc.Name, tgt.Name, err)
				}
				if r == nil {
					t.Logf("no real runs for %s on %s: %s (judged on invariants and golden only)", sc.Name, tgt.Name, why)
				}
				real = r
			}
			ev, err := suite.Evaluate(context.Background(), sc, tgt, sys, real)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ev.Invariants {
				t.Errorf("invariant: %v", e)
			}
			if withGolden {
				golden.AssertJSON(t, sc.Name, tgt.Name+".json", ev.Golden())
			}
			if ev.Comparison != nil {
				t.Attr("worst", worst(ev.Comparison))
				if !ev.Comparison.Pass() {
					var b strings.Builder
					_ = validation.WriteMarkdown(&b, *ev.Report)
					t.Errorf("%s on %s is out of bounds against %s:\n%s", sys.Name(), tgt.Name, ev.Real.Source, b.String())
				}
			}
		})
	}
}

func worst(c *validation.Comparison) string {
	r, ok := c.Worst()
	if !ok {
		return "none"
	}
	return string(r.Metric) + " " + string(r.Stat)
}
