package simkit

import (
	"encoding/csv"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
)

// The hfcb fixture (testdata/hfcb-fixture/provenance.yaml) is linear in every key, so
// its predictions are exact and checkable by hand; realkit/drivers/test_profile_hfcb.py
// asserts the profiler's own kernel model predicts the same numbers from it.

func hfcbFixtureModel() ModelSpec {
	return ModelSpec{Name: "Qwen/Qwen3-0.6B", Layers: 28, Hidden: 1024, QHeads: 16, KVHeads: 8, HeadDim: 128,
		Intermediate: 3072, Vocab: 151936, TiedEmbeddings: true, GatedMLP: true, PostAttnNorm: true,
		LMHead: true, DType: "bf16"}
}

func hfcbFixtureOptions() Options {
	return Options{
		Model:       hfcbFixtureModel(),
		Settings:    hfcbSettings("hfcb", 8192, 1024, 256, 3823),
		CPUOverhead: true,
	}
}

func loadHFCBFixture(t *testing.T, o Options) *hfcbPredictor {
	t.Helper()
	pr, p, err := LoadHFCBPredictor(os.DirFS("testdata"), "hfcb-fixture", o)
	require.NoError(t, err)
	require.Equal(t, SourceFixture, p.Provenance.Source)
	return pr.(*hfcbPredictor)
}

// hfcbItem is a request of prompt p that has processed `processed` tokens (Vidur
// accounting: the prefill's sampled token counts) and runs `tokens` this step.
func hfcbItem(prompt, output, processed, tokens int) BatchItem {
	r := NewSimRequest(0, scenarios.Request{PromptTokens: prompt, OutputTokens: output}, false)
	r.Processed = processed
	r.PrefillComplete = processed > prompt
	return BatchItem{Req: r, Tokens: tokens}
}

func TestHFCBPad(t *testing.T) {
	for _, tc := range []struct{ n, interval, limit, want int }{
		{0, 64, 8192, 64}, {1, 64, 8192, 64}, {64, 64, 8192, 64}, {65, 64, 8192, 128},
		{8192, 64, 8192, 8192}, {9000, 64, 8192, 8192},
		{0, 16384, 978688, 16384}, {16384, 16384, 978688, 16384}, {16385, 16384, 978688, 32768},
		{978000, 16384, 978688, 978688}, {2000000, 16384, 0, 2015232},
	} {
		assert.Equal(t, tc.want, hfcbPad(tc.n, tc.interval, tc.limit), "pad(%d, %d, %d)", tc.n, tc.interval, tc.limit)
	}
}

func TestHFCBPredictorFixture(t *testing.T) {
	six := make([]BatchItem, 0, 7)
	for range 6 {
		six = append(six, hfcbItem(10, 128, 11, 1)) // KV length 10
	}
	mixed := append(six, hfcbItem(9000, 16, 8132, 868))
	tests := []struct {
		name            string
		items           []BatchItem
		noCPU, noLMHead bool
		want            hfcbShape
		wantKernelMS    float64
		wantTotalMS     float64
	}{
		{
			// Q 64, KV 16384, rows 64: layers 28 × (11 × (0.01+0.0064) + (0.001 + 0.5)) = 19.0792,
			// + emb 0.02 + final norm 0.02 + lm_head 0.114 + sampler 0.052 = 19.2852;
			// cpu D(1) 2.0 + X(0) 0 + 0.0002 × 12 cached tokens = 2.0024.
			name:         "batch-1 decode",
			items:        []BatchItem{hfcbItem(10, 20, 13, 1)},
			want:         hfcbShape{Q: 64, KV: 16384, Rows: 64},
			wantKernelMS: 19.2852, wantTotalMS: 21.2876,
		},
		{
			// A prefill of 10 tokens runs at the same padded shape: KV 0 pads to 16384.
			// cpu D(1) + X(9) = 2.0 + 9/1024.
			name:         "batch-1 prefill",
			items:        []BatchItem{hfcbItem(10, 20, 0, 10)},
			want:         hfcbShape{Q: 64, KV: 16384, Rows: 64},
			wantKernelMS: 19.2852, wantTotalMS: 19.2852 + 2.0 + 9.0/1024,
		},
		{
			// The explore run's step 2: 6 decodes + 868 prompt tokens after 8132 cached.
			// Q 896, KV 16384 (8192 cached), rows 896: 28 × (11 × 0.0996 + 0.514) + 0.04 +
			// 0.946 + 0.468 = 46.5228; cpu D(7) 2.6 + X(867) 867/1024 + 0.0002 × 8192.
			name:         "six decodes and a prefill chunk",
			items:        mixed,
			want:         hfcbShape{Q: 896, KV: 16384, Rows: 896},
			wantKernelMS: 46.5228, wantTotalMS: 46.5228 + 2.6 + 867.0/1024 + 1.6384,
		},
		{
			name:         "CPU overhead off",
			items:        []BatchItem{hfcbItem(10, 20, 13, 1)},
			noCPU:        true,
			want:         hfcbShape{Q: 64, KV: 16384, Rows: 64},
			wantKernelMS: 19.2852, wantTotalMS: 19.2852,
		},
		{
			name:         "no LM head",
			items:        []BatchItem{hfcbItem(10, 20, 13, 1)},
			noCPU:        true,
			noLMHead:     true,
			want:         hfcbShape{Q: 64, KV: 16384, Rows: 64},
			wantKernelMS: 19.0792, wantTotalMS: 19.0792,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := hfcbFixtureOptions()
			o.CPUOverhead = !tc.noCPU
			o.Model.LMHead = !tc.noLMHead
			pr := loadHFCBFixture(t, o)
			b := Batch{Items: tc.items}
			s, _, _ := pr.shape(b)
			assert.Equal(t, tc.want, s)
			st, err := pr.Predict(b)
			require.NoError(t, err)
			assert.InDelta(t, tc.wantKernelMS*1e-3, st.KernelS, 1e-12)
			assert.InDelta(t, tc.wantTotalMS*1e-3, st.TotalS, 1e-12)
			assert.InDelta(t, st.TotalS-st.KernelS, st.CPUS, 1e-15)
			assert.Empty(t, pr.Warnings())
		})
	}
}

