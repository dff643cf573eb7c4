package suite

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/targets"
)

func TestFirstUseSpread(t *testing.T) {
	sc, err := scenarios.Lookup("cold-start-burst")
	require.NoError(t, err)
	h200, err := targets.Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	reqs, err := sc.Requests(h200.Name)
	require.NoError(t, err)
	ctx := context.Background()

	t.Run("a warm engine starts no fresh process", func(t *testing.T) {
		got, err := Simulator{}.FirstUseSpread(ctx, h200, reqs)
		require.NoError(t, err)
		assert.Nil(t, got)
	})
	t.Run("after a warm-up neither", func(t *testing.T) {
		got, err := Simulator{EngineState: simkit.StateAfterWarmup,
			WarmGraphs: []simkit.GraphKey{{Q: 64, KV: 16384, SeqK: 1024}}}.FirstUseSpread(ctx, h200, reqs)
		require.NoError(t, err)
		assert.Nil(t, got)
	})
	for _, state := range []simkit.EngineState{simkit.StateCold, simkit.StateRestart} {
		t.Run(string(state), func(t *testing.T) {
			got, err := Simulator{EngineState: state}.FirstUseSpread(ctx, h200, reqs)
			require.NoError(t, err)
			require.NotNil(t, got)
			require.Len(t, got.Bands, len(firstUseQuantiles))
			for i := 1; i < len(got.Bands); i++ {
				assert.Greater(t, got.Bands[i].CaptureS, got.Bands[i-1].CaptureS,
					"a costlier process spends longer compiling and capturing")
			}
			assert.Equal(t, DefaultPhases, got.Processes)
			assert.Equal(t, len(reqs)*DefaultPhases, got.Pooled.TTFT.Count)

			median, err := Simulator{EngineState: state, Phases: 1}.Run(ctx, h200, reqs)
			require.NoError(t, err)
			assert.InDelta(t, median.Breakdown.CaptureS, got.Bands[1].CaptureS, 1e-12,
				"the 50th percentile is the process a plain simulation predicts")
		})
	}
	t.Run("fixture target: no capture model, no spread", func(t *testing.T) {
		fx, err := targets.Lookup("fixture-sarathi-qwen3-0.6b")
		require.NoError(t, err)
		got, err := Simulator{EngineState: simkit.StateCold}.FirstUseSpread(ctx, fx, reqs)
		require.NoError(t, err)
		assert.Nil(t, got)
	})
}
