package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const h200 = "h200-hfcb-qwen3-0.6b"

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func TestListCommands(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"scenarios"}, []string{"queue-free-spaced", "batched-burst", "poisson-moderate", "long-prompt-mixed"}},
		{[]string{"targets"}, []string{h200, "fixture-sarathi-qwen3-0.6b", "measured"}},
	}
	for _, tc := range tests {
		t.Run(tc.args[0], func(t *testing.T) {
			out, _, code := runCLI(t, tc.args...)
			require.Equal(t, 0, code)
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
		})
	}
}

func TestSimJSONShape(t *testing.T) {
	out, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "queue-free-spaced", "--format", "json")
	require.Equal(t, 0, code)
	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	for _, k := range []string{"target", "requests", "summary"} {
		assert.Contains(t, doc, k)
	}
	var reqs []map[string]any
	require.NoError(t, json.Unmarshal(doc["requests"], &reqs))
	require.Len(t, reqs, 8)
	for _, k := range []string{"id", "arrival_s", "prompt_tokens", "output_tokens", "first_token_s", "token_times_s", "completion_s"} {
		assert.Contains(t, reqs[0], k)
	}
	assert.Len(t, reqs[0]["token_times_s"], 64)
	var sum map[string]map[string]any
	require.NoError(t, json.Unmarshal(doc["summary"], &sum))
	for _, k := range []string{"count", "mean", "p50", "p90", "p99", "max"} {
		assert.Contains(t, sum["ttft"], k)
	}
}

func TestSimTraceAndFormats(t *testing.T) {
	out, _, code := runCLI(t, "sim", "--target", h200, "--trace", "testdata/small.csv")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "3 requests")
	assert.Contains(t, out, "ttft")

	out, _, code = runCLI(t, "sim", "--target", h200, "--trace", "testdata/small.csv", "--format", "vidur-csv")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4)
	assert.True(t, strings.HasPrefix(lines[0], "Request Id,request_e2e_time,"), lines[0])

	_, errOut, code := runCLI(t, "sim", "--target", h200, "--trace", "testdata/bad.csv")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "bad.csv")
	assert.Contains(t, errOut, "line 3")

	_, errOut, code = runCLI(t, "sim", "--target", h200, "--scenario", "queue-free-spaced", "--format", "yaml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "unknown format")
}

func TestValidateExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"recorded baselines pass", []string{"validate", "--target", h200}, 0},
		{"kernel-only fails", []string{"validate", "--target", h200, "--scenario", "queue-free-spaced", "--no-cpu-overhead"}, 1},
		{"unknown scenario is an error", []string{"validate", "--scenario", "nope"}, 2},
		{"unknown target is an error", []string{"validate", "--target", "nope"}, 2},
		{"nothing judged is not a pass", []string{"validate", "--target", "fixture-sarathi-qwen3-0.6b"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, code := runCLI(t, tc.args...)
			assert.Equal(t, tc.code, code)
		})
	}
}

func TestValidateJSONShape(t *testing.T) {
	out, _, code := runCLI(t, "validate", "--target", h200, "--scenario", "queue-free-spaced", "--format", "json")
	require.Equal(t, 0, code)
	var doc struct {
		Pass     bool             `json:"pass"`
		Results  []map[string]any `json:"results"`
		Warnings []string         `json:"warnings"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.True(t, doc.Pass)
	require.Len(t, doc.Results, 16)
	for _, k := range []string{"scenario", "target", "metric", "stat", "real", "sim", "rel_err", "bound", "pass"} {
		assert.Contains(t, doc.Results[0], k)
	}
}

func TestValidateReportDir(t *testing.T) {
	dir := t.TempDir()
	_, _, code := runCLI(t, "validate", "--target", h200, "--report-dir", dir, "--format", "markdown")
	require.Equal(t, 0, code)
	for _, sc := range []string{"queue-free-spaced", "batched-burst", "poisson-moderate", "long-prompt-mixed"} {
		base := filepath.Join(dir, sc, h200)
		md, err := os.ReadFile(filepath.Join(base, "summary.md"))
		require.NoError(t, err)
		assert.Contains(t, string(md), "Real vs sim")
		for _, png := range []string{"ttft_cdf.png", "itl_cdf.png", "ttft_per_request.png", "e2e_per_request.png"} {
			b, err := os.ReadFile(filepath.Join(base, png))
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(b, []byte("\x89PNG")), png)
		}
	}
}

func TestSimReplicas(t *testing.T) {
	one, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "batched-burst", "--format", "json")
	require.Equal(t, 0, code)
	two, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "batched-burst", "--format", "json", "--replicas", "2")
	require.Equal(t, 0, code)
	e2eP50 := func(out string) float64 {
		var doc struct {
			Summary struct {
				E2E struct {
					P50 float64 `json:"p50"`
				} `json:"e2e"`
			} `json:"summary"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &doc))
		return doc.Summary.E2E.P50
	}
	assert.Less(t, e2eP50(two), e2eP50(one), "two replicas share the burst, so requests finish sooner")
	_, errOut, code := runCLI(t, "sim", "--target", h200, "--scenario", "batched-burst", "--replicas", "2", "--global-scheduler", "bogus")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "bogus")
}