func TestHFCBPredictorOutOfGrid(t *testing.T) {
	long := []BatchItem{hfcbItem(20000, 10, 20001, 1), hfcbItem(20000, 10, 20001, 1), hfcbItem(20000, 10, 20001, 1)}
	var wide []BatchItem
	for range 65 {
		wide = append(wide, hfcbItem(10, 20, 13, 1))
	}
	for _, tc := range []struct {
		name, wantErr, wantWarn string
		items                   []BatchItem
	}{
		{"cached tokens beyond the attention grid", "attention.csv prefill: (prefill_chunk_size 64, kv_cache_size 65536) outside",
			"attention.csv prefill: 1 look-ups outside", long},
		{"batch beyond the decode rows", "cpu_overheads.csv decode rows: batch_size 65 outside profiled range [1, 64]",
			"cpu_overheads.csv decode rows: 1 look-ups outside", wide},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := loadHFCBFixture(t, hfcbFixtureOptions())
			_, err := pr.Predict(Batch{Items: tc.items})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)

			o := hfcbFixtureOptions()
			o.Extrapolate = true
			pr = loadHFCBFixture(t, o)
			st, err := pr.Predict(Batch{Items: tc.items})
			require.NoError(t, err)
			assert.Greater(t, st.TotalS, 0.0)
			require.NotEmpty(t, pr.Warnings())
			assert.Contains(t, pr.Warnings()[0], tc.wantWarn)
		})
	}
}

