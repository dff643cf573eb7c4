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
	// Settings are the settings the system ran with (resolved, for a real engine).
	Settings validation.EngineSettings
	// Breakdown splits a prediction into kernel and CPU time; nil when unknown.
	Breakdown *validation.Breakdown
	Steps     int
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
	opts, err := tgt.SimOptions(!s.NoCPUOverhead, s.Extrapolate)
	if err != nil {
		return nil, err
	}
	opts.Replicas, opts.GlobalScheduler, opts.Seed = s.Replicas, s.GlobalScheduler, s.Seed
	res, err := simkit.Simulate(opts, reqs)
	if err != nil {
		return nil, err
	}
	out := &Outcome{
		Records:   res.Records,
		Settings:  tgt.Settings,
		Breakdown: &validation.Breakdown{KernelS: res.KernelS, CPUS: res.CPUS, BusyS: res.BusyS},
		Steps:     res.Steps,
		Warnings:  res.Warnings,
	}
	if opts.Profile != nil {
		prov := opts.Profile.Provenance
		out.Profile = &prov
	}
	if s.NoCPUOverhead {
		// Name what the kernel-only prediction leaves out: the CPU share of the full
		// prediction of the same requests.
		full, err := Simulator{Extrapolate: s.Extrapolate, Replicas: s.Replicas, GlobalScheduler: s.GlobalScheduler, Seed: s.Seed}.Run(context.Background(), tgt, reqs)
		if err == nil && full.Breakdown.BusyS > 0 {
			out.Warnings = append(out.Warnings, fmt.Sprintf(
				"CPU overhead switched off: this kernel-only prediction misses the CPU share of each step, %.1f%% of the full prediction's busy time (%.3f of %.3f s)",
				100*full.Breakdown.CPUS/full.Breakdown.BusyS, full.Breakdown.CPUS, full.Breakdown.BusyS))
		}
	}
	return out, nil
}