func TestSimWhatIfsAndEngineStates(t *testing.T) {
	out, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "batched-burst", "--set", "num_blocks=24")
	require.Equal(t, 0, code, "a 24-block cache (KV padded to 6144) is inside the profiled grid")
	assert.Contains(t, out, "16 requests")
	_, errOut, code := runCLI(t, "sim", "--target", h200, "--scenario", "batched-burst", "--set", "tp=2")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `setting "tp": not one of`)
	_, errOut, code = runCLI(t, "sim", "--target", h200, "--scenario", "batched-burst", "--set", "num_blocks")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "want key=value")

	warm, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "cold-start-burst", "--engine-state", "warm")
	require.Equal(t, 0, code)
	cold, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "cold-start-burst", "--engine-state", "cold")
	require.Equal(t, 0, code)
	assert.NotContains(t, warm, "graph captures")
	assert.Contains(t, cold, "graph captures")
	assert.NotContains(t, warm, "fresh engine processes")
	assert.Contains(t, cold, "50th percentile of first-use costs")
	assert.Contains(t, cold, "8 processes pooled (the expectation)")
	coldJSON, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "cold-start-burst", "--format", "json")
	require.Equal(t, 0, code)
	var doc simJSON
	require.NoError(t, json.Unmarshal([]byte(coldJSON), &doc))
	require.NotNil(t, doc.FirstUse, "a cold simulation reports the spread of fresh processes")
	require.Len(t, doc.FirstUse.Bands, 3)
	assert.Equal(t, doc.Summary, doc.FirstUse.Bands[1].Summary, "requests and summary are the median process's")
	warmJSON, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "cold-start-burst", "--engine-state", "warm",
		"--format", "json")
	require.Equal(t, 0, code)
	assert.NotContains(t, warmJSON, `"first_use"`)
	asDeclared, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "cold-start-burst")
	require.Equal(t, 0, code)
	assert.Equal(t, cold, asDeclared, "a scenario is simulated in the state it declares")
	restart, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "cold-start-burst", "--engine-state", "restart")
	require.Equal(t, 0, code)
	assert.Contains(t, restart, "graph captures")
	assert.NotEqual(t, cold, restart, "a restarted engine pays less than a cold one")
	_, errOut, code = runCLI(t, "sim", "--target", h200, "--scenario", "poisson-moderate", "--engine-state", "after-warmup")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "needs --warmup-from")
	after, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "poisson-moderate", "--engine-state", "after-warmup",
		"--warmup-from", "../../targets/catalog/h200-hfcb-qwen3-0.6b/baselines/poisson-moderate.json")
	require.Equal(t, 0, code)
	assert.Contains(t, after, "1 graph captures", "the recorded warm-up left one key of this workload uncaptured")
	_, errOut, code = runCLI(t, "sim", "--target", h200, "--scenario", "poisson-moderate", "--engine-state", "lukewarm")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `engine state "lukewarm" is not one of warm, cold, restart, after-warmup`)

	// A process's history, simulated as simval real runs it: warm-up policy, then passes.
	first, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "poisson-moderate", "--warmup", "none")
	require.Equal(t, 0, code)
	assert.Contains(t, first, "fresh engine processes", "nothing ran before the first pass: a cold process")
	second, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "poisson-moderate", "--warmup", "none",
		"--repetition", "2")
	require.Equal(t, 0, code)
	assert.NotContains(t, second, "fresh engine processes")
	assert.Less(t, capturesIn(t, second), capturesIn(t, first), "the first pass captured most of what the second meets")
	replayDefault, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "poisson-moderate", "--repetition", "1")
	require.Equal(t, 0, code)
	replay, _, code := runCLI(t, "sim", "--target", h200, "--scenario", "poisson-moderate", "--warmup", "replay")
	require.Equal(t, 0, code)
	assert.Equal(t, replay, replayDefault, "--repetition alone warms up as simval real does: replay")
	for _, bad := range [][]string{
		{"--warmup", "lukewarm"}, {"--repetition", "0"}, {"--warmup", "none", "--engine-state", "warm"},
		{"--repetition", "2", "--warmup-from", "x.json"},
	} {
		_, errOut, code = runCLI(t, append([]string{"sim", "--target", h200, "--scenario", "poisson-moderate"}, bad...)...)
		assert.Equal(t, 2, code, "%v", bad)
		assert.NotEmpty(t, errOut, "%v", bad)
	}
	_, errOut, _ = runCLI(t, "sim", "--target", h200, "--scenario", "poisson-moderate", "--warmup", "lukewarm")
	assert.Contains(t, errOut, `--warmup "lukewarm": want one of none, shapes, replay`)
}