func TestHFCBPredictorRefusals(t *testing.T) {
	fixture := os.DirFS("testdata")
	o := hfcbFixtureOptions()
	p, err := LoadProfile(fixture, "hfcb-fixture")
	require.NoError(t, err)

	template := *p
	template.Provenance.Source = SourceTemplate
	oneD := *p
	oneD.cpu2, oneD.launch2 = nil, nil
	otherModel := o
	otherModel.Model.Layers = 24
	twoGPUs := o
	twoGPUs.Settings.TP = 2
	stages := o
	stages.Settings.PP = 2
	for _, tc := range []struct {
		name    string
		p       *Profile
		o       Options
		slope   float64
		wantErr string
	}{
		{"template profile", &template, o, 0, `source is "template"`},
		{"other model", p, otherModel, 0, "model.layers 28 differs from the target's 24"},
		{"tensor parallel on a tp 1 profile", p, twoGPUs, 0, "has tp 1, settings.tp is 2"},
		{"pipeline parallel", p, stages, 0, "pp 2: transformers' continuous batching has no pipeline stages"},
		{"negative slope", p, o, -1, "cpu_per_kv_token_ms -1"},
		{"1-D cpu table", &oneD, o, 0, "needs cpu_overheads.csv with a num_tokens column"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHFCBPredictor(tc.p, tc.o, tc.slope)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestHFCBKVSlopeColumn(t *testing.T) {
	files := fstest.MapFS{}
	for _, f := range []string{"provenance.yaml", "mlp.csv", "attention.csv", "cpu_overheads.csv"} {
		b, err := os.ReadFile("testdata/hfcb-fixture/" + f)
		require.NoError(t, err)
		files["b/"+f] = &fstest.MapFile{Data: b}
	}
	cpu := string(files["b/cpu_overheads.csv"].Data)
	lines := strings.Split(cpu, "\n")
	lines[2] = strings.Replace(lines[2], ",0.0002,", ",0.0003,", 1)
	files["b/cpu_overheads.csv"] = &fstest.MapFile{Data: []byte(strings.Join(lines, "\n"))}
	_, _, err := LoadHFCBPredictor(files, "b", hfcbFixtureOptions())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cpu_overheads.csv line 3")
	assert.Contains(t, err.Error(), "0.0003 differs from the first row's 0.0002")
}

// TestHFCBSimulate runs the hfcb scheduler and predictor through the simulator: one
// 10-token prompt with 3 output tokens takes a prefill step and two decode steps, each
// at the padded shape (64, 16384); token times are the cumulative step times.
func TestHFCBSimulate(t *testing.T) {
	o := hfcbFixtureOptions()
	pr := loadHFCBFixture(t, o)
	o.Predictor = pr
	res, err := Simulate(o, []scenarios.Request{{ID: "r", ArrivalS: 1, PromptTokens: 10, OutputTokens: 3}})
	require.NoError(t, err)
	require.Len(t, res.Records, 1)
	steps := []float64{19.2852 + 2.0 + 9.0/1024, 19.2852 + 2.0 + 0.0002*10, 19.2852 + 2.0 + 0.0002*11}
	want, at := make([]float64, 3), 1.0
	for i, s := range steps {
		at += s * 1e-3
		want[i] = at
	}
	rec := res.Records[0]
	require.Len(t, rec.TokenTimesS, 3)
	for i := range want {
		assert.InDelta(t, want[i], rec.TokenTimesS[i], 1e-12, "token %d", i+1)
	}
	assert.Equal(t, 3, res.Steps)
	assert.InDelta(t, 3*19.2852e-3, res.KernelS, 1e-12)
	assert.Empty(t, res.Warnings)
}

// TestHFCBMeasuredBundle loads a bundle realkit/drivers/profile_hfcb.py wrote on the
// H200 (testdata/hfcb-h200, an earlier lease on 2026-11-28) and replays its own calibration rows: the decode
// and single-request rows it was fitted on must come back within 0.5%, and the mixed
// steps (b decoders + one prefill), which the predictor does not use, within 3%.
func TestHFCBMeasuredBundle(t *testing.T) {
	o := hfcbFixtureOptions()
	pr, p, err := LoadHFCBPredictor(os.DirFS("testdata"), "hfcb-h200", o)
	require.NoError(t, err)
	require.NoError(t, p.CheckFor(o.Model, "NVIDIA H200", "paged|sdpa"))
	require.Equal(t, SourceMeasured, p.Provenance.Source)

	f, err := os.Open("testdata/hfcb-h200/cpu_overheads.csv")
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	num := func(row []string, name string) float64 {
		v, err := strconv.ParseFloat(row[col[name]], 64)
		require.NoError(t, err, name)
		return v
	}
	require.Greater(t, len(rows), 20)
	for _, row := range rows[1:] {
		b, n := int(num(row, "batch_size")), int(num(row, "num_tokens"))
		kv, wall := int(num(row, "kv_read_median")), num(row, "wall_median")
		decodes := b
		if n > b {
			decodes = b - 1 // the rest is one prefill
		}
		var items []BatchItem
		for i := range decodes {
			cached := kv / decodes
			if i < kv%decodes {
				cached++
			}
			items = append(items, hfcbItem(1, 1000, cached+1, 1))
		}
		if n > b {
			items = append(items, hfcbItem(n-decodes, 1, 0, n-decodes))
		}
		st, err := pr.Predict(Batch{Items: items})
		require.NoError(t, err, "row (%d, %d)", b, n)
		tol := 0.005
		if b > 1 && n > b {
			tol = 0.03
		}
		assert.InEpsilon(t, wall*1e-3, st.TotalS, tol, "row (batch_size %d, num_tokens %d, kv %d)", b, n, kv)
	}
}
