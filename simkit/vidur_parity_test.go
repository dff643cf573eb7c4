package simkit

import (
	"testing"

	"github.com/simval/simval/simkit/vidurfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Synthetic prediction tables whose values are easy to add up by hand: each token
// operation costs a fixed number of ms per token of its key, attn_decode(b, kv) =
// 100·b + kv/64, attn_prefill(kv, c²) = kv + c², and the CPU operations 0.1 … 0.5
// ms per request. Keys 0 … 64 tokens; kv 0 … 4096 in steps of 64; c² up to 64².
var vidurTestTokenCost = map[string]float64{
	vidurfmt.OpAttnPreProj: 1, vidurfmt.OpAttnPostProj: 2, vidurfmt.OpAttnRope: 3,
	vidurfmt.OpAttnKVCacheSave: 5, vidurfmt.OpMLPUpProj: 7, vidurfmt.OpMLPDownProj: 11,
	vidurfmt.OpMLPAct: 13, vidurfmt.OpInputLayernorm: 17, vidurfmt.OpPostAttentionLayernorm: 19,
	vidurfmt.OpAdd: 23, vidurfmt.OpAllReduce: 29, vidurfmt.OpSendRecv: 31,
}

func vidurTestPredictions(t *testing.T) *vidurfmt.Predictions {
	t.Helper()
	p := &vidurfmt.Predictions{Dir: "synthetic", Token: map[string]*vidurfmt.Table1D{}, CPU: map[string]*vidurfmt.Table1D{}}
	keys := make([]int, 65)
	for i := range keys {
		keys[i] = i
	}
	table := func(op, feature string, perKey float64) *vidurfmt.Table1D {
		vals := make([]float64, len(keys))
		for i, k := range keys {
			vals[i] = perKey * float64(k)
		}
		tab, err := vidurfmt.NewTable1D(op, feature, keys, vals)
		require.NoError(t, err)
		return tab
	}
	for op, c := range vidurTestTokenCost {
		p.Token[op] = table(op, "num_tokens", c)
	}
	for i, op := range vidurfmt.CPUOps {
		p.CPU[op] = table(op, "batch_size", 0.1*float64(i+1))
	}
	var kvs, bs, csq []int
	for kv := 0; kv <= 4096; kv += 64 {
		kvs = append(kvs, kv)
	}
	for b := 1; b <= 128; b++ {
		bs = append(bs, b)
	}
	for c := 1; c <= 64; c++ {
		csq = append(csq, c*c)
	}
	var err error
	p.AttnDecode, err = vidurfmt.NewTable2D(vidurfmt.OpAttnDecode, [2]string{"batch_size", "kv_cache_size"}, bs, kvs,
		func(b, kv int) float64 { return 100*float64(b) + float64(kv)/64 })
	require.NoError(t, err)
	p.AttnPrefill, err = vidurfmt.NewTable2D(vidurfmt.OpAttnPrefill, [2]string{"kv_cache_size", "prefill_chunk_size_squared"}, kvs, csq,
		func(kv, c2 int) float64 { return float64(kv + c2) })
	require.NoError(t, err)
	return p
}

// decodeItem is a request past its prefill with processed tokens; prefillItem one
// that has processed some of its prompt and now runs a chunk.
func decodeItem(index, processed int) BatchItem {
	return BatchItem{Req: &SimRequest{Index: index, Prompt: processed - 1, Decode: 100, Processed: processed, PrefillComplete: true}, Tokens: 1}
}

func prefillItem(index, processed, chunk int) BatchItem {
	return BatchItem{Req: &SimRequest{Index: index, Prompt: processed + chunk + 10, Decode: 5, Processed: processed}, Tokens: chunk}
}

// TestVidurParityPredictorByHand checks each look-up rule of reference §4 and §6 on
// batches whose step times were added up by hand. With the synthetic tables, one
// layer costs 96·T8 + 5·T ms before attention (pre 1 + post 2 + rope 3 + input norm
// 17 + up 7 + down 11 + act 13 + post norm 19 + add 23 per rounded token; kv-save 5
// per unrounded token), and the model has 2 layers.
func TestVidurParityPredictorByHand(t *testing.T) {
	base := VidurParityConfig{Layers: 2, TP: 1, PP: 1, PostAttnNorm: true, GQA: true, KVGranularity: 64,
		DecodeBatchingOverhead: 0.1, PrefillBatchingOverhead: 0.1, NCCLLaunchMS: 0.02}
	tests := []struct {
		name      string
		cfg       func(*VidurParityConfig)
		items     []BatchItem
		stage     int
		wantTotal float64 // ms
		wantCPU   float64 // ms
	}{
		{
			// T=1 → T8=8: 768 + 5; decode b=1 at kv ceil64(70)=128: 100 + 2, no overhead.
			name: "one decode", items: []BatchItem{decodeItem(0, 70)},
			wantTotal: 2 * (768 + 5 + 102),
		},
		{
			// kv = ceil64(int(mean(70, 100))) = ceil64(85) = 128; (200 + 2)·1.1.
			name: "two decodes use the mean context and the GQA factor", items: []BatchItem{decodeItem(0, 70), decodeItem(1, 100)},
			wantTotal: 2 * (768 + 10 + 202*1.1),
		},
		{
			name: "no batching factor without GQA", cfg: func(c *VidurParityConfig) { c.GQA = false },
			items:     []BatchItem{decodeItem(0, 70), decodeItem(1, 100)},
			wantTotal: 2 * (768 + 10 + 202),
		},
		{
			// Prefills: kv ceil64(0) + ceil64(65) = 128, chunk √(3² + 4²) = 5 → 25:
			// (128 + 25)·1.1; the decode at ceil64(10) = 64: 100 + 1. T = 8.
			name:      "mixed batch",
			items:     []BatchItem{prefillItem(0, 0, 3), prefillItem(1, 65, 4), decodeItem(2, 10)},
			wantTotal: 2 * (768 + 40 + 153*1.1 + 101),
		},
		{
			// √(3² + 3²) = 4.24 rounds to 4: key 16.
			name: "prefill chunk key is round(√Σc²)²", items: []BatchItem{prefillItem(0, 0, 3), prefillItem(1, 0, 3)},
			wantTotal: 2 * (768 + 30 + 16*1.1),
		},
		{
			// all_reduce(8) = 232, + 0.02 launch, twice per layer.
			name: "tensor parallel", cfg: func(c *VidurParityConfig) { c.TP = 2 }, items: []BatchItem{decodeItem(0, 70)},
			wantTotal: 2 * (768 + 5 + 102 + 2*232.02),
		},
		{
			// One layer per stage; send_recv(8) = 248 on every stage but the last.
			name: "pipeline stage 0", cfg: func(c *VidurParityConfig) { c.PP = 2 }, items: []BatchItem{decodeItem(0, 70)},
			wantTotal: 768 + 5 + 102 + 248,
		},
		{
			name: "pipeline last stage", cfg: func(c *VidurParityConfig) { c.PP = 2 }, items: []BatchItem{decodeItem(0, 70)}, stage: 1,
			wantTotal: 768 + 5 + 102,
		},
		{
			// CPU: (0.1 + 0.2 + 0.3 + 0.4 + 0.5) × 3 requests = 4.5 ms on top.
			name: "cpu overhead", cfg: func(c *VidurParityConfig) { c.CPUOverhead = true },
			items:     []BatchItem{prefillItem(0, 0, 3), prefillItem(1, 65, 4), decodeItem(2, 10)},
			wantTotal: 2*(768+40+153*1.1+101) + 4.5, wantCPU: 4.5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			pr, err := NewVidurParityPredictor(vidurTestPredictions(t), cfg)
			require.NoError(t, err)
			st, err := pr.Predict(Batch{Items: tt.items, Stage: tt.stage})
			require.NoError(t, err)
			assert.InDelta(t, tt.wantTotal*1e-3, st.TotalS, 1e-12)
			assert.InDelta(t, tt.wantCPU*1e-3, st.CPUS, 1e-12)
			assert.InDelta(t, st.TotalS-st.CPUS, st.KernelS, 1e-12)
			_, times, ok := pr.Request(tt.items[0].Req.Index)
			require.True(t, ok)
			assert.Equal(t, st.TotalS, times.ExecutionS, "per-request execution time")
			assert.Equal(t, st.KernelS, times.ModelExecutionS, "per-request model time")
		})
	}
}

// TestVidurParityPredictorKeyErrors: where Vidur raises KeyError, parity mode fails
// with the operation and the key.
func TestVidurParityPredictorKeyErrors(t *testing.T) {
	cfg := VidurParityConfig{Layers: 2, TP: 1, PP: 1, PostAttnNorm: true, GQA: true, KVGranularity: 64}
	pr, err := NewVidurParityPredictor(vidurTestPredictions(t), cfg)
	require.NoError(t, err)
	for _, tt := range []struct {
		name  string
		items []BatchItem
		want  string
	}{
		{"tokens beyond the grid", manyDecodes(70), "attn_rope has no prediction for [72]"},
		{"context beyond the grid", []BatchItem{decodeItem(0, 5000)}, "attn_decode has no prediction for [1 5056]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pr.Predict(Batch{Items: tt.items})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "KeyError")
		})
	}
	_, err = NewVidurParityPredictor(&vidurfmt.Predictions{Dir: "empty"}, cfg)
	assert.ErrorContains(t, err, "lacks prediction tables")
}

func manyDecodes(n int) []BatchItem {
	items := make([]BatchItem, n)
	for i := range items {
		items[i] = decodeItem(i, 10)
	}
	return items
}
