package scenarios_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/suite"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

// TestKernelOnlyPredictionIsCaught is the original bug as a test: a simulator that
// adds up kernel times and leaves the engine's CPU work out must fail the queue-free
// scenario against the recorded H200 baseline, under-predicting TTFT and ITL, and its
// report must name CPU overhead as the share it misses.
//
// On this engine the miss is smaller than the design's "more than half": torch.profiler
// sees 22.3 ms of GPU time in a 23.4 ms batch-1 decode step (the engine pads every step
// to 64 query and 16,384 cached tokens), so CPU overhead is ≈ 8% of a step, not 85%.
// The test asserts what holds here: the kernel-only prediction fails, low, by about
// the CPU share, and the full prediction passes.
func TestKernelOnlyPredictionIsCaught(t *testing.T) {
	sc, err := scenarios.Lookup("queue-free-spaced")
	require.NoError(t, err)
	tgt, err := targets.Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	real, why, err := suite.RecordedBaselines(sc, tgt)
	require.NoError(t, err)
	require.NotNil(t, real, why)

	full, err := suite.Evaluate(context.Background(), sc, tgt, suite.Simulator{}, real)
	require.NoError(t, err)
	require.True(t, full.Comparison.Pass(), "the full prediction must pass for the kernel-only failure to mean anything")
	cpuShare := full.Outcome.Breakdown.CPUS / full.Outcome.Breakdown.BusyS

	ko, err := suite.Evaluate(context.Background(), sc, tgt, suite.Simulator{NoCPUOverhead: true}, real)
	require.NoError(t, err)
	assert.False(t, ko.Comparison.Pass(), "a kernel-only prediction must fail the queue-free scenario")
	// TTFT (prefill plus the CPU work around it) misses beyond its bound; ITL misses
	// low by the CPU share, which on the 2026-12-01 lease is ≈ 6% of a batch-1 decode
	// step while the full prediction is ≈ 2% high, so ITL alone can land inside 5%.
	for _, r := range ko.Comparison.Checks {
		if r.Stat != validation.Mean && r.Stat != validation.P50 {
			continue
		}
		switch r.Metric {
		case validation.TTFT:
			assert.Less(t, r.RelErr, -0.05, "%s %s must be under-predicted beyond its bound", r.Metric, r.Stat)
			assert.False(t, r.Pass, "%s %s", r.Metric, r.Stat)
		case validation.ITL:
			assert.Negative(t, r.RelErr, "%s %s must be under-predicted", r.Metric, r.Stat)
		}
	}
	for _, p := range ko.Comparison.Paired {
		assert.Equal(t, validation.BiasUnder, p.Bias, "paired %s", p.Metric)
	}
	// The ITL shortfall is the CPU share the kernel-only prediction leaves out.
	itl, ok := row(ko.Comparison, validation.ITL, validation.P50)
	require.True(t, ok)
	assert.InDelta(t, -cpuShare, itl.RelErr, 0.03, "ITL p50 error %.3f vs CPU share %.3f", itl.RelErr, cpuShare)

	var md strings.Builder
	require.NoError(t, validation.WriteMarkdown(&md, *ko.Report))
	assert.Contains(t, md.String(), "CPU overhead switched off")
	assert.Contains(t, md.String(), "FAIL")
}

func row(c *validation.Comparison, m validation.Metric, st validation.Stat) (validation.Row, bool) {
	for _, r := range c.Checks {
		if r.Metric == m && r.Stat == st {
			return r, true
		}
	}
	return validation.Row{}, false
}
