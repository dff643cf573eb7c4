package simkit

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/simval/simval/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fixture's op times (ms) are a + b·n; see testdata/fixture-profile.
func fixtureLayer(n float64) float64 { // per-layer ops, add twice, post-attention norm
	return 0.061 + 0.000057*n
}
func fixtureDecode(b, kv float64) float64 { return 0.006 + 0.000002*b + 0.0000004*b*kv }
func fixturePrefill(c, kv float64) float64 {
	return 0.008 + 0.00001*c + 0.00000002*c*(kv+c/2)
}
func fixtureKVSave(n float64) float64 { return 0.002 + 0.000001*n }
func fixtureHead(tokens, seqs float64) float64 { // emb + final_norm at tokens, lm_head + sampler per sequence
	return 0.005 + 0.000001*tokens + 0.004 + 0.000002*tokens + 0.080 + 0.0004*seqs + 0.050 + 0.0001*seqs
}
func fixtureCPU(b float64) float64    { return 1.5 + 0.021*b }
func fixtureLaunch(b float64) float64 { return 2.5 + 0.002*b }

// decodeReq is a request in decode with context tokens processed.
func decodeReq(context int) *SimRequest {
	return &SimRequest{Prompt: context - 1, Decode: 100, Processed: context, PrefillComplete: true}
}

func prefillReq(prompt, processed int) *SimRequest {
	return &SimRequest{Prompt: prompt, Decode: 10, Processed: processed}
}

func TestProfilePredictorHandChecked(t *testing.T) {
	p := loadFixture(t)
	// One decode at context 100: decode attention is bilinear in the fixture, so
	// interpolation between kv 1 and 256 is exact.
	oneDecode := Batch{Items: []BatchItem{{Req: decodeReq(100), Tokens: 1}}}
	kernel1 := 28*(fixtureLayer(1)+fixtureKVSave(1)+fixtureDecode(1, 100)) + fixtureHead(1, 1)
	// A 300-token chunk at context 0 and two decodes (contexts 500 and 700, mean 600).
	// Prefill attention is not linear in the chunk, so it interpolates the grid points
	// 64 and 512 at kv 0.
	mixed := Batch{Items: []BatchItem{
		{Req: prefillReq(1000, 0), Tokens: 300}, {Req: decodeReq(500), Tokens: 1}, {Req: decodeReq(700), Tokens: 1},
	}}
	prefill300 := lerpTest(fixturePrefill(64, 0), fixturePrefill(512, 0), (300-64)/448.0)
	kernel3 := 28*(fixtureLayer(302)+fixtureKVSave(302)+prefill300+fixtureDecode(2, 600)) + fixtureHead(302, 3)

	tests := []struct {
		name      string
		batch     Batch
		cpu       bool
		kernel    float64
		total     float64
		cpuHidden float64
	}{
		{"decode, kernel only", oneDecode, false, kernel1, kernel1, 0},
		// CPU-bound: the 2.502 ms launch exceeds the kernels, so the step is
		// cpu + launch and the CPU share is everything beyond the kernels.
		{"decode, with CPU", oneDecode, true, kernel1, fixtureCPU(1) + fixtureLaunch(1), 0},
		{"mixed, kernel only", mixed, false, kernel3, kernel3, 0},
		{"mixed, with CPU", mixed, true, kernel3, fixtureCPU(3) + max(kernel3, fixtureLaunch(3)), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pred, err := NewProfilePredictor(p, Options{Model: qwen3(), CPUOverhead: tc.cpu})
			require.NoError(t, err)
			st, err := pred.Predict(tc.batch)
			require.NoError(t, err)
			assert.InDelta(t, tc.kernel*1e-3, st.KernelS, 1e-12)
			assert.InDelta(t, tc.total*1e-3, st.TotalS, 1e-12)
			assert.InDelta(t, (tc.total-tc.kernel)*1e-3, st.CPUS, 1e-12)
		})
	}
	assert.Greater(t, fixtureLaunch(1), kernel1, "the decode case is CPU-bound")
}

