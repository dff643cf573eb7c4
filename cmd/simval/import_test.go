package main

import (
	"bytes"
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

const fixtures = "../../realkit/benchfmt/testdata/"

func fixedImportClock(t *testing.T) {
	t.Helper()
	was := importClock
	importClock = func() time.Time { return time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { importClock = was })
}

func TestImportEachTool(t *testing.T) {
	fixedImportClock(t)
	for _, tc := range []struct{ tool, file, says string }{
		{"vllm-bench", "vllm-bench.json", "wrote %s: 3 of 4 requests from vllm-bench"},
		{"aiperf", "aiperf-profile_export.jsonl", "wrote %s: 2 of 3 requests from aiperf"},
		{"guidellm", "guidellm-benchmarks.json", "wrote %s: 2 of 3 requests from guidellm"},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run.json")
			_, errOut, code := runCLI(t, "import", "--from", tc.tool, fixtures+tc.file, "--target", h200, "--out", out)
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, errOut, strings.Replace(tc.says, "%s", out, 1))
			assert.Contains(t, errOut, "note: ", "reconstructions and failures are said")
			b, err := realkit.ReadBaselineFile(out)
			require.NoError(t, err)
			assert.Equal(t, "client", b.Meta.Timestamps)
			assert.Equal(t, tc.tool, b.Import.Tool)
			assert.Equal(t, time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC), b.Import.ImportedAt)
			assert.Equal(t, "hfcb", b.Meta.Engine, "the target's engine unless --engine says otherwise")

			// The run is judged like any recorded run, the clock said once.
			stdout, _, code := runCLI(t, "validate", "--run", out, "--run", out)
			assert.NotEqual(t, 2, code, stdout)
			assert.Equal(t, 1, strings.Count(stdout, validation.ClientTimestampsWarning), stdout)
		})
	}
}

func TestImportRefusals(t *testing.T) {
	fixedImportClock(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "run.json")
	_, errOut, code := runCLI(t, "import", "--from", "locust", fixtures+"vllm-bench.json", "--target", h200, "--out", out)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `--from: unknown tool "locust" (want vllm-bench, aiperf or guidellm)`)

	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"metadata": {"session_num": 4, "request_start_ns": 1}, "metrics": {}, "error": null}`+"\n"), 0o644))
	_, errOut, code = runCLI(t, "import", "--from", "aiperf", bad, "--target", h200, "--out", out)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, bad+` line 1 (id "session-4"): field metrics.time_to_first_token missing`)
	_, err := os.Stat(out)
	assert.True(t, os.IsNotExist(err), "nothing written for a refused file")
}

// `sim --format vllm-bench` writes what `import --from vllm-bench` reads: the same
// requests come back, in arrival order, to within float rounding.
func TestSimVLLMBenchRoundTrip(t *testing.T) {
	fixedImportClock(t)
	dir := t.TempDir()
	simOut, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "poisson-moderate", "--format", "vllm-bench")
	require.Equal(t, 0, code)
	again, _, _ := runCLI(t, "sim", "--target", h200, "--scenario", "poisson-moderate", "--format", "vllm-bench")
	assert.Equal(t, simOut, again, "deterministic")
	file := filepath.Join(dir, "sim.json")
	require.NoError(t, os.WriteFile(file, []byte(simOut), 0o644))
	out := filepath.Join(dir, "run.json")
	_, errOut, code := runCLI(t, "import", "--from", "vllm-bench", file, "--target", h200, "--out", out)
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, errOut, "reconstructed")
	assert.NotContains(t, errOut, "failed")

	jsonOut, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "poisson-moderate", "--format", "json")
	require.Equal(t, 0, code)
	var doc simJSON
	require.NoError(t, json.Unmarshal([]byte(jsonOut), &doc))
	b, err := realkit.ReadBaselineFile(out)
	require.NoError(t, err)
	got := b.Repetitions[0].Records
	require.Len(t, got, len(doc.Requests))
	byArrival := map[float64]validation.Record{}
	for _, r := range doc.Requests {
		byArrival[r.ArrivalS] = r
	}
	require.Len(t, byArrival, len(doc.Requests), "arrivals identify the requests of this scenario")
	for i, r := range got {
		w, ok := byArrival[r.ArrivalS]
		require.True(t, ok, "record %d: arrival %v not simulated", i, r.ArrivalS)
		assert.Equal(t, w.PromptTokens, r.PromptTokens)
		assert.Equal(t, w.OutputTokens, r.OutputTokens)
		require.Len(t, r.TokenTimesS, len(w.TokenTimesS))
		for k := range w.TokenTimesS {
			assert.InDelta(t, w.TokenTimesS[k], r.TokenTimesS[k], 1e-9, "record %d token %d", i, k)
		}
	}
	var buf bytes.Buffer
	require.NoError(t, realkit.WriteBaseline(&buf, b))
}
