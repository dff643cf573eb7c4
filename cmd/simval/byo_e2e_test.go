package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/internal/catalogdirs"
)

// TestBringYourOwnEndToEnd is the bring-your-own workflow as a user runs it: record a
// trace with `simval real` (the fake engine stands in for a GPU), judge the recording
// with `validate --run`, put a scenario replaying the trace into a catalog folder of
// one's own, and see `go test ./scenarios` run it as a subtest, with no Go code.
func TestBringYourOwnEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 on PATH: the fake engine driver that records the run needs it")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	}
	work := t.TempDir()
	trace := writeFile(t, work, "byo.jsonl", mineTrace)

	// 1. Record.
	run := filepath.Join(work, "byo-run.json")
	_, errOut, code := runCLI(t, "real", "--engine", "fake", "--trace", trace, "--target", h200, "--out", run,
		"--repetitions", "1", "--warmup", "none")
	require.Equal(t, 0, code, errOut)

	// 2. Judge the recording. The fake engine is no H200 (2 ms decode steps against
	// ≈ 23 ms), so the verdict is out of bounds (exit 1), on the run's own requests.
	out, errOut, code := runCLI(t, "validate", "--run", run, "--format", "json")
	require.Equal(t, 1, code, errOut)
	var doc struct {
		Results []struct {
			Scenario, Target, Metric, Stat string
			Real                           float64
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.NotEmpty(t, doc.Results)
	for _, r := range doc.Results {
		assert.Equal(t, "run-byo-run", r.Scenario)
		assert.Equal(t, h200, r.Target)
		if r.Metric == "itl" && r.Stat == "p50" {
			assert.InDelta(t, 0.002, r.Real, 1e-9, "the fake engine's decode step")
		}
	}

	// 3. A scenario of one's own, replaying the recorded trace, in a catalog folder.
	catalog := t.TempDir()
	writeFile(t, catalog, "scenarios/byo-trace.yaml", `name: byo-trace
regime: batched
description: the trace recorded above, brought along as a scenario of its own.
workload:
  trace: byo.jsonl
`)
	data, err := os.ReadFile(trace)
	require.NoError(t, err)
	writeFile(t, catalog, "scenarios/byo.jsonl", string(data))

	// 4. go test runs it as a subtest of the regime's test.
	cmd := exec.CommandContext(t.Context(), goTool, "test", "-count=1", "-run", "^TestBatched$/^byo-trace$", "-v", "./scenarios")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), catalogdirs.Env+"="+catalog, "GOLDIE_UPDATE=")
	got, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", got)
	for _, want := range []string{
		"--- PASS: TestBatched/byo-trace ",
		"--- PASS: TestBatched/byo-trace/" + h200 + " ",
		"--- PASS: TestBatched/byo-trace/fixture-sarathi-qwen3-0.6b ",
		"golden not checked: " + filepath.Join(catalog, "golden", "byo-trace", h200+".json") + " does not exist",
	} {
		assert.Contains(t, string(got), want)
	}
	assert.NotContains(t, string(got), "TestBatched/batched-burst", "only the user's scenario ran")
}
