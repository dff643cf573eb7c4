package benchfmt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/validation"
)

var importedAt = time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)

func opts() Options {
	return Options{Target: "h200-hfcb-qwen3-0.6b", Engine: "hfcb", ImportedAt: importedAt, Benchmark: -1,
		Settings: validation.EngineSettings{Scheduler: "hfcb:fifo"}}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return data
}

// want is one expected record: id, arrival, prompt and output tokens, token times.
type want struct {
	id             string
	arrival        float64
	prompt, output int
	times          []float64
}

func assertRecords(t *testing.T, got []validation.Record, wants []want, tol float64) {
	t.Helper()
	require.Len(t, got, len(wants))
	for i, w := range wants {
		r := got[i]
		assert.Equal(t, w.id, r.ID, "record %d", i)
		assert.InDelta(t, w.arrival, r.ArrivalS, tol, "record %d arrival", i)
		assert.Equal(t, w.prompt, r.PromptTokens, "record %d prompt", i)
		assert.Equal(t, w.output, r.OutputTokens, "record %d output", i)
		require.Len(t, r.TokenTimesS, len(w.times), "record %d", i)
		for k, tk := range w.times {
			assert.InDelta(t, tk, r.TokenTimesS[k], tol, "record %d token %d", i, k)
		}
		assert.Equal(t, r.TokenTimesS[0], r.FirstTokenS)
		assert.Equal(t, r.TokenTimesS[len(r.TokenTimesS)-1], r.CompletionS)
	}
}

// roundTrip writes b as `simval real` does and reads it back strictly: an imported run
// is a run file like any other.
func roundTrip(t *testing.T, b *realkit.Baseline) *realkit.Baseline {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, realkit.WriteBaseline(&buf, b))
	back, err := realkit.ReadBaseline(&buf, "run.json")
	require.NoError(t, err)
	return back
}

func TestImportVLLMBench(t *testing.T) {
	data := fixture(t, "vllm-bench.json")
	b, err := Import(VLLMBench, data, "testdata/vllm-bench.json", opts())
	require.NoError(t, err)
	b = roundTrip(t, b)

	assertRecords(t, b.Repetitions[0].Records, []want{
		{"req-0", 0, 12, 4, []float64{0.05, 0.07, 0.09, 0.111}},
		// 6 tokens in 4 chunks: spread evenly between the first (0.06) and last (0.161) token.
		{"req-1", 0.25, 40, 6, []float64{0.31, 0.3302, 0.3504, 0.3706, 0.3908, 0.411}},
		{"req-3", 0.75, 24, 1, []float64{0.805}},
	}, 1e-9)
	assert.Equal(t, "client", b.Meta.Timestamps)
	assert.Equal(t, "h200-hfcb-qwen3-0.6b", b.Target)
	assert.Equal(t, importedAt, b.RecordedAt)
	sum := sha256.Sum256(data)
	assert.Equal(t, &realkit.ImportSource{Tool: "vllm-bench", File: "vllm-bench.json", SHA256: hex.EncodeToString(sum[:]),
		ImportedAt: importedAt, Benchmark: -1}, b.Import)
	assert.Equal(t, &realkit.Summary{Requests: 4, Finished: 3, DurationS: b.Repetitions[0].Records[2].CompletionS},
		b.Repetitions[0].Summary)

	warnings := strings.Join(b.Warnings, "\n")
	assert.Contains(t, warnings, "times are the client's (the client's perf_counter); arrival = start_times minus the earliest")
	assert.Contains(t, warnings, "1 of 3 requests: token times reconstructed, spread evenly between the first and the "+
		"last token (streamed chunks carried several tokens)")
	assert.Contains(t, warnings, "1 of 4 requests failed in the vllm-bench run and are not in this run: req-2 "+
		"(aiohttp.client_exceptions.ServerDisconnectedError: Server disconnected)")

	again, err := Import(VLLMBench, data, "elsewhere/vllm-bench.json", opts())
	require.NoError(t, err)
	var x, y bytes.Buffer
	require.NoError(t, realkit.WriteBaseline(&x, b))
	require.NoError(t, realkit.WriteBaseline(&y, again))
	assert.Equal(t, x.String(), y.String(), "same file, same import time: same bytes")
}

