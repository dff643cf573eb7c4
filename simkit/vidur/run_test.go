package vidur_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/simkit/vidur"
	"github.com/simval/simval/simkit/vidurfmt"
)

// tinyConfig is a Vidur run configuration of a 2-layer model under Sarathi with a
// 4-token chunk, so that a hand-worked trace shows chunking.
func tinyConfig() vidurfmt.RunConfig {
	return vidurfmt.RunConfig{
		NumReplicas: 1, GlobalScheduler: "round_robin", ModelName: "tiny", TP: 1, PP: 1,
		Model: vidurfmt.ModelConfig{Name: "tiny", NumLayers: 2, NumQHeads: 2, NumKVHeads: 1, EmbeddingDim: 8,
			MLPHiddenDim: 16, UseGatedMLP: true, PostAttnNorm: true},
		MemoryMarginFraction: 0.1, DeviceTotalMemoryGB: 80,
		Scheduler: vidurfmt.SchedulerConfig{Name: "sarathi", BatchSizeCap: 128, BlockSize: 16,
			WatermarkBlocksFraction: 0.01, NumBlocks: 100, ChunkSize: 4},
		RequestGenerator: "trace_replay", Trace: vidurfmt.DefaultTraceReplay(),
		Predictor: vidurfmt.PredictorConfig{KVCachePredictionGranularity: 64, AttentionDecodeBatchingOverhead: 0.1,
			AttentionPrefillBatchingOverhead: 0.1, NCCLCPULaunchOverheadMS: 0.02, SkipCPUOverheadModeling: true},
	}
}

// flatPredictions makes every step of the 2-layer model cost 2 ms: add is 1 ms at
// every token count, every other operation 0.
func flatPredictions(t *testing.T) *vidurfmt.Predictions {
	t.Helper()
	p := &vidurfmt.Predictions{Dir: "flat", Token: map[string]*vidurfmt.Table1D{}, CPU: map[string]*vidurfmt.Table1D{}}
	keys, zeros, ones := make([]int, 65), make([]float64, 65), make([]float64, 65)
	for i := range keys {
		keys[i], ones[i] = i, 1
	}
	for _, op := range vidurfmt.TokenOps {
		vals := zeros
		if op == vidurfmt.OpAdd {
			vals = ones
		}
		tab, err := vidurfmt.NewTable1D(op, "num_tokens", keys, vals)
		require.NoError(t, err)
		p.Token[op] = tab
	}
	zero := func(int, int) float64 { return 0 }
	var err error
	p.AttnDecode, err = vidurfmt.NewTable2D(vidurfmt.OpAttnDecode, [2]string{"batch_size", "kv_cache_size"}, []int{1, 2}, []int{0, 64}, zero)
	require.NoError(t, err)
	p.AttnPrefill, err = vidurfmt.NewTable2D(vidurfmt.OpAttnPrefill, [2]string{"kv_cache_size", "prefill_chunk_size_squared"}, []int{0, 64}, []int{1, 4, 9, 16}, zero)
	require.NoError(t, err)
	return p
}

// TestRunParityByHand runs two requests whose whole schedule was worked out by hand
// (2 ms per step, chunk 4):
//
//	[0, 2ms]  a:p4            (b arrives at 1 ms and waits)
//	[2, 4]    a:p2 b:p2       a's prefill completes: TTFT 4 ms
//	[4, 6]    a:d  b:p1       a completes (E2E 6 ms); b's prefill completes (TTFT 6 − 1 = 5 ms)
//	[6, 8]    b:d
//	[8, 10]   b:d             b completes: E2E 10 − 1 = 9 ms
func TestRunParityByHand(t *testing.T) {
	rows := []vidurfmt.TraceRow{{ArrivedAt: 0, Prefill: 6, Decode: 2}, {ArrivedAt: 0.001, Prefill: 3, Decode: 3}}
	run, err := vidur.RunParity(tinyConfig(), flatPredictions(t), rows, true)
	require.NoError(t, err)
	require.Len(t, run.Metrics, 2)
	a, b := run.Metrics[0], run.Metrics[1]
	require.Equal(t, []int{0, 1}, []int{a.ID, b.ID}, "completion order")
	want := map[int][15]float64{
		// e2e, ÷D, exec, ÷D, model, ÷D, preemption, sched delay, exec+pre, ÷D,
		// prefill e2e, prefill span, ÷P, decode span ÷D, inter-arrival
		0: {0.006, 0.003, 0.006, 0.003, 0.006, 0.003, 0, 0, 0.006, 0.003, 0.004, 0.004, 0.004 / 6, 0.001, math.NaN()},
		1: {0.009, 0.003, 0.008, 0.008 / 3, 0.008, 0.008 / 3, 0, 0.001, 0.008, 0.008 / 3, 0.005, 0.004, 0.004 / 3, 0.004 / 3, 0.001},
	}
	for _, m := range run.Metrics {
		for i, w := range want[m.ID] {
			if math.IsNaN(w) {
				assert.True(t, math.IsNaN(m.Times[i]), "request %d column %s", m.ID, vidurfmt.RequestMetricsColumns[1+i])
				continue
			}
			assert.InDelta(t, w, m.Times[i], 1e-15, "request %d column %s", m.ID, vidurfmt.RequestMetricsColumns[1+i])
		}
	}
	assert.Equal(t, [5]int{8, 6, 2, 0}, [5]int{a.Tokens, a.Prefill, a.Decode, a.Restarts})
	assert.InDelta(t, 3.0, a.PDRatio, 0)
	assert.InDeltaSlice(t, []float64{0.004, 0.006}, run.Records[0].TokenTimesS, 1e-15)
	assert.InDeltaSlice(t, []float64{0.006, 0.008, 0.010}, run.Records[1].TokenTimesS, 1e-15)
	assert.Equal(t, 5, run.Totals.Steps)
}

// TestParityOptionsRefuses lists the configurations parity mode cannot reproduce.
func TestParityOptionsRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(*vidurfmt.RunConfig)
		want string
	}{
		{"time limit", func(c *vidurfmt.RunConfig) { c.TimeLimitS = 10 }, "time_limit"},
		{"random global scheduler", func(c *vidurfmt.RunConfig) { c.GlobalScheduler, c.NumReplicas = "random", 2 }, "Python's random"},
		{"watermark", func(c *vidurfmt.RunConfig) { c.Scheduler.WatermarkBlocksFraction = 0.02 }, "watermark_blocks_fraction 0.02"},
		{"unknown scheduler", func(c *vidurfmt.RunConfig) { c.Scheduler.Name = "fifo" }, `"fifo" is not one of`},
		{"missing tables", func(c *vidurfmt.RunConfig) { c.TP = 2; c.Model.NumQHeads = 2 }, "lacks prediction tables [all_reduce]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tinyConfig()
			tt.edit(&cfg)
			preds := flatPredictions(t)
			delete(preds.Token, vidurfmt.OpAllReduce)
			_, err := vidur.ParityOptions(cfg, preds)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}
