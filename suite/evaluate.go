package suite

import (
	"context"
	"fmt"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

// Real is a recorded (or live) real run of a scenario on a target: one or more
// repetitions of the same requests, with the settings the engine resolved.
type Real struct {
	Runs     [][]validation.Record
	Settings validation.EngineSettings
	// Source says where it came from (a baseline file, a live run).
	Source   string
	Warnings []string
	// Provenance of the real side, checked against the profile the prediction came
	// from: a profile of another GPU or engine version predicts something else.
	GPU, GPUDriver, Engine, EngineVersion string
}

// Evaluation is one scenario × target × system: the outcome, its invariant
// violations, and, when real runs exist, the comparison and report.
type Evaluation struct {
	Scenario   *scenarios.Scenario
	Target     *targets.Target
	System     string
	Requests   []scenarios.Request
	Outcome    *Outcome
	Invariants []error
	Criteria   validation.Criteria
	// Real is nil when the target has no recorded baseline for the scenario.
	Real       *Real
	Comparison *validation.Comparison
	Mismatches []validation.Mismatch
	Report     *validation.Report
}

// Evaluate runs sys on the scenario's requests for tgt and, when real is given,
// judges the outcome against it with the scenario's criteria.
//
// Several real repetitions are pooled: each repetition's records get the suffix
// "@<rep>" and the simulated records are repeated once per repetition with the same
// suffixes, so percentiles judge the pooled real distribution and paired errors are
// averaged over repetitions. The run-to-run spread is reported beside it.
func Evaluate(ctx context.Context, sc *scenarios.Scenario, tgt *targets.Target, sys System, real *Real) (*Evaluation, error) {
	reqs, err := sc.Requests(tgt.Name)
	if err != nil {
		return nil, fmt.Errorf("scenario %s on %s: %w", sc.Name, tgt.Name, err)
	}
	crit, err := validation.DefaultCriteria().WithOverrides(sc.Bounds)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: bounds: %w", sc.Name, err)
	}
	out, err := sys.Run(ctx, tgt, reqs)
	if err != nil {
		return nil, fmt.Errorf("%s on scenario %s, target %s: %w", sys.Name(), sc.Name, tgt.Name, err)
	}
	ev := &Evaluation{
		Scenario: sc, Target: tgt, System: sys.Name(), Requests: reqs, Outcome: out,
		Invariants: CheckInvariants(reqs, out.Records, false),
		Criteria:   crit, Real: real,
	}
	if real == nil || len(real.Runs) == 0 {
		return ev, nil
	}
	ev.Mismatches = validation.AlignSettings(real.Settings, out.Settings)
	realPooled, simPooled := pool(real.Runs, out.Records)
	cmp := validation.Compare(realPooled, simPooled, crit)
	if len(ev.Mismatches) > 0 {
		cmp.Problems = append(cmp.Problems, (&validation.ErrMisaligned{Mismatches: ev.Mismatches}).Error())
	}
	problems, warnings := provenanceChecks(real, out.Profile)
	cmp.Problems = append(cmp.Problems, problems...)
	cmp.Warnings = append(cmp.Warnings, warnings...)
	ev.Comparison = &cmp
	rep := &validation.Report{
		Scenario: sc.Name, Target: tgt.Name, Comparison: cmp, Breakdown: out.Breakdown,
		Warnings: append(append([]string{}, real.Warnings...), out.Warnings...),
	}
	if len(real.Runs) > 1 {
		s := validation.Spread(real.Runs)
		rep.Spread = &s
	}
	ev.Report = rep
	return ev, nil
}

func pool(runs [][]validation.Record, sim []validation.Record) (real, simOut []validation.Record) {
	if len(runs) == 1 {
		return runs[0], sim
	}
	for i, run := range runs {
		suffix := fmt.Sprintf("@%d", i+1)
		for _, r := range run {
			r.ID += suffix
			real = append(real, r)
		}
		for _, r := range sim {
			r.ID += suffix
			simOut = append(simOut, r)
		}
	}
	return real, simOut
}

// Pass reports whether the evaluation holds: no invariant broken and, when judged,
// the comparison passed.
func (e *Evaluation) Pass() bool {
	if len(e.Invariants) > 0 {
		return false
	}
	return e.Comparison == nil || e.Comparison.Pass()
}
