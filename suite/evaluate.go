package suite

import (
	"context"
	"fmt"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

// Real is a recorded (or live) real run of a scenario on a target: one or more
// repetitions of the same requests, with the settings the engine resolved.
type Real struct {
	Runs [][]validation.Record
	// Steps are the engine's step traces of the judged repetitions (Runs[i]'s steps,
	// its warm-up's included), where the run recorded them.
	Steps [][]validation.Step
	// Idle is, per judged repetition, the idle-polling engine's state before its t0
	// (SinceS NaN where unknown): see idleStateOf.
	Idle []simkit.IdleState
	// WarmGraphs, where not nil, are the graph keys the engine process held at the
	// judged repetition's t0 (RecordedRuns: its warm-up's and its earlier repetitions'),
	// for an after-warmup scenario; nil: the first repetition's warm-up (Steps[0]).
	WarmGraphs []simkit.GraphKey
	Settings   validation.EngineSettings
	// Source says where it came from (a baseline file, a live run).
	Source   string
	Warnings []string
	// Provenance of the real side, checked against the profile the prediction came
	// from: a profile of another GPU or engine version predicts something else.
	GPU, GPUDriver, Engine, EngineVersion, HostCPU string
	// Fingerprint is a short hash of the recorded baseline file ("" for a live run).
	Fingerprint string
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
	// Steps compares the step traces when both sides have one.
	Steps *validation.StepComparison
	// ProfileFingerprint is the short hash of the target's profile bundle.
	ProfileFingerprint string
}

// Evaluate runs sys on the scenario's requests for tgt and, when real is given,
// judges the outcome against it with the scenario's criteria.
//
// Several real repetitions are pooled: each repetition's records get the suffix
// "@<rep>" and the simulated records are repeated once per repetition with the same
// suffixes, so percentiles judge the pooled real distribution and paired errors are
// averaged over repetitions. The run-to-run spread is reported beside it.
func Evaluate(ctx context.Context, sc *scenarios.Scenario, tgt *targets.Target, sys System, real *Real) (*Evaluation, error) {
	if err := CheckOverrides(sc); err != nil {
		return nil, err
	}
	reqs, err := sc.Requests(tgt.Name)
	if err != nil {
		return nil, fmt.Errorf("scenario %s on %s: %w", sc.Name, tgt.Name, err)
	}
	crit, err := validation.DefaultCriteria().WithOverrides(sc.Bounds)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: bounds: %w", sc.Name, err)
	}
	if aware, ok := sys.(StateAware); ok {
		if sys, err = aware.ForScenario(sc, real); err != nil {
			return nil, fmt.Errorf("%s on scenario %s, target %s: %w", sys.Name(), sc.Name, tgt.Name, err)
		}
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
	if ev.ProfileFingerprint, err = tgt.ProfileFingerprint(); err != nil {
		return nil, err
	}
	if real == nil {
		return ev, nil
	}
	if len(real.Runs) == 0 {
		cmp := validation.Comparison{Problems: []string{fmt.Sprintf("%s: no repetition can be judged", real.Source)}}
		ev.Comparison = &cmp
		ev.Report = &validation.Report{Scenario: sc.Name, Target: tgt.Name, Comparison: cmp, Warnings: real.Warnings}
		return ev, nil
	}
	ev.Mismatches = validation.AlignSettings(real.Settings, out.Settings)
	sims := out.allRealizations()
	realPooled, simPooled := pool(real.Runs, sims)
	// Judge each statistic at the larger of its bound and its measured noise, and only
	// where it rests on enough values per repetition (pool repeats every repetition
	// once per realization).
	crit.Noise = validation.NoiseFloors(real.Runs, sims)
	if out.FirstUseVaries {
		// Fresh processes' first-use costs vary between realizations as between the
		// real repetitions (each a fresh process): the pooled real value averages them.
		crit.Noise = validation.FirstUseNoiseFloors(real.Runs, sims)
	}
	crit.MinSamples, crit.Repetitions = validation.SampleRule, len(real.Runs)*len(sims)
	ev.Criteria = crit
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
	if len(out.StepTrace) > 0 && len(real.Steps) > 0 {
		st, err := validation.CompareSteps(real.Steps, out.StepTrace)
		if err == nil {
			st.ByStat = validation.AttributeStats(real.Runs, real.Steps, out.Records, out.StepTrace)
			ev.Steps, rep.Steps = &st, &st
		} else {
			rep.Warnings = append(rep.Warnings, "step traces not compared: "+err.Error())
		}
	}
	ev.Report = rep
	return ev, nil
}

// pool pairs every real repetition with every simulated realization: each real
// repetition's records get the suffix "@<rep>.<realization>" once per realization, and
// each realization's records the same suffixes once per repetition, so percentiles
// judge the pooled real distribution against the pooled prediction and paired errors
// average over all pairs. One repetition and one realization keep their plain ids.
func pool(runs, sims [][]validation.Record) (real, simOut []validation.Record) {
	if len(runs) == 1 && len(sims) == 1 {
		return runs[0], sims[0]
	}
	for i, run := range runs {
		for k, sim := range sims {
			suffix := fmt.Sprintf("@%d.%d", i+1, k+1)
			for _, r := range run {
				r.ID += suffix
				real = append(real, r)
			}
			for _, r := range sim {
				r.ID += suffix
				simOut = append(simOut, r)
			}
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

// CheckOverrides refuses a scenario whose per-target override names a target that
// does not exist (a misspelling would leave the override unused without a word).
func CheckOverrides(sc *scenarios.Scenario) error {
	names, err := targets.Names()
	if err != nil {
		return err
	}
	return sc.CheckTargetNames(names)
}
