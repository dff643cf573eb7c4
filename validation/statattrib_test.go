package validation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One request: it waits 0.1 s, its prefill step captures a graph (capture long), then two
// 20 ms decode steps; on the simulated side the capture is shorter.
func attribCase(capture float64) ([]Record, []Step) {
	first := 0.1 + capture
	recs := []Record{{ID: "a", ArrivalS: 0, FirstTokenS: first, TokenTimesS: []float64{first, first + 0.02, first + 0.04},
		CompletionS: first + 0.04}}
	steps := []Step{
		{Index: 0, StartS: -0.5, DurationS: 0.3, Warmup: true, Items: []StepItem{{ID: "w", Prefill: 8}}},
		{Index: 0, StartS: 0.1, DurationS: capture, Captured: true, Items: []StepItem{{ID: "a", Prefill: 100}}},
		{Index: 1, StartS: first, DurationS: 0.02, Items: []StepItem{{ID: "a", Decode: 1, Past: 100}}},
		{Index: 2, StartS: first + 0.02, DurationS: 0.02, Items: []StepItem{{ID: "a", Decode: 1, Past: 101}}},
	}
	return recs, steps
}

func TestAttributeStatsSplitsEachLatencyByItsSteps(t *testing.T) {
	realRecs, realSteps := attribCase(0.9)
	simRecs, simSteps := attribCase(0.5)
	got := AttributeStats([][]Record{realRecs}, [][]Step{realSteps}, simRecs, simSteps)
	require.NotEmpty(t, got)
	byKey := map[string]StatAttribution{}
	for _, a := range got {
		byKey[string(a.Metric)+" "+string(a.Stat)] = a
	}
	ttft := byKey["ttft mean"]
	assert.InDelta(t, 0.9, ttft.Real.CaptureS, 1e-12)
	assert.InDelta(t, 0.1, ttft.Real.SchedulingS, 1e-12, "waited before its first step")
	assert.InDelta(t, 0.0, ttft.Real.ExecutionS, 1e-12)
	assert.InDelta(t, -0.4, ttft.Delta().CaptureS, 1e-12)
	assert.Equal(t, "capture", ttft.Dominant)
	itl := byKey["itl p50"]
	assert.InDelta(t, 0.02, itl.Real.ExecutionS, 1e-12)
	assert.InDelta(t, 0.0, itl.Real.CaptureS+itl.Real.SchedulingS, 1e-12)
	e2e := byKey["e2e mean"]
	assert.InDelta(t, 1.04, e2e.Real.CaptureS+e2e.Real.ExecutionS+e2e.Real.SchedulingS, 1e-12, "parts sum to the latency")
	assert.Contains(t, ttft.String(), "capture -400.0 ms")

	// Nothing to attribute without a step trace on either side.
	assert.Nil(t, AttributeStats([][]Record{realRecs}, nil, simRecs, simSteps))
	assert.Nil(t, AttributeStats([][]Record{realRecs}, [][]Step{realSteps}, simRecs, nil))
}
