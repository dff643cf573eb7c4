package validation

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// traceSchema compiles testdata/trace-event.schema.json.
func traceSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := jsonschema.NewCompiler().Compile("testdata/trace-event.schema.json")
	require.NoError(t, err)
	return sch
}

func validateTrace(t *testing.T, sch *jsonschema.Schema, doc []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	require.NoError(t, err)
	return sch.Validate(inst)
}

// perfettoInput is two real repetitions with warm-up (one capturing) and a sim
// trace without warm-up.
func perfettoInput() ([][]Step, []Step) {
	real := [][]Step{
		indexed(
			Step{StartS: -3, DurationS: 1.5, Warmup: true, Captured: true, Graphs: 1, QPad: 64, KVPad: 16384, SeqKPad: 1024},
			Step{StartS: -1, DurationS: 0.02, Warmup: true, Graphs: 1},
			Step{StartS: 0, DurationS: 0.0173, Items: []StepItem{pre("a", 100), dec("b", 7)}, QTokens: 101, KVRead: 7, QPad: 128, KVPad: 16384, SeqKPad: 1024, Graphs: 1},
			st(0.02, 0.0136, dec("a", 100), dec("b", 8)),
		),
		indexed(
			Step{StartS: -2.5, DurationS: 1.2, Warmup: true, Captured: true, Graphs: 1},
			st(0, 0.018, pre("a", 100), dec("b", 7)),
		),
	}
	sim := indexed(capStep(0, 0.4), st(0.4, 0.017, pre("a", 100), dec("b", 7)), st(0.42, 0.014, dec("a", 100), dec("b", 8)))
	return real, sim
}

// decodedTrace is what the tests read back from a trace file.
type decodedTrace struct {
	TraceEvents []struct {
		Name string         `json:"name"`
		Cat  string         `json:"cat"`
		Ph   string         `json:"ph"`
		TS   *float64       `json:"ts"`
		Dur  *float64       `json:"dur"`
		PID  int            `json:"pid"`
		TID  int            `json:"tid"`
		Args map[string]any `json:"args"`
	} `json:"traceEvents"`
	DisplayTimeUnit string         `json:"displayTimeUnit"`
	OtherData       map[string]any `json:"otherData"`
}

func TestWritePerfetto(t *testing.T) {
	real, sim := perfettoInput()
	var a, b bytes.Buffer
	require.NoError(t, WritePerfetto(&a, "queue-free-8 steps", real, sim))
	require.NoError(t, WritePerfetto(&b, "queue-free-8 steps", real, sim))
	assert.Equal(t, a.String(), b.String(), "same inputs, same bytes")
	require.NoError(t, validateTrace(t, traceSchema(t), a.Bytes()))

	var tr decodedTrace
	jd := json.NewDecoder(bytes.NewReader(a.Bytes()))
	jd.DisallowUnknownFields()
	require.NoError(t, jd.Decode(&tr))
	assert.Equal(t, "ms", tr.DisplayTimeUnit)
	assert.Equal(t, map[string]any{
		"title":     "queue-free-8 steps",
		"offset_s":  -3.0,
		"time_note": "seconds since the repetition's t0 = ts/1e6 + offset_s",
	}, tr.OtherData)

	type meta struct {
		name     string
		pid, tid int
		value    string
	}
	var metas []meta
	complete := map[[2]int]int{}
	for _, e := range tr.TraceEvents {
		switch e.Ph {
		case "M":
			assert.Nil(t, e.TS)
			metas = append(metas, meta{e.Name, e.PID, e.TID, e.Args["name"].(string)})
		case "X":
			complete[[2]int{e.PID, e.TID}]++
			assert.Equal(t, "step", e.Cat)
			require.NotNil(t, e.TS)
			require.NotNil(t, e.Dur)
			assert.GreaterOrEqual(t, *e.TS, 0.0)
		default:
			t.Fatalf("unexpected phase %q", e.Ph)
		}
	}
	assert.Equal(t, []meta{
		{"process_name", 1, 0, "real"},
		{"process_name", 2, 0, "sim"},
		{"thread_name", 1, 1, "repetition 1"},
		{"thread_name", 1, 2, "repetition 2"},
		{"thread_name", 2, 1, "sim"},
	}, metas)
	assert.Equal(t, map[[2]int]int{{1, 1}: 4, {1, 2}: 2, {2, 1}: 3}, complete, "every step, warm-up included")

	// The first events in full: the shared shift puts real's first warm-up at 0
	// and every t0 at 3 s; times are microseconds.
	ev := tr.TraceEvents[5]
	assert.Equal(t, "capture (warm-up)", ev.Name)
	assert.InDelta(t, 0, *ev.TS, 0)
	assert.InDelta(t, 1.5e6, *ev.Dur, 0)
	assert.Equal(t, map[string]any{
		"index": 0.0, "q_tokens": 0.0, "kv_read": 0.0, "q_pad": 64.0, "kv_pad": 16384.0, "seqk_pad": 1024.0,
		"captured": true, "graphs": 1.0, "requests": 0.0,
	}, ev.Args)
	ev = tr.TraceEvents[6]
	assert.Equal(t, "decode-only (warm-up)", ev.Name)
	assert.InDelta(t, 2e6, *ev.TS, 0)
	ev = tr.TraceEvents[7]
	assert.Equal(t, "mixed", ev.Name)
	assert.InDelta(t, 3e6, *ev.TS, 0)
	assert.InDelta(t, 17300, *ev.Dur, 0, "rounded to the nanosecond")
	assert.Equal(t, 2.0, ev.Args["requests"])
	assert.Equal(t, 101.0, ev.Args["q_tokens"])
	ev = tr.TraceEvents[10] // repetition 2, first timed step
	assert.Equal(t, [2]int{1, 2}, [2]int{ev.PID, ev.TID})
	assert.InDelta(t, 3e6, *ev.TS, 0)
	ev = tr.TraceEvents[11] // sim's capture at its t0
	assert.Equal(t, "capture", ev.Name)
	assert.Equal(t, [2]int{2, 1}, [2]int{ev.PID, ev.TID})
	assert.InDelta(t, 3e6, *ev.TS, 0)

	assert.True(t, strings.HasPrefix(a.String(), "{\"traceEvents\":[\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"real\"}},\n"),
		"one event a line, fixed key order: %.200s", a.String())

	var other bytes.Buffer
	sim[1].DurationS = 0.019
	require.NoError(t, WritePerfetto(&other, "queue-free-8 steps", real, sim))
	assert.NotEqual(t, a.String(), other.String(), "the data reaches the file")
}

