package simkit

import (
	"os"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
)

func TestHFCBGraphKeyIsTheEngines(t *testing.T) {
	pr := loadHFCBFixture(t, hfcbFixtureOptions())
	// A 300-token prefill beside two decodes with 100 and 3000 cached tokens: Q 302 →
	// 320; cached 3100 → 16384; longest key 3001 → 4096.
	b := Batch{Items: []BatchItem{hfcbItem(300, 4, 0, 300), hfcbItem(50, 60, 101, 1), hfcbItem(2990, 30, 3001, 1)}}
	past := make([]int, 3)
	sh := pr.StepShape(b, past)
	assert.Equal(t, GraphKey{Q: 320, KV: 16384, SeqK: 4096}, sh.Key)
	assert.Equal(t, 302, sh.QTokens)
	assert.Equal(t, []int{0, 100, 3000}, past)
	assert.Equal(t, 3100, sh.KVRead)
	// A lone short prefill still pads its key length to 1024.
	assert.Equal(t, GraphKey{Q: 64, KV: 16384, SeqK: 1024}, pr.StepShape(Batch{Items: []BatchItem{hfcbItem(16, 4, 0, 16)}}, nil).Key)
	// A small cache caps both the cached-token padding and the key length.
	o := hfcbFixtureOptions()
	o.Settings.NumBlocks = 24 // 6144 tokens
	small := loadHFCBFixture(t, o)
	assert.Equal(t, GraphKey{Q: 320, KV: 6144, SeqK: 4096}, small.StepShape(b, nil).Key)
	assert.Equal(t, 6144, hfcbPow2(7000, 1024, 6144))
	assert.Equal(t, 1024, hfcbPow2(1, 1024, 0))
	assert.Equal(t, 2048, hfcbPow2(1025, 1024, 0))
}

func TestHFCBCaptureCostByEventAndKind(t *testing.T) {
	pr := loadHFCBFixture(t, hfcbFixtureOptions())
	prefill := Batch{Items: []BatchItem{hfcbItem(500, 4, 0, 500)}}      // Q 512
	bigPrefill := Batch{Items: []BatchItem{hfcbItem(3000, 4, 0, 3000)}} // Q 3008
	decode := Batch{Items: []BatchItem{hfcbItem(50, 60, 101, 1)}}
	mixed := Batch{Items: []BatchItem{hfcbItem(500, 4, 0, 500), hfcbItem(50, 60, 101, 1)}}
	for _, tc := range []struct {
		name   string
		b      Batch
		ev     CaptureEvent
		wantMS float64
	}{
		{"first step: median of the first rows", prefill, CaptureEvent{Ordinal: 0, NewVariant: true}, 750},
		{"first step, whatever its Q", bigPrefill, CaptureEvent{Ordinal: 0, NewVariant: true}, 750},
		{"first capture of the other kernel variant", decode, CaptureEvent{Ordinal: 1, NewVariant: true}, 300},
		{"... however late it comes", prefill, CaptureEvent{Ordinal: 7, NewVariant: true}, 300},
		{"decode: the fresh_decode rows, the fixture having them", decode, CaptureEvent{Ordinal: 1, NewVariant: false}, 130},
		{"prefill: no fresh_prefill rows, the calibration engine's", prefill, CaptureEvent{Ordinal: 5, NewVariant: false}, 150},
		{"mixed: median of three calibration rows", mixed, CaptureEvent{Ordinal: 3, NewVariant: false}, 100},
		// The fixture's first rows are 500 and 1000 ms: a process at their 10% quantile.
		{"first step of a cheap process", prefill, CaptureEvent{NewVariant: true, At: FirstUse(0.1)}, 550},
		{"first step of a costly process", prefill, CaptureEvent{NewVariant: true, At: FirstUse(0.9)}, 950},
	} {
		got, err := pr.CaptureS(tc.b, tc.ev)
		require.NoError(t, err, tc.name)
		assert.InDelta(t, tc.wantMS*1e-3, got, 1e-12, tc.name)
	}
	// The variants split on the padded query length being a multiple of 128.
	var gm GraphModel = pr
	assert.Equal(t, gm.KernelVariant(GraphKey{Q: 128}), gm.KernelVariant(GraphKey{Q: 2432}))
	assert.Equal(t, gm.KernelVariant(GraphKey{Q: 64}), gm.KernelVariant(GraphKey{Q: 8000}))
	assert.NotEqual(t, gm.KernelVariant(GraphKey{Q: 64}), gm.KernelVariant(GraphKey{Q: 2432}))
}

