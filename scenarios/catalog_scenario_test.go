package scenarios_test

import (
	"testing"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/suite"
	"github.com/simval/simval/suite/suitetest"
)

// The catalog's scenarios as table-driven tests, one test per regime and one subtest
// per scenario (TestQueueFree/queue-free-spaced, TestBatched/poisson-moderate, …): a new
// YAML in the catalog is a new subtest, with no Go code. Each runs simval's simulator
// on every target with a profile, checked against invariants, its golden summary
// (exactly) and each recorded real baseline within the scenario's bounds;
// `go test -tags gpu` adds a live run.

// A user's catalog folders (SIMVAL_CATALOG, see `simval help catalog`) join the
// embedded catalog here: their scenarios become subtests of the same tests.

// regimeTests maps each regime to the test that runs its scenarios; a regime not
// listed runs under TestOtherRegimes.
var regimeTests = map[string]string{
	scenarios.RegimeQueueFree:  "TestQueueFree",
	scenarios.RegimeBatched:    "TestBatched",
	scenarios.RegimePoisson:    "TestBatched",
	scenarios.RegimeLongPrompt: "TestBatched",
	scenarios.RegimeCold:       "TestColdStart",
}

func TestQueueFree(t *testing.T) { runRegimeTest(t, "TestQueueFree") }

func TestBatched(t *testing.T) { runRegimeTest(t, "TestBatched") }

func TestColdStart(t *testing.T) { runRegimeTest(t, "TestColdStart") }

func TestOtherRegimes(t *testing.T) { runRegimeTest(t, "") }

// TestCatalogFilesParse reports every broken catalog file once (file, line, field);
// the regime tests run the scenarios that parsed.
func TestCatalogFilesParse(t *testing.T) {
	if _, err := scenarios.Catalog(); err != nil {
		t.Error(err)
	}
}

func runRegimeTest(t *testing.T, test string) {
	all, _ := scenarios.Catalog() // broken files: TestCatalogFilesParse
	ran := 0
	for _, sc := range all {
		if regimeTests[sc.Regime] != test {
			continue
		}
		ran++
		t.Run(sc.Name, func(t *testing.T) { runCatalogScenario(t, sc.Name) })
	}
	if ran == 0 && test != "" {
		t.Errorf("no catalog scenario has a regime that %s runs", test)
	}
}

func runCatalogScenario(t *testing.T, name string) {
	t.Helper()
	suitetest.RunScenario(t, name, suite.Simulator{}, suite.RecordedBaselines, true)
	runLive(t, name)
}