func TestWritePerfettoOneSide(t *testing.T) {
	sch := traceSchema(t)
	real, sim := perfettoInput()
	for name, in := range map[string]struct {
		real [][]Step
		sim  []Step
	}{"real only": {real, nil}, "sim only": {nil, sim}, "empty repetition": {[][]Step{nil, real[1]}, nil}} {
		t.Run(name, func(t *testing.T) {
			var w bytes.Buffer
			require.NoError(t, WritePerfetto(&w, name, in.real, in.sim))
			require.NoError(t, validateTrace(t, sch, w.Bytes()))
		})
	}
}

func TestWritePerfettoErrors(t *testing.T) {
	real, sim := perfettoInput()
	bad := func(steps []Step, i int, f func(*Step)) []Step {
		out := append([]Step(nil), steps...)
		f(&out[i])
		return out
	}
	tests := []struct {
		name string
		real [][]Step
		sim  []Step
		want string
	}{
		{"nothing", nil, nil, "perfetto: no steps on either side"},
		{"empty repetitions", [][]Step{nil, {}}, nil, "perfetto: no steps on either side"},
		{
			"NaN duration in sim", real, bad(sim, 2, func(s *Step) { s.DurationS = math.NaN() }),
			"perfetto: sim: step 2 (index 2): duration NaN is not finite",
		},
		{
			"negative duration in a real warm-up step", [][]Step{real[0], bad(real[1], 0, func(s *Step) { s.DurationS = -1 })}, sim,
			"perfetto: real repetition 2: step 0 (index 0): duration -1 s is negative",
		},
		{
			"infinite start", [][]Step{bad(real[0], 3, func(s *Step) { s.StartS = math.Inf(1) })}, sim,
			"perfetto: real repetition 1: step 3 (index 3): start +Inf is not finite",
		},
		{
			"infinite duration", [][]Step{bad(real[0], 1, func(s *Step) { s.DurationS = math.Inf(1) })}, sim,
			"perfetto: real repetition 1: step 1 (index 1): duration +Inf is not finite",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w bytes.Buffer
			assert.EqualError(t, WritePerfetto(&w, "t", tc.real, tc.sim), tc.want)
		})
	}
}

// TestTraceSchemaRejects shows that the schema can fail: each broken copy of a
// valid trace must be refused.
func TestTraceSchemaRejects(t *testing.T) {
	sch := traceSchema(t)
	real, sim := perfettoInput()
	var w bytes.Buffer
	require.NoError(t, WritePerfetto(&w, "t", real, sim))
	require.NoError(t, validateTrace(t, sch, w.Bytes()))

	const step = 7 // a complete event
	tests := []struct {
		name   string
		mutate func(doc map[string]any, events []any)
	}{
		{"no traceEvents", func(doc map[string]any, _ []any) { delete(doc, "traceEvents") }},
		{"traceEvents not an array", func(doc map[string]any, _ []any) { doc["traceEvents"] = map[string]any{} }},
		{"unknown phase", func(_ map[string]any, ev []any) { ev[step].(map[string]any)["ph"] = "Z" }},
		{"complete event without dur", func(_ map[string]any, ev []any) { delete(ev[step].(map[string]any), "dur") }},
		{"negative dur", func(_ map[string]any, ev []any) { ev[step].(map[string]any)["dur"] = -1 }},
		{"negative ts", func(_ map[string]any, ev []any) { ev[step].(map[string]any)["ts"] = -0.5 }},
		{"no ts", func(_ map[string]any, ev []any) { delete(ev[step].(map[string]any), "ts") }},
		{"ts a string", func(_ map[string]any, ev []any) { ev[step].(map[string]any)["ts"] = "0" }},
		{"tid a string", func(_ map[string]any, ev []any) { ev[step].(map[string]any)["tid"] = "1" }},
		{"pid fractional", func(_ map[string]any, ev []any) { ev[step].(map[string]any)["pid"] = 1.5 }},
		{"no name", func(_ map[string]any, ev []any) { delete(ev[step].(map[string]any), "name") }},
		{"args not an object", func(_ map[string]any, ev []any) { ev[step].(map[string]any)["args"] = []any{} }},
		{"unknown metadata name", func(_ map[string]any, ev []any) { ev[0].(map[string]any)["name"] = "proc_name" }},
		{"metadata without args", func(_ map[string]any, ev []any) { delete(ev[0].(map[string]any), "args") }},
		{"bad displayTimeUnit", func(doc map[string]any, _ []any) { doc["displayTimeUnit"] = "us" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			require.NoError(t, json.Unmarshal(w.Bytes(), &doc))
			events := doc["traceEvents"].([]any)
			require.Equal(t, "X", events[step].(map[string]any)["ph"])
			tc.mutate(doc, events)
			broken, err := json.Marshal(doc)
			require.NoError(t, err)
			assert.Error(t, validateTrace(t, sch, broken))
		})
	}
}