func TestImportAIPerf(t *testing.T) {
	b, err := Import(AIPerf, fixture(t, "aiperf-profile_export.jsonl"), "profile_export.jsonl", opts())
	require.NoError(t, err)
	b = roundTrip(t, b)
	assertRecords(t, b.Repetitions[0].Records, []want{
		// 9 tokens in 5 chunks: spread between 50 ms and 210 ms.
		{"5b2f0e91-0d1c-4bd2-9d6e-2f8f0a1b3c4d", 0, 100, 9, []float64{0.05, 0.07, 0.09, 0.11, 0.13, 0.15, 0.17, 0.19, 0.21}},
		// One chunk per token: the chunk times themselves.
		{"7609a2e7-aa53-4ab1-98f4-f35ecafefd25", 0.25, 550, 4, []float64{0.31, 0.33, 0.3495, 0.37}},
	}, 1e-9)
	warnings := strings.Join(b.Warnings, "\n")
	assert.Contains(t, warnings, "1 records of AIPerf's warmup phase left out")
	assert.Contains(t, warnings, "1 of 2 requests: token times reconstructed")
	assert.Contains(t, warnings, "1 of 3 requests failed in the aiperf run and are not in this run: "+
		"c35e4b1b-6775-4750-b875-94cd68e5ec15 (499 RequestCancellationError: Request was cancelled after 0.000 seconds)")
	assert.Equal(t, "client", b.Meta.Timestamps)
	assert.NotContains(t, warnings, "chunk gaps add up", "the fixture's gaps add up to its request latency")

	// Gaps that do not add up to the tool's request latency are kept, and said.
	lines := strings.Split(string(fixture(t, "aiperf-profile_export.jsonl")), "\n")
	lines[1] = strings.Replace(lines[1], `"request_latency": {"value": 120.0`, `"request_latency": {"value": 125.0`, 1)
	b, err = Import(AIPerf, []byte(strings.Join(lines, "\n")), "profile_export.jsonl", opts())
	require.NoError(t, err)
	assert.Contains(t, strings.Join(b.Warnings, "\n"), "1 of 2 requests: the chunk gaps add up to a last token more "+
		"than 1 ms from the tool's own end of the request; the chunk times are kept")
	assert.InDelta(t, 0.37, b.Repetitions[0].Records[1].CompletionS, 1e-9)
}

func TestImportGuideLLM(t *testing.T) {
	b, err := Import(GuideLLM, fixture(t, "guidellm-benchmarks.json"), "benchmarks.json", opts())
	require.NoError(t, err)
	b = roundTrip(t, b)
	// Unix seconds near 1.76e9 carry about 0.2 µs of float resolution.
	assertRecords(t, b.Repetitions[0].Records, []want{
		{"0b7c5a1e-1111-4c1d-9a8e-000000000001", 0, 32, 4, []float64{0.045, 0.065, 0.085, 0.105}},
		{"0b7c5a1e-1111-4c1d-9a8e-000000000002", 0.25, 128, 6, []float64{0.3, 0.32, 0.34, 0.36, 0.38, 0.4}},
	}, 1e-6)
	assert.Equal(t, "0.4.0", b.Import.ToolVersion)
	assert.Equal(t, map[string]string{"guidellm": "0.4.0"}, b.Meta.Versions)
	warnings := strings.Join(b.Warnings, "\n")
	assert.Contains(t, warnings, "2 of 2 requests: token times reconstructed, spread evenly between the first and the "+
		"last token (the tool keeps only the first and last token times)")
	assert.Contains(t, warnings, "1 of 3 requests failed in the guidellm run and are not in this run: "+
		"0b7c5a1e-1111-4c1d-9a8e-000000000003 (errored: HTTPStatusError: Server error '503 Service Unavailable'")
}

