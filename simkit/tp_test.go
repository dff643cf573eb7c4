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
	"github.com/simval/simval/validation"
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
	fsys["b/idle_poll.csv"] = &fstest.MapFile{Data: []byte("tp,period_ms,samples,min_ms,max_ms\n2,102,48,101,103\n")}
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

// An idle tensor-parallel hfcb engine admits a request at its followers' next idle
// poll, counted from the end of its last step; the first request half a poll after it
// arrives (the poll's phase before t = 0 is unknown). A request that arrives after the
// driver rank drained its queue for that poll joins the step after it. The step trace
// clocks the step as the engine does: from the drain, the wait included.
func TestHFCBIdlePollDelaysAdmissionToAnIdleTPEngine(t *testing.T) {
	o := tpIdlePollOptions(t)
	reqs := []scenarios.Request{req("a", 0, 16, 2), req("b", 1.0, 16, 2), req("c", 1.0005, 16, 2)}
	res, err := Simulate(o, reqs)
	require.NoError(t, err)
	first := res.StepTrace[0]
	assert.Zero(t, first.StartS, "the step starts when the request wakes the engine, as the engine clocks it")
	sched := map[string]float64{}
	for _, r := range res.Records {
		require.NotNil(t, r.FirstScheduledS)
		sched[r.ID] = *r.FirstScheduledS
	}
	assert.InDelta(t, 0.051, sched["a"], 1e-12, "the first request: half a poll")
	assert.Greater(t, first.DurationS, 0.051, "the wait is inside the step")
	var end float64 // the end of request a's last step: the engine idles from there
	for _, st := range res.StepTrace {
		if st.StartS < 1 {
			end = st.StartS + st.DurationS
		}
	}
	poll := end + math.Ceil((1.0-end)/0.102)*0.102
	assert.InDelta(t, poll, sched["b"], 1e-9, "b waits for the poll after it arrived")
	var bStep validation.Step
	for _, st := range res.StepTrace {
		if st.Items[0].ID == "b" && bStep.Items == nil {
			bStep = st
		}
	}
	assert.InDelta(t, 1.0, bStep.StartS, 1e-12, "b's step starts at the drain b woke")
	assert.Len(t, bStep.Items, 1, "c came after the drain")
	assert.InDelta(t, bStep.StartS+bStep.DurationS, sched["c"], 1e-9, "c joins the step after the poll")
}

// pollTiming.admit, case by case: the followers poll every 102 ms from the end of the
// last step; the driver rank drains 100 ms after the previous poll, at once when woken,
// or, with a wake-up left pending from a busy engine, straight after the last step.
func TestPollTimingAdmit(t *testing.T) {
	pt := pollTiming{period: 0.102, wait: 0.1}
	for _, c := range []struct {
		name              string
		since, t          float64
		stale             bool
		wantDrain, wantAt float64
	}{
		{"woken within the first poll", 0, 0.03, false, 0.03, 0.102},
		{"woken at the idle instant", 0, 0, false, 0, 0.102},
		{"woken before the fifth poll's drain", -0.5, 0.007, false, 0.007, 0.01},
		{"after the fifth poll's drain: the sixth", -0.5, 0.009, false, 0.01, 0.112},
		{"stale: the first poll admits nothing new", -0.02, 0.01, true, 0.082, 0.184},
		{"stale matters for the first poll only", -0.2, 0.01, true, 0.01, 0.106},
	} {
		d, at := pt.admit(c.since, c.stale, c.t)
		assert.InDelta(t, c.wantDrain, d, 1e-12, c.name)
		assert.InDelta(t, c.wantAt, at, 1e-12, c.name)
	}
}

// A request that reaches a busy TP engine leaves the driver rank's wake-up pending, so
// a request arriving just after the engine went idle waits two polls; without the busy
// arrival, one. The state before t = 0 can carry the same pending wake-up.
func TestHFCBWakeUpLeftByABusyEngineSkipsTheFirstPoll(t *testing.T) {
	o := tpIdlePollOptions(t)
	o.Idle = &IdleState{SinceS: -0.3}
	schedOf := func(reqs []scenarios.Request, id string) (float64, float64) {
		res, err := Simulate(o, reqs)
		require.NoError(t, err)
		end := 0.0
		for _, st := range res.StepTrace {
			if st.StartS < 2 {
				end = max(end, st.StartS+st.DurationS)
			}
		}
		for _, r := range res.Records {
			if r.ID == id {
				return *r.FirstScheduledS, end
			}
		}
		t.Fatalf("no record %s", id)
		return 0, 0
	}
	// a alone (20 steps), then c 10 ms after a's end: the next poll.
	quiet := []scenarios.Request{req("a", 0, 16, 20)}
	_, endQuiet := schedOf(quiet, "a")
	at, _ := schedOf(append(quiet, req("c", endQuiet+0.01, 16, 2)), "c")
	assert.InDelta(t, endQuiet+0.102, at, 1e-9, "quiet: the first poll")
	// b reaches a while it decodes: c's first poll admits nothing.
	busy := []scenarios.Request{req("a", 0, 16, 20), req("b", 0.2, 16, 2)}
	_, endBusy := schedOf(busy, "a")
	at, _ = schedOf(append(busy, req("c", endBusy+0.01, 16, 2)), "c")
	assert.InDelta(t, endBusy+0.204, at, 1e-9, "woken while busy: the second poll")

	o.Idle = &IdleState{SinceS: -0.01, WakePending: true}
	at, _ = schedOf([]scenarios.Request{req("c", 0, 16, 2)}, "c")
	assert.InDelta(t, -0.01+0.204, at, 1e-9, "a wake-up pending at t = 0")
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

// tpIdlePollOptions simulates the hfcb fixture at tensor parallelism 2 (its bundle with
// an idle poll), keeping the step trace.
func tpIdlePollOptions(t *testing.T) Options {
	t.Helper()
	o := hfcbFixtureOptions()
	o.Settings.TP = 2
	pr, prof, err := LoadHFCBPredictor(tpBundle(t, "hfcb-fixture"), "b", o)
	require.NoError(t, err)
	o.Profile, o.Predictor, o.StepTrace = prof, pr, true
	return o
}
