package simkit

import (
	"bytes"
	"encoding/csv"
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
// tensor-parallel column 2, and all_reduce.csv from the profiler's writer. Only the
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