func TestImportGuideLLMBefore04(t *testing.T) {
	data := []byte(`{"benchmarks": [{"requests": {"successful": [
	  {"request_id": "r1", "prompt_tokens": 10, "output_tokens": 3, "start_time": 100.0, "end_time": 100.2,
	   "first_token_time": 100.1, "last_token_time": 100.2}],
	  "errored": [], "incomplete": [{"request_id": "r2", "prompt_tokens": 10, "output_tokens": 0, "start_time": 100.5,
	   "end_time": 100.6, "first_token_time": null, "last_token_time": null, "error": "cancelled at the end"}]}}]}`)
	b, err := Import(GuideLLM, data, "old.json", opts())
	require.NoError(t, err)
	assertRecords(t, b.Repetitions[0].Records, []want{{"r1", 0, 10, 3, []float64{0.1, 0.15, 0.2}}}, 1e-9)
	assert.Contains(t, strings.Join(b.Warnings, "\n"), "1 of 2 requests failed in the guidellm run and are not in this "+
		"run: r2 (incomplete: cancelled at the end)")
}

// edit decodes a JSON object, lets f change it and encodes it again.
func edit(t *testing.T, data []byte, f func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	f(m)
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

func TestImportRefusesBadInput(t *testing.T) {
	vllm := fixture(t, "vllm-bench.json")
	guide := fixture(t, "guidellm-benchmarks.json")
	aiperfLines := strings.Split(strings.TrimSpace(string(fixture(t, "aiperf-profile_export.jsonl"))), "\n")
	successful := func(m map[string]any) []any {
		return m["benchmarks"].([]any)[0].(map[string]any)["requests"].(map[string]any)["successful"].([]any)
	}
	tests := []struct {
		name string
		tool Tool
		data []byte
		want string
	}{
		{"vllm without start_times", VLLMBench, edit(t, vllm, func(m map[string]any) { delete(m, "start_times") }),
			"field start_times missing: import needs a result saved with `vllm bench serve --save-result --save-detailed`"},
		{"vllm list of another length", VLLMBench, edit(t, vllm, func(m map[string]any) { m["ttfts"] = []any{0.05, 0.06, 0.0} }),
			"field ttfts has 3 entries, input_lens 4"},
		{"vllm non-positive ttft", VLLMBench, edit(t, vllm, func(m map[string]any) { m["ttfts"].([]any)[1] = 0.0 }),
			`record 1 (id "req-1"): time to first token 0 s is not positive`},
		{"vllm everything failed", VLLMBench, edit(t, vllm, func(m map[string]any) {
			for i := range m["errors"].([]any) {
				m["errors"].([]any)[i] = "HTTP 500"
			}
		}), "no successful request to import (4 failed: req-0 (HTTP 500)"},
		{"aiperf without ttft", AIPerf, []byte(strings.Replace(aiperfLines[1],
			`"time_to_first_token": {"value": 60.0, "unit": "ms"}, `, "", 1)),
			`line 1 (id "7609a2e7-aa53-4ab1-98f4-f35ecafefd25"): field metrics.time_to_first_token missing`},
		{"aiperf unknown unit", AIPerf, []byte(aiperfLines[0] + "\n" + strings.Replace(aiperfLines[3], `"value": 50.0, "unit": "ms"`,
			`"value": 50.0, "unit": "fortnights"`, 1)),
			`line 2 (id "5b2f0e91-0d1c-4bd2-9d6e-2f8f0a1b3c4d"): field metrics.time_to_first_token: unit "fortnights" not understood`},
		{"aiperf not json", AIPerf, []byte("{\"metadata\": \n"), "line 1: not an AIPerf profile_export.jsonl record"},
		{"guidellm without output_tokens", GuideLLM, edit(t, guide, func(m map[string]any) {
			delete(successful(m)[1].(map[string]any), "output_tokens")
		}), `benchmarks[0].requests.successful[1] (id "0b7c5a1e-1111-4c1d-9a8e-000000000002"): field output_tokens missing`},
		{"guidellm without first token", GuideLLM, edit(t, guide, func(m map[string]any) {
			successful(m)[0].(map[string]any)["info"].(map[string]any)["timings"].(map[string]any)["first_token_iteration"] = nil
		}), `successful[0] (id "0b7c5a1e-1111-4c1d-9a8e-000000000001"): field info.timings.first_token_iteration missing`},
		{"guidellm sampled", GuideLLM, edit(t, guide, func(m map[string]any) { m["args"].(map[string]any)["sample_requests"] = 2 }),
			"may be a sample (sample_requests 2): the simulator would replay a lighter load than the server saw"},
		{"guidellm sweep", GuideLLM, edit(t, guide, func(m map[string]any) {
			m["benchmarks"] = append(m["benchmarks"].([]any), m["benchmarks"].([]any)[0])
		}), "holds 2 benchmarks (a sweep, one per load): choose one with --benchmark 0..1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Import(tc.tool, tc.data, "in.file", opts())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "in.file"), "the error names the file: %v", err)
		})
	}
}

