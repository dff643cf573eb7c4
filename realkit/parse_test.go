package realkit

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
)

var twoRequests = []scenarios.Request{
	{ID: "a", ArrivalS: 0, PromptTokens: 7, OutputTokens: 2},
	{ID: "b", ArrivalS: 0.5, PromptTokens: 9, OutputTokens: 3},
}

type obj = map[string]any

func readyLine() obj { return obj{"type": "ready", "protocol": 1, "load_s": 1.5, "warmup_s": 2.5} }

func metaLine() obj {
	return obj{"type": "meta", "protocol": 1, "engine": "fake", "engine_version": "1", "driver": "fake_driver.py",
		"versions": obj{"python": "3.12"}, "gpu": obj{"name": "none", "driver": "none", "cuda": "none", "count": 0},
		"settings": validation.EngineSettings{Scheduler: "fake", BlockSize: 16}, "settings_unknown": []string{},
		"engine_config": obj{}, "clock": "perf_counter", "timestamps": "engine", "warmup_policy": "none",
		"model": obj{}, "host": "h", "seed": 0, "repetitions": 1}
}

func requestLineFor(id string, arrival float64, prompt int, times ...float64) obj {
	return obj{"type": "request", "rep": 0, "id": id, "arrival_s": arrival, "submitted_s": arrival + 0.001,
		"prompt_tokens": prompt, "output_tokens": len(times), "first_token_s": times[0], "token_times_s": times,
		"completion_s": times[len(times)-1], "finish_reason": "length", "restarts": 0}
}

func summaryLine(finished int) obj {
	return obj{"type": "summary", "rep": 0, "requests": 2, "finished": finished, "t0_unix": 1.7e9,
		"t0_clock": 12.5, "duration_s": 1.0}
}