func lerpTest(a, b, f float64) float64 { return a + f*(b-a) }

func TestProfilePredictorGridPointsExact(t *testing.T) {
	p := loadFixture(t)
	parity := qwen3()
	parity.LMHead = false
	pred, err := NewProfilePredictor(p, Options{Model: parity})
	require.NoError(t, err)
	// A lone prefill chunk of 512 at context 2048 is a grid point of every table.
	st, err := pred.Predict(Batch{Items: []BatchItem{{Req: prefillReq(4000, 2048), Tokens: 512}}})
	require.NoError(t, err)
	want := 28 * (fixtureLayer(512) + fixtureKVSave(512) + fixturePrefill(512, 2048))
	assert.InDelta(t, want*1e-3, st.TotalS, 1e-15)
}

func TestProfilePredictorOutOfGrid(t *testing.T) {
	p := loadFixture(t)
	big := Batch{Items: []BatchItem{{Req: prefillReq(9000, 0), Tokens: 9000}}}
	strict, err := NewProfilePredictor(p, Options{Model: qwen3()})
	require.NoError(t, err)
	_, err = strict.Predict(big)
	assert.EqualError(t, err, "mlp.csv: num_tokens 9000 outside profiled range [1, 8192]")

	longCtx := Batch{Items: []BatchItem{{Req: decodeReq(20000), Tokens: 1}}}
	_, err = strict.Predict(longCtx)
	assert.EqualError(t, err, "attention.csv decode: (batch_size 1, kv_cache_size 20000) outside the profiled grid "+
		"(batch_size [1, 256], kv_cache_size [1, 16384])")

	loose, err := NewProfilePredictor(p, Options{Model: qwen3(), Extrapolate: true})
	require.NoError(t, err)
	_, err = loose.Predict(big)
	require.NoError(t, err)
	_, err = loose.Predict(longCtx)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"attention.csv decode: 1 look-ups outside the profiled grid (batch_size [1, 256], kv_cache_size [1, 16384]) " +
			"extrapolated linearly (batch_size 1..1, kv_cache_size 20000..20000)",
		"attention.csv kv_cache_save: 1 look-ups outside the profiled grid (num_tokens [1, 8192]) " +
			"extrapolated linearly (num_tokens 9000..9000)",
		"attention.csv prefill: 1 look-ups outside the profiled grid (prefill_chunk_size [1, 8192], kv_cache_size [0, 16384]) " +
			"extrapolated linearly (prefill_chunk_size 9000..9000, kv_cache_size 0..0)",
		"mlp.csv: 3 look-ups outside the profiled grid (num_tokens [1, 8192]) extrapolated linearly (num_tokens 9000..9000)",
	}, loose.(*profilePredictor).Warnings())
}

func TestSimulateExtrapolationWarnings(t *testing.T) {
	opts := fixtureOptions(t)
	reqs := []scenarios.Request{req("long", 0, 16000, 600)} // decode context passes 16384
	_, err := Simulate(opts, reqs)
	assert.ErrorContains(t, err, "kv_cache_size 16385) outside the profiled grid")
	assert.ErrorIs(t, err, ErrOutsideGrid)
	assert.ErrorContains(t, err, "batch of 1 requests (long, request 1 of the workload, 1 tokens)", "the error names the request")
	opts.Extrapolate = true
	res, err := Simulate(opts, reqs)
	require.NoError(t, err)
	require.Len(t, res.Warnings, 1)
	assert.Contains(t, res.Warnings[0], "attention.csv decode: 215 look-ups outside")
}