// capturesIn reads "N graph captures" from sim's table header (0 when none).
func capturesIn(t *testing.T, table string) int {
	t.Helper()
	_, after, ok := strings.Cut(table, " graph captures")
	if !ok {
		return 0
	}
	head := table[:len(table)-len(after)-len(" graph captures")]
	n, err := strconv.Atoi(head[strings.LastIndex(head, " ")+1:])
	require.NoError(t, err, table)
	return n
}

// The simval binary links the evaluating library, not the test harness: goldie's
// flags (-update, -clean, -template) must not be registered in it.
func TestBinaryRegistersNoGoldenFlags(t *testing.T) {
	for _, name := range []string{"update", "clean", "template"} {
		assert.Nil(t, flag.Lookup(name), "flag -%s registered: something in cmd/simval links goldie", name)
	}
}

func TestValidateRecordedRuns(t *testing.T) {
	base := "../../targets/catalog/h200-hfcb-qwen3-0.6b/"
	out, _, code := runCLI(t, "validate", "--run", base+"baselines/batched-burst.json", "--format", "json")
	require.Equal(t, 0, code, out)
	var doc struct {
		Results []map[string]any `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Equal(t, "batched-burst", doc.Results[0]["scenario"], "a run of a catalog scenario is judged as that scenario")

	// A run of a trace of fresh engine processes is judged on its own requests, cold.
	out, _, _ = runCLI(t, "validate", "--run", base+"dev/cold-burst-tail.json", "--format", "markdown")
	assert.Contains(t, out, "# run-cold-burst-tail on h200-hfcb-qwen3-0.6b")
	assert.Contains(t, out, "graph captures", "simulated from a cold engine")

	// Fresh processes of several runs of one trace, judged as one pool.
	out, _, _ = runCLI(t, "validate", "--pool", "--run", base+"dev/cold-poisson.json",
		"--run", base+"dev/first-use-speed/cold-poisson-1.json", "--format", "markdown")
	assert.Contains(t, out, "# run-cold-poisson-pooled2 on h200-hfcb-qwen3-0.6b")
	_, errOut, code := runCLI(t, "validate", "--pool")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--pool pools the --run files")

	_, errOut, code = runCLI(t, "validate", "--run", base+"baselines/batched-burst.json", "--scenario", "batched-burst")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--run judges the files given")
	_, errOut, code = runCLI(t, "validate", "--run", "nope.json")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "nope.json")
}
