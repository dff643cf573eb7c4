package realkit

import (
	"context"
	"fmt"
	"os"

	"github.com/simval/simval/scenarios"
)

// RunFreshProcesses runs opts.Repetitions driver processes of one repetition each and
// merges them into one Run: every repetition starts from a freshly loaded engine, so a
// cold start (nothing captured, nothing compiled) is measured once per repetition. The
// merged Meta is the first process's, with Repetitions set and the warm-up policy saying
// that every repetition had its own process; Ready sums the processes' load and warm-up
// times. On a failure the Run holds the repetitions that finished (the failing one
// partial) beside the error.
func RunFreshProcesses(ctx context.Context, spec DriverSpec, reqs []scenarios.Request, opts RunOptions) (*Run, error) {
	return freshProcesses(ctx, spec, reqs, opts.withDefaults(), "; "+FreshProcessPolicy)
}

// The warm-up policy notes of runs of fresh (RunFreshProcesses) and restarted
// (RunRestarts) engine processes: a recorded run says by them which state it measured.
const (
	FreshProcessPolicy = "a fresh engine process for every repetition"
	RestartPolicy      = "a restarted engine process for every repetition (one directory, after a discarded first process)"
)

// RunRestarts is RunFreshProcesses for restarted engines: every repetition is a freshly
// started process (nothing captured), but all run from one directory after one
// discarded process on the same requests, as an engine restarted on a machine where it
// ran before: the CUDA driver's JIT cache (~/.nv/ComputeCache) then holds the kernels
// the first process compiled at run time (cuDNN's generated attention kernels), which a
// process started from another directory compiles again (measured on the H200,
// scripts/gpu-cache-probe.sh, 2026-12-01).
func RunRestarts(ctx context.Context, spec DriverSpec, reqs []scenarios.Request, opts RunOptions) (*Run, error) {
	opts = opts.withDefaults()
	dir, err := os.MkdirTemp("", "simval-"+spec.Engine+"-restart-*")
	if err != nil {
		return nil, fmt.Errorf("realkit: %w", err)
	}
	defer os.RemoveAll(dir)
	opts.dir = dir
	warm := opts
	warm.Repetitions, warm.Progress = 1, nil
	if _, err := RunDriver(ctx, spec, reqs, warm); err != nil {
		return nil, fmt.Errorf("the process that warms the compile cache: %w", err)
	}
	return freshProcesses(ctx, spec, reqs, opts, "; "+RestartPolicy)
}

func freshProcesses(ctx context.Context, spec DriverSpec, reqs []scenarios.Request, opts RunOptions, policy string) (*Run, error) {
	n := opts.Repetitions
	one := opts
	one.Repetitions = 1
	var merged *Run
	for k := range n {
		run, err := RunDriver(ctx, spec, reqs, one)
		if run != nil {
			if merged == nil {
				merged = &Run{Meta: run.Meta, Command: run.Command}
				merged.Meta.Repetitions = n
				merged.Meta.WarmupPolicy += policy
			}
			merged.Ready.Protocol = run.Ready.Protocol
			merged.Ready.LoadS += run.Ready.LoadS
			merged.Ready.WarmupS += run.Ready.WarmupS
			for _, rep := range run.Repetitions {
				rep.Index = k
				merged.Repetitions = append(merged.Repetitions, rep)
			}
			for _, w := range run.Warnings {
				merged.Warnings = append(merged.Warnings, fmt.Sprintf("process %d: %s", k, w))
			}
		}
		if err != nil {
			return merged, fmt.Errorf("fresh process %d of %d: %w", k+1, n, err)
		}
	}
	return merged, nil
}
