package simkit

import (
	"testing"

	"github.com/simval/simval/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every step takes 1 s (stub predictor), so batch i runs over [i−1, i].
func TestSarathiBatchCompositions(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		reqs       []scenarios.Request
		wantSteps  []string
		wantTokens map[string][]float64
		wantSched  map[string]float64
	}{
		{
			// chunk 8: A's prompt is split 8 + 2 and B's 5 rides along with A's last
			// chunk; C arrives while a batch runs and joins at the next batch end.
			name: "chunked prefills share the budget",
			opts: Options{Settings: sarathiSettings(8, 4, 4, 100)},
			reqs: []scenarios.Request{req("A", 0, 10, 3), req("B", 0, 5, 2), req("C", 2.5, 3, 1)},
			wantSteps: []string{
				"A:8",
				"A:2 B:5",
				"A:1 B:1",
				"A:1 C:3",
			},
			wantTokens: map[string][]float64{"A": {2, 3, 4}, "B": {2, 3}, "C": {4}},
			wantSched:  map[string]float64{"A": 0, "B": 1, "C": 3},
		},
		{
			name:       "P=1200 is chunked 512 + 512 + 176 across steps",
			opts:       Options{Settings: sarathiSettings(512, 128, 16, 1000)},
			reqs:       []scenarios.Request{req("X", 0, 1200, 2)},
			wantSteps:  []string{"X:512", "X:512", "X:176", "X:1"},
			wantTokens: map[string][]float64{"X": {3, 4}},
			wantSched:  map[string]float64{"X": 0},
		},
		{
			// 100 blocks, watermark int(0.01·100) = 1: A takes 60 blocks, B's 40 would
			// leave 0 < 1 free, so B waits for A to finish.
			name:       "watermark holds back an admission",
			opts:       Options{Settings: sarathiSettings(2048, 128, 16, 100)},
			reqs:       []scenarios.Request{req("A", 0, 960, 2), req("B", 0, 640, 2)},
			wantSteps:  []string{"A:960", "A:1", "B:640", "B:1"},
			wantTokens: map[string][]float64{"A": {1, 2}, "B": {3, 4}},
			wantSched:  map[string]float64{"A": 0, "B": 2},
		},
		{
			name:       "39 blocks leave exactly the watermark",
			opts:       Options{Settings: sarathiSettings(2048, 128, 16, 100)},
			reqs:       []scenarios.Request{req("A", 0, 960, 1), req("B", 0, 624, 2)},
			wantSteps:  []string{"A:960 B:624", "B:1"},
			wantTokens: map[string][]float64{"A": {1}, "B": {1, 2}},
			wantSched:  map[string]float64{"A": 0, "B": 0},
		},
		{
			// As above, but A's decode takes the last free block (61 of 100); B then
			// has no free block and no newer request to restart, so it restarts itself
			// and recomputes its 625 tokens once A is done.
			name:       "a decode with no free block restarts itself",
			opts:       Options{Settings: sarathiSettings(2048, 128, 16, 100)},
			reqs:       []scenarios.Request{req("A", 0, 960, 2), req("B", 0, 624, 2)},
			wantSteps:  []string{"A:960 B:624", "A:1", "B:625"},
			wantTokens: map[string][]float64{"A": {1, 2}, "B": {1, 3}},
			wantSched:  map[string]float64{"A": 0, "B": 0},
		},
		{
			// max_seqs 2 caps the requests holding blocks: C waits for a slot.
			name:       "batch size cap",
			opts:       Options{Settings: sarathiSettings(512, 2, 16, 1000)},
			reqs:       []scenarios.Request{req("A", 0, 5, 2), req("B", 0, 5, 1), req("C", 0, 5, 1)},
			wantSteps:  []string{"A:5 B:5", "A:1 C:5"},
			wantTokens: map[string][]float64{"A": {1, 2}, "B": {1}, "C": {2}},
			wantSched:  map[string]float64{"A": 0, "B": 0, "C": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, steps := runStub(t, tc.opts, tc.reqs)
			assert.Equal(t, tc.wantSteps, steps)
			assert.Equal(t, tc.wantTokens, tokenTimes(res))
			for _, r := range res.Records {
				require.NotNil(t, r.FirstScheduledS)
				assert.Equal(t, tc.wantSched[r.ID], *r.FirstScheduledS, r.ID)
				assert.Equal(t, r.TokenTimesS[0], r.FirstTokenS, r.ID)
				assert.Equal(t, r.TokenTimesS[len(r.TokenTimesS)-1], r.CompletionS, r.ID)
			}
			assert.Equal(t, len(tc.wantSteps), res.Steps)
			assert.Empty(t, res.Warnings)
		})
	}
}

