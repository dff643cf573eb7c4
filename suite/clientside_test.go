package suite

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

// A run with client-side timestamps is judged against an engine-side target, with
// the bias said once beside the verdict and the bounds unchanged; an engine-side run
// is still refused by a target that compares client-side times.
func TestClientSideRunIsJudgedWithItsBiasSaid(t *testing.T) {
	sc, err := scenarios.Lookup("queue-free-spaced")
	require.NoError(t, err)
	h200, err := targets.Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	data, name, err := h200.BaselineData(sc.Name)
	require.NoError(t, err)
	b, err := realkit.ReadBaseline(strings.NewReader(string(data)), name)
	require.NoError(t, err)

	b.Meta.Timestamps = "client"
	real, _, err := realFromBaseline(b, sc, h200, name)
	require.NoError(t, err)
	assert.Equal(t, validation.ClientTimestampsWarning, real.Warnings[0])
	ev, err := Evaluate(context.Background(), sc, h200, Simulator{}, real)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(strings.Join(ev.Report.Warnings, "\n"), validation.ClientTimestampsWarning))
	engine, _, err := RecordedBaselines(sc, h200)
	require.NoError(t, err)
	evEngine, err := Evaluate(context.Background(), sc, h200, Simulator{}, engine)
	require.NoError(t, err)
	assert.Equal(t, evEngine.Criteria, ev.Criteria, "same bounds and noise floors whatever the clock")

	b.Meta.Timestamps = "engine"
	clientTarget := *h200
	clientTarget.Timestamps = "client"
	_, _, err = realFromBaseline(b, sc, &clientTarget, name)
	assert.ErrorContains(t, err, "baseline holds engine-side timestamps, target h200-hfcb-qwen3-0.6b compares client-side")
}

// The prediction's breakdown has no part besides kernels, CPU and captures: the
// simulator defines a step's CPU time as its wall time less the other two, so the
// parts add up to the busy time (the report's old "other | -0.000" row was the float
// residue of summing them separately).
func TestBreakdownPartsAddUpToBusyTime(t *testing.T) {
	h200, err := targets.Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	for _, name := range []string{"cold-start-burst", "poisson-moderate"} {
		sc, err := scenarios.Lookup(name)
		require.NoError(t, err)
		reqs, err := sc.Requests(h200.Name)
		require.NoError(t, err)
		sys, err := Simulator{}.ForScenario(sc, nil)
		require.NoError(t, err)
		out, err := sys.Run(context.Background(), h200, reqs)
		require.NoError(t, err)
		bd := out.Breakdown
		require.NotNil(t, bd)
		assert.InDelta(t, bd.BusyS, bd.KernelS+bd.CPUS+bd.CaptureS, 1e-12*bd.BusyS, name)
		if name == "cold-start-burst" {
			assert.Positive(t, bd.Captures, "a cold start captures graphs")
		}
	}
}
