package suite

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/targets"
)

// TestWarmupWavesMirrorTheDriver reads the plan warmup.py wrote for a trace with more
// distinct prompt lengths than lone-request waves (realkit/drivers/test_warmup_plan.py
// checks the driver against the same file).
func TestWarmupWavesMirrorTheDriver(t *testing.T) {
	data, err := os.ReadFile("testdata/warmup/plan.json")
	require.NoError(t, err)
	var doc struct {
		Trace []scenarios.Request `json:"trace"`
		Cases []struct {
			MaxBatch int                   `json:"max_batch"`
			Waves    [][]scenarios.Request `json:"waves"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	require.NotEmpty(t, doc.Cases)
	for _, c := range doc.Cases {
		assert.Equal(t, c.Waves, warmupWaves(doc.Trace, c.MaxBatch), "max batch %d", c.MaxBatch)
	}
	assert.Nil(t, warmupWaves(nil, 8), "no trace, no waves")
}

func TestAfterHistory(t *testing.T) {
	ctx := context.Background()
	h200, err := targets.Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	sc, err := scenarios.Lookup("poisson-moderate")
	require.NoError(t, err)
	reqs, err := sc.Requests(h200.Name)
	require.NoError(t, err)

	t.Run("nothing before the first pass: cold", func(t *testing.T) {
		got, err := Simulator{}.AfterHistory(ctx, h200, reqs, History{Warmup: WarmupNone, Repetition: 1})
		require.NoError(t, err)
		assert.Equal(t, simkit.StateCold, got.EngineState)
		assert.Empty(t, got.WarmGraphs)
	})

	captures := func(h History) (int, []simkit.GraphKey) {
		s, err := Simulator{}.AfterHistory(ctx, h200, reqs, h)
		require.NoError(t, err)
		require.Equal(t, simkit.StateAfterWarmup, s.EngineState)
		out, err := s.Run(ctx, h200, reqs)
		require.NoError(t, err)
		return out.Breakdown.Captures, s.WarmGraphs
	}
	shapes, shapeKeys := captures(History{Warmup: WarmupShapes, Repetition: 1})
	replay, replayKeys := captures(History{Warmup: WarmupReplay, Repetition: 1})
	second, secondKeys := captures(History{Warmup: WarmupNone, Repetition: 2})
	assert.Subset(t, replayKeys, shapeKeys, "replay runs the shapes waves first")
	assert.Greater(t, len(replayKeys), len(shapeKeys))
	assert.Less(t, replay, shapes, "replaying the trace leaves fewer new keys for the timed pass")
	assert.NotEmpty(t, secondKeys)
	third, _ := captures(History{Warmup: WarmupNone, Repetition: 3})
	assert.LessOrEqual(t, third, second, "each pass leaves the next fewer new keys")

	_, err = Simulator{}.AfterHistory(ctx, h200, reqs, History{Warmup: "lukewarm", Repetition: 1})
	assert.ErrorContains(t, err, `"lukewarm"`)
	_, err = Simulator{}.AfterHistory(ctx, h200, reqs, History{Repetition: 0})
	assert.ErrorContains(t, err, "passes count from 1")
}