func TestGraphCacheChargesEachVariantOnce(t *testing.T) {
	pr := loadHFCBFixture(t, hfcbFixtureOptions())
	var gm GraphModel = pr
	o := hfcbFixtureOptions()
	o.EngineState = StateCold
	c, err := newGraphCache(o, gm, func(string) {})
	require.NoError(t, err)
	var got []CaptureEvent
	for _, q := range []int{2432, 3328, 2432, 64, 320, 128} {
		k := GraphKey{Q: q, KV: 16384, SeqK: 1024}
		if captured, ev := c.capture(k, gm.KernelVariant(k)); captured {
			got = append(got, ev)
		}
	}
	// 2432 first; 3328 same variant; 2432 replayed; 64 the other variant (its third
	// capture, as in the catalog's cold burst recorded 2026-12-01); then nothing new.
	assert.Equal(t, []CaptureEvent{{Ordinal: 0, NewVariant: true}, {Ordinal: 1},
		{Ordinal: 2, NewVariant: true}, {Ordinal: 3}, {Ordinal: 4}}, got)

	// A restarted process finds every variant compiled.
	o.EngineState = StateRestart
	c, err = newGraphCache(o, gm, func(string) {})
	require.NoError(t, err)
	got = nil
	for _, q := range []int{2432, 64} {
		k := GraphKey{Q: q, KV: 16384, SeqK: 1024}
		_, ev := c.capture(k, gm.KernelVariant(k))
		got = append(got, ev)
	}
	assert.Equal(t, []CaptureEvent{{Ordinal: 0, WarmKernels: true}, {Ordinal: 1, WarmKernels: true}}, got)
}

func TestHFCBCaptureCostOfFreshAndRestartedProcesses(t *testing.T) {
	pr := loadHFCBFixture(t, hfcbFixtureOptions())
	decode := Batch{Items: []BatchItem{hfcbItem(50, 60, 101, 1)}}
	prefill := Batch{Items: []BatchItem{hfcbItem(500, 4, 0, 500)}}
	for _, tc := range []struct {
		name   string
		b      Batch
		ev     CaptureEvent
		wantMS float64
	}{
		{"a restart's first step: the restart rows", prefill, CaptureEvent{WarmKernels: true}, 200},
		{"a later decode capture: the fresh_decode rows", decode, CaptureEvent{Ordinal: 3}, 130},
		{"no fresh_prefill rows: the calibration engine's", prefill, CaptureEvent{Ordinal: 3}, 150},
	} {
		got, err := pr.CaptureS(tc.b, tc.ev)
		require.NoError(t, err, tc.name)
		assert.InDelta(t, tc.wantMS*1e-3, got, 1e-12, tc.name)
	}
}