func TestGuideLLMSweepPick(t *testing.T) {
	guide := edit(t, fixture(t, "guidellm-benchmarks.json"), func(m map[string]any) {
		m["benchmarks"] = append(m["benchmarks"].([]any), m["benchmarks"].([]any)[0])
	})
	o := opts()
	o.Benchmark = 1
	b, err := Import(GuideLLM, guide, "sweep.json", o)
	require.NoError(t, err)
	assert.Equal(t, 1, b.Import.Benchmark)
	assert.Len(t, b.Repetitions[0].Records, 2)
}

func TestVLLMBenchRoundTrip(t *testing.T) {
	recs := []validation.Record{
		{ID: "a", ArrivalS: 0, PromptTokens: 16, OutputTokens: 3, FirstTokenS: 0.0231, TokenTimesS: []float64{0.0231, 0.0462, 0.0693}, CompletionS: 0.0693},
		{ID: "b", ArrivalS: 0.5, PromptTokens: 512, OutputTokens: 1, FirstTokenS: 0.61, TokenTimesS: []float64{0.61}, CompletionS: 0.61},
		{ID: "c", ArrivalS: 0.25, PromptTokens: 7, OutputTokens: 2, FirstTokenS: 0.3, TokenTimesS: []float64{0.3, 0.33}, CompletionS: 0.33},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteVLLMBench(&buf, recs, VLLMInfo{Backend: "simval-sim", ModelID: "Qwen/Qwen3-0.6B"}))
	var again bytes.Buffer
	require.NoError(t, WriteVLLMBench(&again, recs, VLLMInfo{Backend: "simval-sim", ModelID: "Qwen/Qwen3-0.6B"}))
	assert.Equal(t, buf.String(), again.String(), "deterministic")

	b, err := Import(VLLMBench, buf.Bytes(), "sim.json", opts())
	require.NoError(t, err)
	// Written in arrival order; vLLM keeps no request ids, so they come back by position.
	assertRecords(t, b.Repetitions[0].Records, []want{
		{"req-0", 0, 16, 3, recs[0].TokenTimesS},
		{"req-1", 0.25, 7, 2, recs[2].TokenTimesS},
		{"req-2", 0.5, 512, 1, recs[1].TokenTimesS},
	}, 1e-12)
	for _, w := range b.Warnings {
		assert.NotContains(t, w, "reconstructed", "one gap per token: nothing to reconstruct")
		assert.NotContains(t, w, "failed")
	}
	var doc map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	assert.InDelta(t, 1e3*validation.SummarizeRun(recs).TTFT.P50, doc["median_ttft_ms"], 1e-9)
}
