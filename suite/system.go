package suite

import (
	"context"
	"fmt"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

// Outcome is what a System produced for one scenario on one target.
type Outcome struct {
	Records []validation.Record
	// Realizations are further predictions of the same requests at other arrival
	// phases (Simulator.Phases) and, for an engine that is not warm, at other places in
	// the spread of a fresh process's first-use costs; judged and summarised pooled
	// with Records.
	Realizations [][]validation.Record
	// FirstUseVaries says the realizations also vary the first-use costs: their spread
	// is then variability the pooled prediction models, not the arrival-phase
	// uncertainty a noise floor is measured from.
	FirstUseVaries bool
	// Settings are the settings the system ran with (resolved, for a real engine).
	Settings validation.EngineSettings
	// Breakdown splits a prediction into kernel and CPU time; nil when unknown.
	Breakdown *validation.Breakdown
	Steps     int
	// StepTrace is the system's step trace, when it keeps one.
	StepTrace []validation.Step
	Warnings  []string
	// Profile is the provenance of the profile the prediction came from; nil for a
	// system that has none (a live engine).
	Profile *simkit.Provenance
}

// System is anything the suite can judge: it turns a scenario's requests on a target
// into per-request records.
type System interface {
	Name() string
	Run(ctx context.Context, tgt *targets.Target, reqs []scenarios.Request) (*Outcome, error)
}

// StateAware is a System that can start from the engine state a scenario judges
// (warm, cold, or what a recorded warm-up left).
type StateAware interface {
	// ForScenario returns the system set up for sc; real, when not nil, holds the
	// recorded runs (their warm-up traces give the after-warmup state).
	ForScenario(sc *scenarios.Scenario, real *Real) (System, error)
}

// Simulator is simval's own simulator as a System.
type Simulator struct {
	// NoCPUOverhead gives the kernel-only prediction (the original bug).
	NoCPUOverhead bool
	// Extrapolate allows look-ups outside the profiled grid (reported as warnings).
	Extrapolate bool
	// Replicas (0 means 1) identical replicas behind GlobalScheduler ("round_robin",
	// "lor" or "random", seeded by Seed), for capacity what-ifs.
	Replicas        int
	GlobalScheduler string
	Seed            uint64
	// EngineState is the engine state the simulation starts from (warm when empty);
	// WarmGraphs are the graph keys an after-warmup state holds. Evaluate sets both
	// from the scenario unless EngineState is set already.
	EngineState simkit.EngineState
	WarmGraphs  []simkit.GraphKey
	// FirstUse places the simulated engine process in the spread of a fresh process's
	// first-use costs (cold and restart states; the zero value is the median). Further
	// realizations (Phases) take their own places.
	FirstUse simkit.FirstUse
	// Idle is the idle-polling engine's state before t = 0 in each recorded repetition
	// (SinceS NaN: unknown); the simulation starts from the first, realization k from
	// entry k modulo their number. Evaluate takes them from the recorded runs.
	Idle []simkit.IdleState
	// Phases is how many arrival-phase realizations to predict (≤ 1: one, the
	// deterministic simulation of the arrivals as given). See phases.go.
	Phases int
}

// ForScenario implements StateAware: the scenario's engine state, unless the
// simulator was given one; after-warmup takes the graph keys the real side says its
// process held (Real.WarmGraphs), else those of the first judged repetition's recorded
// warm-up.
func (s Simulator) ForScenario(sc *scenarios.Scenario, real *Real) (System, error) {
	if s.Phases == 0 {
		s.Phases = DefaultPhases
	}
	if real != nil && s.Idle == nil {
		s.Idle = real.Idle
	}
	if s.EngineState != "" {
		return s, nil
	}
	state, err := simkit.ParseEngineState(sc.State())
	if err != nil {
		return nil, err
	}
	s.EngineState = state
	if state == simkit.StateAfterWarmup {
		switch {
		case real != nil && real.WarmGraphs != nil:
			s.WarmGraphs = real.WarmGraphs
		case real == nil || len(real.Steps) == 0:
			return nil, fmt.Errorf("scenario %s judges the after-warmup state: it needs a recorded run "+
				"with the warm-up's step trace", sc.Name)
		default:
			s.WarmGraphs = WarmupGraphKeys(real.Steps[0])
		}
	}
	return s, nil
}

// WarmupGraphKeys are the distinct graph keys of the warm-up steps of one repetition's
// step trace, in first-use order: what the warm-up left captured.
func WarmupGraphKeys(steps []validation.Step) []simkit.GraphKey {
	var ks keySet
	ks.add(steps, func(st validation.Step) bool { return st.Warmup })
	return ks.keys
}

// keySet is an engine process's graph keys, distinct, in first-use order.
type keySet struct {
	keys []simkit.GraphKey
	seen map[simkit.GraphKey]bool
}

// add adds the keys of the steps keep accepts (nil: every step); a step without a key
// (a real side that reported none) adds nothing.
func (ks *keySet) add(steps []validation.Step, keep func(validation.Step) bool) {
	if ks.seen == nil {
		ks.seen = map[simkit.GraphKey]bool{}
	}
	for _, st := range steps {
		k := simkit.GraphKey{Q: st.QPad, KV: st.KVPad, SeqK: st.SeqKPad}
		if k.Q > 0 && !ks.seen[k] && (keep == nil || keep(st)) {
			ks.seen[k] = true
			ks.keys = append(ks.keys, k)
		}
	}
}

// Name implements System.
func (s Simulator) Name() string {
	if s.NoCPUOverhead {
		return "simval-sim (kernel only)"
	}
	return "simval-sim"
}

// Run implements System.
func (s Simulator) Run(_ context.Context, tgt *targets.Target, reqs []scenarios.Request) (*Outcome, error) {
	if err := tgt.CheckRequests(reqs); err != nil {
		return nil, fmt.Errorf("target %s: %w", tgt.Name, err)
	}
	opts, err := tgt.SimOptions(!s.NoCPUOverhead, s.Extrapolate)
	if err != nil {
		return nil, err
	}
	opts.Replicas, opts.GlobalScheduler, opts.Seed = s.Replicas, s.GlobalScheduler, s.Seed
	opts.EngineState, opts.WarmGraphs, opts.StepTrace = s.EngineState, s.WarmGraphs, true
	opts.FirstUse, opts.Idle = s.FirstUse, s.idleAt(0)
	res, err := simkit.Simulate(opts, reqs)
	if err != nil {
		return nil, err
	}
	out := &Outcome{
		Records:  res.Records,
		Settings: tgt.Settings,
		Breakdown: &validation.Breakdown{KernelS: res.KernelS, CPUS: res.CPUS, CaptureS: res.CaptureS,
			Captures: res.Captures, BusyS: res.BusyS},
		Steps:     res.Steps,
		StepTrace: res.StepTrace,
		Warnings:  res.Warnings,
	}
	if opts.Profile != nil {
		prov := opts.Profile.Provenance
		out.Profile = &prov
	}
	if s.Phases > 1 {
		if out.Realizations, err = phaseRealizations(opts, reqs, res, s.Phases, s.idleAt); err != nil {
			return nil, err
		}
		out.FirstUseVaries = s.EngineState == simkit.StateCold || s.EngineState == simkit.StateRestart
	}
	if s.NoCPUOverhead {
		// Name what the kernel-only prediction leaves out: the CPU share of the full
		// prediction of the same requests.
		full, err := Simulator{Extrapolate: s.Extrapolate, Replicas: s.Replicas, GlobalScheduler: s.GlobalScheduler,
			Seed: s.Seed, EngineState: s.EngineState, WarmGraphs: s.WarmGraphs}.Run(context.Background(), tgt, reqs)
		if err == nil && full.Breakdown.BusyS > 0 {
			out.Warnings = append(out.Warnings, fmt.Sprintf(
				"CPU overhead switched off: this kernel-only prediction misses the CPU share of each step, %.1f%% of the full prediction's busy time (%.3f of %.3f s)",
				100*full.Breakdown.CPUS/full.Breakdown.BusyS, full.Breakdown.CPUS, full.Breakdown.BusyS))
		}
	}
	return out, nil
}
