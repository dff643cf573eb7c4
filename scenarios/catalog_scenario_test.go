package scenarios_test

import (
	"testing"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/suite"
)

// One Go test per catalog scenario: simval's simulator on every target with a
// profile, checked against invariants, its golden summary (exactly) and each recorded
// real baseline within the scenario's bounds. `go test -tags gpu` adds a live run.

func TestQueueFreeSpaced(t *testing.T) { runCatalogScenario(t, "queue-free-spaced") }

func TestBatchedBurst(t *testing.T) { runCatalogScenario(t, "batched-burst") }

func TestBatchedPoissonModerate(t *testing.T) { runCatalogScenario(t, "poisson-moderate") }

func TestBatchedLongPromptMixed(t *testing.T) { runCatalogScenario(t, "long-prompt-mixed") }

// covered lists the scenarios that have a test above; a catalog scenario without one
// fails TestEveryCatalogScenarioHasATest.
var covered = map[string]bool{
	"queue-free-spaced": true, "batched-burst": true, "poisson-moderate": true, "long-prompt-mixed": true,
}

func runCatalogScenario(t *testing.T, name string) {
	t.Helper()
	suite.RunScenario(t, name, suite.Simulator{}, suite.RecordedBaselines, true)
	runLive(t, name)
}

func TestEveryCatalogScenarioHasATest(t *testing.T) {
	all, err := scenarios.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range all {
		if !covered[sc.Name] {
			t.Errorf("catalog scenario %s has no Go test in catalog_scenario_test.go", sc.Name)
		}
	}
}
