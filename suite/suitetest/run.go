// Package suitetest is the suite's `go test` harness: it runs a System on a catalog
// scenario as subtests, with golden files. It holds everything that imports `testing`
// and goldie, so that package suite (the evaluating library, also linked into the
// simval binary) imports neither and the binary registers no test flags.
package suitetest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simval/simval/golden"
	"github.com/simval/simval/internal/catalogdirs"
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
		t.Error(err) // the targets that loaded still run
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
				assertGolden(t, sc, tgt, ev.Golden())
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

// assertGolden compares a golden summary with its file: in the package's testdata for
// the embedded catalog; in DIR/golden/<scenario>/<target>.json when the scenario (or,
// failing that, the target) comes from a user catalog folder DIR. A user's golden that
// does not exist yet is logged, not failed: a scenario brought along is judged against
// its baselines first, and GOLDIE_UPDATE=1 writes the golden to pin it from then on.
func assertGolden(t *testing.T, sc *scenarios.Scenario, tgt *targets.Target, g suite.GoldenSummary) {
	t.Helper()
	dir := sc.CatalogDir()
	if dir == "" {
		dir = tgt.UserDir()
	}
	if dir == "" {
		golden.AssertJSON(t, sc.Name, tgt.Name+".json", g)
		return
	}
	at := filepath.Join(dir, catalogdirs.Golden, sc.Name)
	if _, err := os.Stat(filepath.Join(at, tgt.Name+".json")); errors.Is(err, fs.ErrNotExist) && !golden.Updating() {
		t.Logf("golden not checked: %s does not exist (GOLDIE_UPDATE=1 go test writes it)", filepath.Join(at, tgt.Name+".json"))
		return
	}
	golden.AssertJSONAt(t, at, tgt.Name+".json", g)
}
