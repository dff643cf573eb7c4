package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/validation"
)

// TestSimLORReplicasUnderLoad: with lor counting waiting plus running requests, a
// second replica takes load off the first under poisson-moderate (about ten requests
// in flight), so TTFT drops; with Vidur's waiting-only count it could route everything
// to replica 0 whenever the queues are drained.
func TestSimLORReplicasUnderLoad(t *testing.T) {
	ttft := func(replicas string) []float64 {
		out, stderr, code := runCLI(t, "sim", "--target", h200, "--scenario", "poisson-moderate", "--format", "json",
			"--global-scheduler", "lor", "--replicas", replicas)
		require.Equal(t, 0, code, stderr)
		var doc simJSON
		require.NoError(t, json.Unmarshal([]byte(out), &doc))
		return validation.Values(validation.TTFT, doc.Requests)
	}
	one, two := ttft("1"), ttft("2")
	require.Len(t, two, len(one))
	assert.NotEqual(t, one, two)
	sum := func(xs []float64) (s float64) {
		for _, x := range xs {
			s += x
		}
		return s
	}
	assert.Less(t, sum(two), sum(one), "two replicas under lor serve the same load with less queueing")
}
