package suite

import (
	"context"
	"slices"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

// firstUseQuantiles are the processes FirstUseSpread predicts one by one: a cheap one
// (10th percentile of the measured first-use costs), the median one and a costly one
// (90th).
var firstUseQuantiles = []float64{0.1, 0.5, 0.9}

// FirstUseBand is the prediction for one fresh engine process at a quantile of the
// spread of first-use costs.
type FirstUseBand struct {
	Quantile float64 `json:"quantile"`
	// CaptureS is the process's time in graph captures, its first-use costs included.
	CaptureS float64               `json:"capture_s"`
	Summary  validation.RunSummary `json:"summary"`
}

// FirstUseSpread is what fresh engine processes (cold or restarted replicas) serve, given
// that their first-use costs are drawn anew in every process and nothing outside the
// process predicts them (simkit.FirstUse): single processes at firstUseQuantiles, and
// the requests of Processes processes pooled (the realizations validate judges), whose
// statistics are the expectation over processes. The response of a workload to the
// costs is not linear (a slower first step lets more requests queue behind the next
// kernel compilation), so the median process is not the pooled expectation.
type FirstUseSpread struct {
	Bands     []FirstUseBand        `json:"bands"`
	Pooled    validation.RunSummary `json:"pooled"`
	Processes int                   `json:"processes"`
}

// FirstUseSpread predicts reqs for fresh engine processes; nil when the engine state
// starts no fresh process (warm, after-warmup) or the predictor models no first-use
// costs.
func (s Simulator) FirstUseSpread(ctx context.Context, tgt *targets.Target, reqs []scenarios.Request) (*FirstUseSpread, error) {
	if s.EngineState != simkit.StateCold && s.EngineState != simkit.StateRestart {
		return nil, nil
	}
	out := &FirstUseSpread{}
	one := s
	one.Phases = 1
	for _, q := range firstUseQuantiles {
		one.FirstUse = simkit.FirstUse(q)
		o, err := one.Run(ctx, tgt, reqs)
		if err != nil {
			return nil, err
		}
		if o.Breakdown == nil || o.Breakdown.Captures == 0 {
			return nil, nil // predicted warm: the predictor has no capture model
		}
		out.Bands = append(out.Bands, FirstUseBand{Quantile: q, CaptureS: o.Breakdown.CaptureS,
			Summary: validation.SummarizeRun(o.Records)})
	}
	all := s
	if all.Phases <= 1 {
		all.Phases = DefaultPhases
	}
	o, err := all.Run(ctx, tgt, reqs)
	if err != nil {
		return nil, err
	}
	runs := o.allRealizations()
	out.Processes = len(runs)
	out.Pooled = validation.SummarizeRun(slices.Concat(runs...))
	return out, nil
}
