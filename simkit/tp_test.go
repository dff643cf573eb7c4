package simkit

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
)

// allReduceMedianMS is the median of testdata/all_reduce-tp2.csv (written by the
// all-reduce profiler's CSV writer, realkit/drivers/test_profile_allreduce.py): 8 µs
// plus 2e-8 ms per byte, at sizes of 1…32 and 64…256 tokens of hidden 1024 in bf16.
func allReduceMedianMS(bytes float64) float64 { return 0.008 + 2e-8*bytes }

// tpBundle is the bundle in testdata/dir made a tp 2 bundle: provenance tp 2, every
// tensor-parallel column 2, all_reduce.csv from the profiler's writer and an idle poll
// of 100 ms (idle_poll.csv, as hfcb_tp_bundle.py writes it). Only the
// collective time differs from the tp 1 bundle, so the difference of two predictions
// is the communication alone.
func tpBundle(t *testing.T, dir string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	entries, err := os.ReadDir(path.Join("testdata", dir))
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(path.Join("testdata", dir, e.Name()))
		require.NoError(t, err)
		switch {
		case e.Name() == "provenance.yaml":
			require.Contains(t, string(data), "\ntp: 1\n")
			data = []byte(strings.Replace(string(data), "\ntp: 1\n", "\ntp: 2\n", 1))
		case strings.HasSuffix(e.Name(), ".csv"):
			data = setColumns(t, data, "2", "num_tensor_parallel_workers", "tensor_parallel_degree")
		}
		fsys["b/"+e.Name()] = &fstest.MapFile{Data: data}
	}
	ar, err := os.ReadFile("testdata/all_reduce-tp2.csv")
	require.NoError(t, err)
	fsys["b/all_reduce.csv"] = &fstest.MapFile{Data: ar}
	fsys["b/idle_poll.csv"] = &fstest.MapFile{Data: []byte("tp,period_ms,samples,min_ms,max_ms\n2,100,48,99,101\n")}
	return fsys
}