// Blocks of 4, 6 blocks, watermark 0. After two decodes A and B hold 3 blocks each and
// none is free; a running request needs one free block (Vidur), so A restarts B, the
// newest running request, which comes back with its 10 processed tokens as its prompt.
func TestSarathiPreemptionByRestart(t *testing.T) {
	opts := Options{Settings: sarathiSettings(512, 128, 4, 6)}
	res, steps := runStub(t, opts, []scenarios.Request{req("A", 0, 8, 10), req("B", 0, 8, 10)})
	require.GreaterOrEqual(t, len(steps), 4)
	assert.Equal(t, []string{"A:8 B:8", "A:1 B:1", "A:1 B:10", "A:1 B:11"}, steps[:4])

	a, b := res.Records[0], res.Records[1]
	assert.Equal(t, 0, a.Restarts)
	assert.GreaterOrEqual(t, b.Restarts, 2)
	assert.Len(t, a.TokenTimesS, 10)
	assert.Len(t, b.TokenTimesS, 10, "a restarted request still emits D tokens")
	assert.Equal(t, []float64{1, 2, 3, 4}, b.TokenTimesS[:4],
		"tokens emitted before a restart are kept; each recompute yields the next")
	assert.Equal(t, 1.0, b.FirstTokenS)
	for i := 1; i < len(b.TokenTimesS); i++ {
		assert.Less(t, b.TokenTimesS[i-1], b.TokenTimesS[i])
	}
}

func TestSarathiDefaultsWarn(t *testing.T) {
	opts := Options{Settings: sarathiSettings(0, 0, 0, 1000)}
	res, steps := runStub(t, opts, []scenarios.Request{req("A", 0, 600, 1)})
	assert.Equal(t, []string{"A:512", "A:88"}, steps, "Vidur's chunk 512")
	assert.Equal(t, []string{
		"sarathi: settings.block_size is 0; using Vidur's block size 16",
		"sarathi: settings.max_seqs is 0; using Vidur's batch_size_cap 128",
		"sarathi: settings.token_budget is 0; using Vidur's chunk size 512",
	}, res.Warnings)
}

func TestSarathiPlannedBlocks(t *testing.T) {
	opts := Options{Settings: sarathiSettings(512, 128, 16, 0), Model: qwen3(), GPUMemoryGB: 80}
	res, _ := runStub(t, opts, []scenarios.Request{req("A", 0, 10, 1)})
	require.Len(t, res.Warnings, 1)
	assert.Contains(t, res.Warnings[0], "using 41472 blocks from Vidur's memory planner")

	opts.GPUMemoryGB = 0
	opts.Predictor = &stubPredictor{perStep: 1}
	_, err := Simulate(opts, []scenarios.Request{req("A", 0, 10, 1)})
	assert.ErrorContains(t, err, "GPU memory is unknown")
}

func TestSarathiStallIsAnError(t *testing.T) {
	opts := Options{Settings: sarathiSettings(512, 128, 16, 10), Predictor: &stubPredictor{perStep: 1}}
	_, err := Simulate(opts, []scenarios.Request{req("ok", 0, 10, 2), req("big", 0, 1000, 2)})
	assert.ErrorContains(t, err, `1 requests unfinished; the first, "big" (index 1`)
}
