package realkit

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
)

// scriptedTransport answers every POST with a streamed body written by serve through
// an io.Pipe, so that inside a synctest bubble every time.Sleep of the "server" is exact.
type scriptedTransport struct {
	mu     sync.Mutex
	bodies []completionRequest
	status int
	serve  func(req completionRequest, w io.Writer)
}

func (s *scriptedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body completionRequest
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	s.mu.Unlock()
	status := s.status
	if status == 0 {
		status = http.StatusOK
	}
	pr, pw := io.Pipe()
	go func() {
		s.serve(body, pw)
		pw.Close()
	}()
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: pr, Request: r}, nil
}

func sse(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(w, "data: %s\n\n", b)
}

func textChunk(text string) obj {
	return obj{"object": "text_completion", "choices": []obj{{"index": 0, "text": text, "finish_reason": nil}}}
}

func usageChunk(prompt, completion int) obj {
	return obj{"choices": []obj{}, "usage": obj{"prompt_tokens": prompt, "completion_tokens": completion}}
}

// streamTokens is a well-behaved server: ttft, then one text chunk per token every itl.
func streamTokens(ttft, itl time.Duration) func(completionRequest, io.Writer) {
	return func(req completionRequest, w io.Writer) {
		fmt.Fprint(w, ": keep-alive\n\nevent: message\n")
		sse(w, textChunk("")) // a chunk without text is not a token
		time.Sleep(ttft)
		for k := range req.MaxTokens {
			if k > 0 {
				time.Sleep(itl)
			}
			sse(w, textChunk("tok"))
		}
		sse(w, usageChunk(len(req.Prompt.([]any)), req.MaxTokens))
		fmt.Fprint(w, "data: [DONE]\n\n")
	}
}

func ms(x float64) time.Duration { return time.Duration(math.Round(x * 1e9)) }

func TestOpenAIClientTimesAreExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &scriptedTransport{serve: streamTokens(120*time.Millisecond, 7*time.Millisecond)}
		c := &OpenAIClient{BaseURL: "http://server/v1/", Model: "qwen3", HTTP: &http.Client{Transport: tr}}
		reqs := []scenarios.Request{
			{ID: "a", ArrivalS: 0, PromptTokens: 4, OutputTokens: 3},
			{ID: "b", ArrivalS: 0.25, PromptTokens: 5, OutputTokens: 2},
			{ID: "c", ArrivalS: 0.25, PromptTokens: 6, OutputTokens: 1}, // open loop: sent with b
		}
		run, err := c.Replay(t.Context(), reqs)
		require.NoError(t, err)
		require.Len(t, run.Repetitions, 1)
		rep := run.Repetitions[0]
		require.Len(t, rep.Records, 3)
		for i, rec := range rep.Records {
			assert.Equal(t, reqs[i].ID, rec.ID)
			assert.Equal(t, ms(reqs[i].ArrivalS), ms(rep.SubmittedS[i]), "sent at its arrival")
			assert.Equal(t, 120*time.Millisecond, ms(rec.FirstTokenS-rec.ArrivalS), "TTFT of %s", rec.ID)
			assert.Equal(t, ms(rec.ArrivalS)+120*time.Millisecond+time.Duration(rec.OutputTokens-1)*7*time.Millisecond,
				ms(rec.CompletionS), "E2E of %s", rec.ID)
			for k := 1; k < len(rec.TokenTimesS); k++ {
				assert.Equal(t, 7*time.Millisecond, ms(rec.TokenTimesS[k]-rec.TokenTimesS[k-1]), "ITL")
			}
			if rec.OutputTokens > 1 {
				tpot := (rec.CompletionS - rec.FirstTokenS) / float64(rec.OutputTokens-1)
				assert.Equal(t, 7*time.Millisecond, ms(tpot), "TPOT of %s", rec.ID)
			}
		}
		assert.Equal(t, validation.Record{ID: "a", ArrivalS: 0, PromptTokens: 4, OutputTokens: 3, FirstTokenS: 0.12,
			TokenTimesS: []float64{0.12, 0.127, 0.134}, CompletionS: 0.134}, rep.Records[0])
		assert.Equal(t, Lateness{Count: 3, MaxS: 0, MeanS: 0, P99S: 0, WorstID: "a"}, rep.Lateness)
		assert.Equal(t, "client", run.Meta.Timestamps)
		assert.JSONEq(t, `{"url":"http://server/v1/completions","model":"qwen3"}`, string(run.Meta.EngineConfig))

		require.Len(t, tr.bodies, 3)
		for _, b := range tr.bodies {
			assert.True(t, b.Stream)
			assert.True(t, b.StreamOptions.IncludeUsage)
			assert.True(t, b.IgnoreEOS)
			assert.Equal(t, "qwen3", b.Model)
			assert.Equal(t, b.MaxTokens, b.MinTokens)
		}
	})
}