// setColumns sets every cell of the named columns (where present) to v.
func setColumns(t *testing.T, data []byte, v string, cols ...string) []byte {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	for j, h := range recs[0] {
		for _, c := range cols {
			if h == c {
				for _, r := range recs[1:] {
					r[j] = v
				}
			}
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	require.NoError(t, w.WriteAll(recs))
	return b.Bytes()
}

func TestProfilePredictorReportsTPCommunication(t *testing.T) {
	tp2, err := LoadProfile(tpBundle(t, "fixture-profile"), "b")
	require.NoError(t, err)
	o := Options{Model: qwen3()}
	one, err := NewProfilePredictor(loadFixture(t), o)
	require.NoError(t, err)
	o.Settings.TP = 2
	two, err := NewProfilePredictor(tp2, o)
	require.NoError(t, err)

	// 64 tokens: all-reduces of 64 × 1024 × 2 bytes, a grid point of all_reduce.csv.
	b := Batch{Items: []BatchItem{{Req: prefillReq(1000, 0), Tokens: 64}}}
	s1, err := one.Predict(b)
	require.NoError(t, err)
	s2, err := two.Predict(b)
	require.NoError(t, err)
	want := 28 * 2 * allReduceMedianMS(64*2048) * 1e-3
	assert.InDelta(t, want, s2.CommS, 1e-15)
	assert.InDelta(t, s2.CommS, s2.KernelS-s1.KernelS, 1e-15, "communication is inside the kernel time, and all of the difference")
	assert.Zero(t, s1.CommS, "one GPU has no communication")
}

func TestHFCBPredictorTPCommunicationOnPaddedTokens(t *testing.T) {
	o := hfcbFixtureOptions()
	one := loadHFCBFixture(t, o)
	o.Settings.TP = 2
	pr, _, err := LoadHFCBPredictor(tpBundle(t, "hfcb-fixture"), "b", o)
	require.NoError(t, err)

	// 3 decodes: 3 query tokens, padded to 64 under CUDA graphs, so each all-reduce
	// carries 64 × 1024 × 2 bytes.
	b := Batch{Items: []BatchItem{hfcbItem(10, 20, 12, 1), hfcbItem(10, 20, 15, 1), hfcbItem(30, 20, 31, 1)}}
	s1, err := one.Predict(b)
	require.NoError(t, err)
	s2, err := pr.Predict(b)
	require.NoError(t, err)
	want := 28 * 2 * allReduceMedianMS(64*2048) * 1e-3
	assert.InDelta(t, want, s2.CommS, 1e-15)
	assert.InDelta(t, s2.CommS, s2.KernelS-s1.KernelS, 1e-15)
	assert.Zero(t, s1.CommS)

	_, _, err = LoadHFCBPredictor(os.DirFS("testdata"), "hfcb-fixture", o)
	assert.ErrorContains(t, err, "profile hfcb-fixture has tp 1, settings.tp is 2")
	noAR := tpBundle(t, "hfcb-fixture")
	delete(noAR, "b/all_reduce.csv")
	_, _, err = LoadHFCBPredictor(noAR, "b", o)
	assert.ErrorContains(t, err, "has no all_reduce.csv, needed for tp 2")
	noPoll := tpBundle(t, "hfcb-fixture")
	delete(noPoll, "b/idle_poll.csv")
	_, _, err = LoadHFCBPredictor(noPoll, "b", o)
	assert.ErrorContains(t, err, "has no idle_poll.csv, needed for tp 2")
	badPoll := tpBundle(t, "hfcb-fixture")
	badPoll["b/idle_poll.csv"] = &fstest.MapFile{Data: []byte("tp,period_ms\n2,-1\n")}
	_, _, err = LoadHFCBPredictor(badPoll, "b", o)
	assert.ErrorContains(t, err, "b/idle_poll.csv line 2")
}

// An idle tensor-parallel hfcb engine admits a request at its next idle poll, counted
// from the end of its last step; a busy one at once; the first request half a poll
// after it arrives (the poll's phase before t = 0 is unknown). The step trace clocks the
// step as the engine does: from the wake-up, the wait included.
func TestHFCBIdlePollDelaysAdmissionToAnIdleTPEngine(t *testing.T) {
	o := hfcbFixtureOptions()
	o.Settings.TP = 2
	pr, prof, err := LoadHFCBPredictor(tpBundle(t, "hfcb-fixture"), "b", o)
	require.NoError(t, err)
	o.Profile, o.Predictor, o.StepTrace = prof, pr, true
	reqs := []scenarios.Request{req("a", 0, 16, 2), req("b", 1.0, 16, 2), req("c", 1.0005, 16, 2)}
	res, err := Simulate(o, reqs)
	require.NoError(t, err)
	first := res.StepTrace[0]
	assert.Zero(t, first.StartS, "the step starts when the request wakes the engine, as the engine clocks it")
	for _, r := range res.Records {
		if r.ID == "a" {
			require.NotNil(t, r.FirstScheduledS)
			assert.InDelta(t, 0.05, *r.FirstScheduledS, 1e-12, "the first request: half a poll")
			assert.Greater(t, first.DurationS, 0.05, "the wait is inside the step")
		}
	}
	var end float64 // the end of request a's last step: the engine idles from there
	for _, st := range res.StepTrace {
		if st.StartS < 1 {
			end = st.StartS + st.DurationS
		}
	}
	wantStart := end + math.Ceil((1.0-end)/0.1)*0.1
	for _, r := range res.Records {
		if r.ID == "b" || r.ID == "c" {
			require.NotNil(t, r.FirstScheduledS)
			assert.InDelta(t, wantStart, *r.FirstScheduledS, 1e-9, "%s waits for the poll after it arrived", r.ID)
		}
	}
}

// The simulated step trace carries each step's predicted communication.
func TestStepTraceCarriesCommunication(t *testing.T) {
	tp2, err := LoadProfile(tpBundle(t, "fixture-profile"), "b")
	require.NoError(t, err)
	o := Options{Model: qwen3(), Profile: tp2, StepTrace: true}
	o.Settings = sarathiSettings(256, 8, 16, 1024)
	o.Settings.TP = 2
	res, err := Simulate(o, []scenarios.Request{req("a", 0, 40, 3), req("b", 0.001, 8, 4)})
	require.NoError(t, err)
	require.NotEmpty(t, res.StepTrace)
	for _, st := range res.StepTrace {
		tokens := 0.0
		for _, it := range st.Items {
			tokens += float64(it.Prefill + it.Decode)
		}
		assert.InDelta(t, 28*2*allReduceMedianMS(tokens*2048)*1e-3, st.CommS, 1e-15, "step %d", st.Index)
	}
}
