package suite

import (
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/targets"
)

// RecordedBaselines is the RealSource of the baselines checked in beside each target
// (targets/catalog/<target>/baselines/<scenario>.json).
func RecordedBaselines(sc *scenarios.Scenario, tgt *targets.Target) (*Real, string, error) {
	return nil, "no baseline recorded for this target yet", nil
}