func TestOpenAIClientRejectsStreamsWithoutPerTokenTimes(t *testing.T) {
	tests := []struct {
		name   string
		status int
		serve  func(completionRequest, io.Writer)
		want   string
	}{
		{"HTTP error", http.StatusBadRequest, func(_ completionRequest, w io.Writer) {
			fmt.Fprint(w, `{"error":"extra fields not permitted"}`)
		}, `HTTP 400 Bad Request: {"error":"extra fields not permitted"}`},
		{"no [DONE]", 0, func(_ completionRequest, w io.Writer) {
			sse(w, textChunk("a"))
			sse(w, textChunk("b"))
		}, "stream ended without [DONE]"},
		{"no usage", 0, func(_ completionRequest, w io.Writer) {
			sse(w, textChunk("a"))
			sse(w, textChunk("b"))
			fmt.Fprint(w, "data: [DONE]\n\n")
		}, "no usage chunk before [DONE]"},
		{"stopped early", 0, func(_ completionRequest, w io.Writer) {
			sse(w, textChunk("a"))
			sse(w, usageChunk(3, 1))
			fmt.Fprint(w, "data: [DONE]\n\n")
		}, "server generated 1 tokens, 2 were asked for"},
		{"two tokens in one chunk", 0, func(_ completionRequest, w io.Writer) {
			sse(w, textChunk("ab"))
			sse(w, usageChunk(3, 2))
			fmt.Fprint(w, "data: [DONE]\n\n")
		}, "1 chunks carried text for 2 tokens"},
		{"error in stream", 0, func(_ completionRequest, w io.Writer) {
			sse(w, obj{"error": obj{"message": "overloaded"}})
		}, "server error in stream: overloaded"},
		{"bad chunk", 0, func(_ completionRequest, w io.Writer) {
			fmt.Fprint(w, "data: {not json\n\n")
		}, `bad stream chunk "{not json"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := &scriptedTransport{status: tt.status, serve: tt.serve}
				c := &OpenAIClient{BaseURL: "http://server", Model: "m", HTTP: &http.Client{Transport: tr}}
				run, err := c.Replay(t.Context(), []scenarios.Request{{ID: "x", PromptTokens: 3, OutputTokens: 2}})
				require.Error(t, err)
				assert.Contains(t, err.Error(), `openai client: 1 of 1 requests failed: request "x": `+tt.want)
				assert.Empty(t, run.Repetitions[0].Records)
			})
		})
	}
}

// TestOpenAIClientOverLoopback runs the real HTTP path against a local server that
// streams with known delays; socket timing is not exact, so bounds are one-sided.
func TestOpenAIClientOverLoopback(t *testing.T) {
	var mu sync.Mutex
	var got []completionRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/completions" || r.Method != http.MethodPost {
			http.Error(w, "wrong endpoint "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		var body completionRequest
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, body)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		fw := flushWriter{w: w, f: w.(http.Flusher)}
		streamTokens(30*time.Millisecond, 10*time.Millisecond)(body, fw)
	}))
	defer srv.Close()

	c := &OpenAIClient{BaseURL: srv.URL, Model: "m"}
	reqs := []scenarios.Request{{ID: "a", ArrivalS: 0, PromptTokens: 8, OutputTokens: 3},
		{ID: "b", ArrivalS: 0.02, PromptTokens: 2, OutputTokens: 2}}
	run, err := c.Replay(t.Context(), reqs)
	require.NoError(t, err)
	recs := run.Repetitions[0].Records
	require.Len(t, recs, 2)
	for i, rec := range recs {
		assert.GreaterOrEqual(t, rec.FirstTokenS-rec.ArrivalS, 0.030, "TTFT of %s", rec.ID)
		assert.GreaterOrEqual(t, run.Repetitions[0].SubmittedS[i], rec.ArrivalS)
		assert.Len(t, rec.TokenTimesS, reqs[i].OutputTokens)
	}
	assert.GreaterOrEqual(t, recs[0].CompletionS-recs[0].ArrivalS, 0.050, "E2E of a")
	require.Len(t, got, 2)
	prompts := map[int]bool{}
	for _, b := range got {
		prompts[len(b.Prompt.([]any))] = true
		raw, _ := json.Marshal(b)
		assert.True(t, strings.Contains(string(raw), `"stream_options":{"include_usage":true}`))
	}
	assert.Equal(t, map[int]bool{8: true, 2: true}, prompts, "prompt token ids of the requested lengths")
}

type flushWriter struct {
	w io.Writer
	f http.Flusher
}

func (fw flushWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	fw.f.Flush()
	return n, err
}

func TestDefaultPromptIsDeterministic(t *testing.T) {
	r := scenarios.Request{ID: "17", PromptTokens: 50}
	a, b := DefaultPrompt(r).([]int), DefaultPrompt(r).([]int)
	assert.Equal(t, a, b)
	assert.Len(t, a, 50)
	assert.NotEqual(t, a, DefaultPrompt(scenarios.Request{ID: "18", PromptTokens: 50}))
	for _, id := range a {
		assert.True(t, id >= 1000 && id < 30000, "id %d", id)
	}
}