func TestEngineStatesChargeCapturesWhereTheEngineWould(t *testing.T) {
	reqs := []scenarios.Request{
		{ID: "a", ArrivalS: 0, PromptTokens: 100, OutputTokens: 4},
		{ID: "b", ArrivalS: 5, PromptTokens: 100, OutputTokens: 4}, // same shapes again, after an idle gap
	}
	run := func(o Options) *Result {
		t.Helper()
		pr, p, err := LoadHFCBPredictor(os.DirFS("testdata"), "hfcb-fixture", o)
		require.NoError(t, err)
		o.Predictor, o.Profile, o.StepTrace = pr, p, true
		res, err := Simulate(o, reqs)
		require.NoError(t, err)
		return res
	}
	warm := run(hfcbFixtureOptions())
	assert.Zero(t, warm.Captures)
	assert.Zero(t, warm.CaptureS)

	o := hfcbFixtureOptions()
	o.EngineState = StateCold
	cold := run(o)
	// a: prefill (first capture), one decode key (second capture), the rest replays; b
	// meets the same keys and captures nothing.
	assert.Equal(t, 2, cold.Captures)
	first := 0.750 // the median of the fixture's first rows
	assert.InDelta(t, first+0.300, cold.CaptureS, 1e-9)
	assert.InDelta(t, warm.Records[0].FirstTokenS+first, cold.Records[0].FirstTokenS, 1e-9)
	assert.InDelta(t, warm.Records[1].FirstTokenS-warm.Records[1].ArrivalS,
		cold.Records[1].FirstTokenS-cold.Records[1].ArrivalS, 1e-9, "a warmed-up key costs nothing the second time")
	var keys []GraphKey
	for _, st := range cold.StepTrace {
		if st.Captured {
			keys = append(keys, GraphKey{st.QPad, st.KVPad, st.SeqKPad})
		}
	}
	assert.Equal(t, []GraphKey{{128, 16384, 1024}, {64, 16384, 1024}}, keys)

	o.EngineState, o.WarmGraphs = StateAfterWarmup, keys[:1]
	after := run(o)
	assert.Equal(t, 1, after.Captures, "only the key the warm-up did not capture")
	// The warm-up's capture counts: the next one is the process's second.
	assert.InDelta(t, 0.300, after.CaptureS, 1e-9)

	o.WarmGraphs = nil
	_, _, err := func() (*Result, *Profile, error) {
		pr, p, err := LoadHFCBPredictor(os.DirFS("testdata"), "hfcb-fixture", o)
		require.NoError(t, err)
		o.Predictor, o.Profile = pr, p
		res, err := Simulate(o, reqs)
		return res, p, err
	}()
	require.ErrorContains(t, err, "after-warmup needs the graph keys the warm-up captured")
}

func TestStepTraceRecordsEveryBatch(t *testing.T) {
	o := hfcbFixtureOptions()
	o.EngineState = StateCold
	pr, p, err := LoadHFCBPredictor(os.DirFS("testdata"), "hfcb-fixture", o)
	require.NoError(t, err)
	o.Predictor, o.Profile, o.StepTrace = pr, p, true
	res, err := Simulate(o, []scenarios.Request{{ID: "a", ArrivalS: 0, PromptTokens: 100, OutputTokens: 3}})
	require.NoError(t, err)
	require.Len(t, res.StepTrace, 3)
	first := res.StepTrace[0]
	assert.Equal(t, []validation.StepItem{{ID: "a", Prefill: 100}}, first.Items)
	assert.True(t, first.Captured)
	assert.Equal(t, 1, first.Graphs)
	assert.Equal(t, validation.StepCapture, first.Kind())
	second := res.StepTrace[1]
	assert.Equal(t, []validation.StepItem{{ID: "a", Decode: 1, Past: 100}}, second.Items)
	assert.InDelta(t, first.StartS+first.DurationS, second.StartS, 1e-12)
	total := 0.0
	for _, st := range res.StepTrace {
		total += st.DurationS
	}
	assert.InDelta(t, res.BusyS, total, 1e-12)
}

func TestCaptureTableErrorsNameTheFile(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, f := range []string{"attention.csv", "cpu_overheads.csv", "mlp.csv", "provenance.yaml"} {
		data, err := os.ReadFile("testdata/hfcb-fixture/" + f)
		require.NoError(t, err)
		fsys["b/"+f] = &fstest.MapFile{Data: data}
	}
	fsys["b/graph_capture.csv"] = &fstest.MapFile{Data: []byte("kind,q_pad,capture_ms\nwarm,64,10\n")}
	_, _, err := LoadHFCBPredictor(fsys, "b", hfcbFixtureOptions())
	require.ErrorContains(t, err, "graph_capture.csv")
	require.ErrorContains(t, err, `"warm" is not one of`)

	delete(fsys, "b/graph_capture.csv")
	o := hfcbFixtureOptions()
	o.EngineState = StateCold
	pr, p, err := LoadHFCBPredictor(fsys, "b", o)
	require.NoError(t, err)
	o.Predictor, o.Profile = pr, p
	_, err = Simulate(o, []scenarios.Request{{ID: "a", PromptTokens: 10, OutputTokens: 2}})
	require.ErrorContains(t, err, "no graph_capture.csv")
}
