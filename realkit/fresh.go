package realkit

import (
	"context"
	"fmt"

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
	opts = opts.withDefaults()
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
				merged.Meta.WarmupPolicy += "; a fresh engine process for every repetition"
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