func with(o obj, kv ...any) obj {
	out := maps.Clone(o)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// feed runs lines through a session; it returns the session and the first error.
func feed(t *testing.T, lines ...obj) (*session, error) {
	t.Helper()
	s := newSession(twoRequests, 1, nil)
	for _, l := range lines {
		b, err := json.Marshal(l)
		require.NoError(t, err)
		if err := s.line(b); err != nil {
			return s, err
		}
	}
	return s, nil
}

func TestSessionAcceptsACompleteRun(t *testing.T) {
	var events []Event
	s := newSession(twoRequests, 1, func(e Event) { events = append(events, e) })
	for _, l := range []obj{readyLine(), metaLine(),
		requestLineFor("b", 0.5, 9, 0.6, 0.61, 0.62), // finishes first, reordered to trace order
		requestLineFor("a", 0, 7, 0.01, 0.02),
		{"type": "step", "rep": 0, "index": 0, "start_s": -0.3, "duration_s": 0.2, "warmup": true, "captured": true,
			"graphs": 1},
		{"type": "step", "rep": 0, "index": 0, "start_s": 0.0, "duration_s": 0.01, "items": []obj{{"id": "a", "prefill": 7}},
			"q_tokens": 7, "q_pad": 64, "kv_pad": 16384, "seqk_pad": 1024, "graphs": 1},
		summaryLine(2)} {
		b, _ := json.Marshal(l)
		require.NoError(t, s.line(b))
	}
	require.True(t, s.complete())
	run := s.finish()
	require.Len(t, run.Repetitions, 1)
	rep := run.Repetitions[0]
	assert.Equal(t, []string{"a", "b"}, []string{rep.Records[0].ID, rep.Records[1].ID})
	assert.Equal(t, []float64{0.001, 0.501}, rep.SubmittedS)
	assert.Equal(t, []float64{0.6, 0.61, 0.62}, rep.Records[1].TokenTimesS)
	assert.Equal(t, Summary{Requests: 2, Finished: 2, T0Unix: 1.7e9, T0Clock: 12.5, DurationS: 1}, *rep.Summary)
	assert.Equal(t, []Step{{Index: 0, StartS: -0.3, DurationS: 0.2, Warmup: true, Captured: true, Graphs: 1},
		{Index: 0, DurationS: 0.01, Items: []validation.StepItem{{ID: "a", Prefill: 7}}, QTokens: 7, QPad: 64,
			KVPad: 16384, SeqKPad: 1024, Graphs: 1}}, rep.Steps)
	assert.Equal(t, 2, rep.Lateness.Count)
	assert.Equal(t, "fake", run.Meta.Settings.Scheduler)
	assert.Equal(t, Ready{Protocol: 1, LoadS: 1.5, WarmupS: 2.5}, run.Ready)
	kinds := []string{}
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	assert.Equal(t, []string{"ready", "meta", "request", "request", "summary"}, kinds)
	assert.Equal(t, Event{Kind: "request", Rep: 0, Finished: 2, Total: 2}, events[3])
}

func TestSessionRejectsProtocolViolations(t *testing.T) {
	a := requestLineFor("a", 0, 7, 0.01, 0.02)
	tests := []struct {
		name  string
		lines []obj
		want  string
	}{
		{"request before ready", []obj{a}, "line 1: request line before the ready line"},
		{"request before meta", []obj{readyLine(), a}, "line 2: request line before the meta line"},
		{"other protocol", []obj{with(readyLine(), "protocol", 2)}, "driver speaks protocol 2, want 1"},
		{"unknown type", []obj{{"type": "hello"}}, `unknown line type "hello"`},
		{"missing field", []obj{readyLine(), with(metaLine(), "clock", nil)}, `meta line: missing fields ["clock"]`},
		{"unknown field", []obj{readyLine(), with(metaLine(), "bogus", 1)}, `meta line: json: unknown field "bogus"`},
		{"unknown settings field", []obj{readyLine(), with(metaLine(), "settings", obj{"chunk": 1})},
			`unknown field "chunk"`},
		{"wrong type", []obj{readyLine(), with(metaLine(), "seed", "zero")}, "meta line: json: cannot unmarshal"},
		{"repetitions differ", []obj{readyLine(), with(metaLine(), "repetitions", 3)},
			"driver will run 3 repetitions, want 1"},
		{"not in trace", []obj{readyLine(), metaLine(), requestLineFor("zz", 0, 7, 0.1, 0.2)},
			`request "zz" is not in the trace`},
		{"twice", []obj{readyLine(), metaLine(), a, a}, `line 4: request "a" finished twice`},
		{"token count", []obj{readyLine(), metaLine(), with(a, "output_tokens", 3)},
			"differ from the trace's 0, 7, 2"},
		{"times decrease", []obj{readyLine(), metaLine(), requestLineFor("a", 0, 7, 0.02, 0.01)},
			"request a: token times decrease"},
		{"first token", []obj{readyLine(), metaLine(), with(a, "first_token_s", 0.5)},
			"first_token_s 0.5 is not the first token time 0.01"},
		{"wrong repetition", []obj{readyLine(), metaLine(), with(a, "rep", 1)},
			"line for repetition 1 while repetition 0 is running"},
		{"summary disagrees", []obj{readyLine(), metaLine(), a, summaryLine(2)},
			"2 of 2 requests finished, but 1 request lines"},
		{"after last summary", []obj{readyLine(), metaLine(), a, requestLineFor("b", 0.5, 9, 1, 2, 3),
			summaryLine(2), a}, "line 6: request line after the last repetition's summary"},
		{"after fatal error", []obj{readyLine(), {"type": "error", "message": "boom", "fatal": true}, metaLine()},
			"meta line after the fatal error line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := feed(t, tt.lines...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestSessionKeepsNonFatalErrorsAsWarnings(t *testing.T) {
	s, err := feed(t, readyLine(), metaLine(),
		obj{"type": "error", "message": "request b: 2 token times for 3", "fatal": false, "rep": 0, "request_id": "b"},
		requestLineFor("a", 0, 7, 0.01, 0.02), summaryLine(1))
	require.NoError(t, err)
	assert.False(t, s.complete())
	assert.Equal(t, []string{"request b: 2 token times for 3"}, s.finish().Warnings)
}

func TestLineWriterSplitsLinesAcrossWrites(t *testing.T) {
	var got []string
	w := &lineWriter{onLine: func(b []byte) { got = append(got, string(b)) }}
	for _, chunk := range []string{`{"a":`, "1}\n\n{\"b\"", ":2}\r\n{\"c\":3}"} {
		n, err := w.Write([]byte(chunk))
		require.NoError(t, err)
		assert.Equal(t, len(chunk), n)
	}
	assert.Equal(t, []string{`{"a":1}`, `{"b":2}`}, got)
	assert.Equal(t, `{"c":3}`, string(w.buf), "an unterminated line stays buffered")
}