func TestProfilePredictorRefusals(t *testing.T) {
	p := loadFixture(t)
	tests := []struct {
		name string
		opts Options
		p    func() *Profile
		want string
	}{
		{"other model", Options{Model: ModelSpec{Name: "x"}}, nil, "model.name"},
		{"tp", func() Options { o := Options{Model: qwen3()}; o.Settings.TP = 2; return o }(), nil,
			"tp 1 differs from settings.tp 2"},
		{"pp must divide layers", func() Options { o := Options{Model: qwen3()}; o.Settings.PP = 3; return o }(), nil,
			"model.layers 28 is not divisible by settings.pp 3"},
		{"pp needs send_recv", func() Options { o := Options{Model: qwen3()}; o.Settings.PP = 2; return o }(), nil,
			"no send_recv.csv, needed for pp 2"},
		{"backend", func() Options { o := Options{Model: qwen3()}; o.Settings.AttentionBackend = "flashinfer"; return o }(), nil,
			`attention_backend "paged|sdpa" differs`},
		{"template", Options{Model: qwen3()}, func() *Profile { q := *p; q.Provenance.Source = SourceTemplate; return &q },
			`source is "template"`},
		{"cpu needs cpu_overheads.csv", Options{Model: qwen3(), CPUOverhead: true},
			func() *Profile { q := *p; q.cpu, q.launch = nil, nil; return &q }, "has no cpu_overheads.csv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prof := p
			if tc.p != nil {
				prof = tc.p()
			}
			_, err := NewProfilePredictor(prof, tc.opts)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	t.Run("lm head needs its ops", func(t *testing.T) {
		fsys := fixtureFS(t, map[string]func(string) string{"mlp.csv": func(s string) string {
			return strings.ReplaceAll(s, "time_stats.sampler.", "time_stats.other.")
		}})
		q, err := LoadProfile(fsys, "p")
		require.NoError(t, err)
		_, err = NewProfilePredictor(q, Options{Model: qwen3()})
		assert.EqualError(t, err, "profile p: mlp.csv lacks time_stats.sampler.median, needed because model.lm_head is true")
	})
}

func TestProfilePredictorCPU2DAndCollectives(t *testing.T) {
	fsys := fixtureFS(t, map[string]func(string) string{
		"cpu_overheads.csv": func(string) string {
			// num_tokens ≥ batch_size: the product grid {1, 64} × {1, 64, 1024} without
			// (64, 1); cpu = 1 + 0.01·tokens + 0.1·bs
			return "batch_size,num_tokens,cpu_total_median,launch_median\n" +
				"1,1,1.11,0\n1,64,1.74,0\n1,1024,11.34,0\n64,64,8.04,0\n64,1024,17.64,0\n"
		},
		"send_recv.csv": func(string) string {
			return ",time_stats.send_recv.median,size\n0,0.01,2048\n1,1.01,20000000\n"
		},
	})
	p, err := LoadProfile(fsys, "p")
	require.NoError(t, err)
	o := Options{Model: qwen3(), CPUOverhead: true}
	o.Settings.PP = 2
	pred, err := NewProfilePredictor(p, o)
	require.NoError(t, err)
	b := Batch{Items: []BatchItem{{Req: decodeReq(100), Tokens: 1}, {Req: decodeReq(100), Tokens: 1}}}
	first, err := pred.Predict(b)
	require.NoError(t, err)
	b.Stage = 1
	last, err := pred.Predict(b)
	require.NoError(t, err)
	layers := 14 * (fixtureLayer(2) + fixtureKVSave(2) + fixtureDecode(2, 100))
	sendRecv := 0.01 + (2*1024*2-2048)*1.0/(20000000-2048)
	emb, head := 0.005+0.000001*2, 0.004+0.000002*2+0.080+0.0004*2+0.050+0.0001*2
	cpu := 1 + 0.01*2 + 0.1*2 // on the diagonal of the triangular cell
	assert.InDelta(t, (layers+emb+sendRecv)*1e-3, first.KernelS, 1e-12)
	assert.InDelta(t, (layers+head)*1e-3, last.KernelS, 1e-12)
	assert.InDelta(t, cpu*1e-3, first.CPUS, 1e-12, "CPU is charged on every stage")
	assert.InDelta(t, cpu*1e-3, last.CPUS, 1e-12)
}

func TestProfileIsReadThroughFS(t *testing.T) {
	fsys := fstest.MapFS{}
	_, err := LoadProfile(fsys, "x")
	assert.ErrorContains(t, err, "x/provenance.yaml")
}
