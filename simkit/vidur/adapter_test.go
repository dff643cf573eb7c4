package vidur_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit/vidur"
	"github.com/simval/simval/simkit/vidurfmt"
	"github.com/simval/simval/validation"
)

func smallScenario() vidur.Scenario {
	return vidur.Scenario{
		Requests: []scenarios.Request{
			{ID: "q0", ArrivalS: 0, PromptTokens: 12, OutputTokens: 4},
			{ID: "q1", ArrivalS: 2, PromptTokens: 9, OutputTokens: 1},
		},
		Model: "meta-llama/Meta-Llama-3-8B", Device: "a100", NetworkDevice: "a100_pairwise_nvlink",
		Settings: validation.EngineSettings{Scheduler: "sarathi", TokenBudget: 512, MaxSeqs: 128, BlockSize: 16},
	}
}

// TestInstalledVidur runs a real Vidur when one is named by SIMVAL_VIDUR_PYTHON and
// SIMVAL_VIDUR_DIR, and skips with the reason otherwise.
func TestInstalledVidur(t *testing.T) {
	in, err := vidur.FindInstall("", "")
	if err != nil {
		require.ErrorIs(t, err, vidur.ErrNoInstall)
		t.Skip(err.Error())
	}
	s := smallScenario()
	run, err := in.Run(context.Background(), s, t.TempDir())
	require.NoError(t, err)
	require.Len(t, run.Records, len(s.Requests))
	require.NoError(t, validation.ValidateRecords(run.Records))
	t.Logf("vidur took %v", run.Wall)
}

func TestFindInstallReasons(t *testing.T) {
	t.Setenv(vidur.EnvPython, "")
	t.Setenv(vidur.EnvDir, "")
	_, err := vidur.FindInstall("", "")
	require.ErrorIs(t, err, vidur.ErrNoInstall)
	assert.ErrorContains(t, err, "set SIMVAL_VIDUR_PYTHON (interpreter) and SIMVAL_VIDUR_DIR")

	_, err = vidur.FindInstall("/bin/sh", t.TempDir())
	require.ErrorIs(t, err, vidur.ErrNoInstall)
	assert.ErrorContains(t, err, "is not Vidur's source folder")

	_, err = vidur.FindInstall("no-such-python-simval", t.TempDir())
	assert.ErrorContains(t, err, `interpreter "no-such-python-simval"`)
}

func TestScenarioArgs(t *testing.T) {
	s := smallScenario()
	s.Settings.NumBlocks, s.Settings.TP, s.MaxTokens = 1000, 2, 8192
	args, err := s.Args("/w/trace.csv", "/w/out")
	require.NoError(t, err)
	line := strings.Join(args, " ")
	for _, want := range []string{
		"-m vidur.main", "--replica_config_model_name meta-llama/Meta-Llama-3-8B", "--replica_config_tensor_parallel_size 2",
		"--replica_scheduler_config_type sarathi", "--sarathi_scheduler_config_chunk_size 512",
		"--sarathi_scheduler_config_batch_size_cap 128", "--sarathi_scheduler_config_num_blocks 1000",
		"--request_generator_config_type trace_replay", "--trace_request_generator_config_trace_file /w/trace.csv",
		"--trace_request_generator_config_max_tokens 8192", "--metrics_config_output_dir /w/out",
		"--random_forrest_execution_time_predictor_config_skip_cpu_overhead_modeling",
	} {
		assert.Contains(t, line, want)
	}

	s.Settings = validation.EngineSettings{Scheduler: "fastertransformer", MaxSeqs: 8}
	args, err = s.Args("t", "o")
	require.NoError(t, err)
	line = strings.Join(args, " ")
	assert.Contains(t, line, "--replica_scheduler_config_type faster_transformer")
	assert.Contains(t, line, "--faster_transformer_scheduler_config_batch_size_cap 8")

	s.Settings, s.CPUOverhead = validation.EngineSettings{Scheduler: "lightllm:4", TokenBudget: 2048, BlockSize: 1}, true
	args, err = s.Args("t", "o")
	require.NoError(t, err)
	line = strings.Join(args, " ")
	assert.Contains(t, line, "--lightllm_scheduler_config_max_tokens_in_batch 2048")
	assert.Contains(t, line, "--lightllm_scheduler_config_max_waiting_iters 4")
	assert.Contains(t, line, "--no-random_forrest_execution_time_predictor_config_skip_cpu_overhead_modeling")

	s.Settings.Scheduler = "hfcb:fifo"
	_, err = s.Args("t", "o")
	assert.ErrorContains(t, err, `scheduler "hfcb:fifo" has no Vidur counterpart`)
}

// fakeVidur is an "interpreter" that records its arguments and working folder and
// writes a canned request_metrics.csv where Vidur would: <output_dir>/<timestamp>/.
const fakeVidur = `#!/bin/sh
out=""
trace=""
while [ $# -gt 0 ]; do
  case "$1" in
    --metrics_config_output_dir) out="$2"; shift ;;
    --trace_request_generator_config_trace_file) trace="$2"; shift ;;
  esac
  shift
done
pwd > "$FAKE_LOG"
cp "$trace" "$FAKE_LOG.trace"
mkdir -p "$out/2026-01-01_00-00-00-000000"
cp "$FAKE_METRICS" "$out/2026-01-01_00-00-00-000000/request_metrics.csv"
`

func TestRunWithFakeVidur(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "vidur-src")
	require.NoError(t, os.MkdirAll(filepath.Join(src, "vidur"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "vidur", "main.py"), nil, 0o644))
	python := filepath.Join(dir, "python")
	require.NoError(t, os.WriteFile(python, []byte(fakeVidur), 0o755))

	// Vidur's answer: q1 completes first. q0: TTFT 0.05, E2E 0.35 over 4 tokens;
	// q1: TTFT = E2E = 0.04 (one token), scheduled 0.01 after arrival.
	metrics := []vidurfmt.RequestMetrics{
		vidurfmt.MetricsFromOutcome(vidurfmt.RequestOutcome{ID: 1, ArrivedAt: 2, ArrivalPrefill: 9, ArrivalDecode: 1, Prefill: 9, Decode: 1,
			ScheduledAt: 2.01, PrefillCompletedAt: 2.04, CompletedAt: 2.04, Completed: true, InterArrivalS: 2}),
		vidurfmt.MetricsFromOutcome(vidurfmt.RequestOutcome{ID: 0, ArrivedAt: 0, ArrivalPrefill: 12, ArrivalDecode: 4, Prefill: 12, Decode: 4,
			PrefillCompletedAt: 0.05, CompletedAt: 0.35, Completed: true, InterArrivalS: math.NaN()}),
	}
	var b bytes.Buffer
	require.NoError(t, vidurfmt.WriteRequestMetrics(&b, metrics))
	canned := filepath.Join(dir, "canned.csv")
	require.NoError(t, os.WriteFile(canned, b.Bytes(), 0o644))
	t.Setenv("FAKE_METRICS", canned)
	t.Setenv("FAKE_LOG", filepath.Join(dir, "log"))

	in, err := vidur.FindInstall(python, src)
	require.NoError(t, err)
	run, err := in.Run(context.Background(), smallScenario(), t.TempDir())
	require.NoError(t, err)

	cwd, err := os.ReadFile(filepath.Join(dir, "log"))
	require.NoError(t, err)
	assert.Equal(t, src, strings.TrimSpace(string(cwd)), "vidur runs in its source folder")
	trace, err := os.ReadFile(filepath.Join(dir, "log.trace"))
	require.NoError(t, err)
	assert.Equal(t, "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,12,4\n2.0,9,1\n", string(trace))

	require.Len(t, run.Records, 2)
	q0, q1 := run.Records[0], run.Records[1]
	assert.Equal(t, "q0", q0.ID)
	assert.InDeltaSlice(t, []float64{0.05, 0.15, 0.25, 0.35}, q0.TokenTimesS, 1e-12, "evenly spaced decode tokens")
	assert.InDelta(t, 0.35, q0.CompletionS, 1e-12)
	assert.InDelta(t, 2.04, q1.FirstTokenS, 1e-12)
	assert.Equal(t, []float64{q1.FirstTokenS}, q1.TokenTimesS)
	assert.InDelta(t, 2.01, *q1.FirstScheduledS, 1e-12)
	require.NoError(t, validation.ValidateRecords(run.Records))

	long := smallScenario()
	long.Requests[0].PromptTokens = 4095
	_, err = in.Run(context.Background(), long, t.TempDir())
	assert.ErrorContains(t, err, "exceed Vidur's max_tokens 4096")
}

func TestRecordsFromMetricsChecks(t *testing.T) {
	reqs := smallScenario().Requests
	row := func(id, p, d int) vidurfmt.RequestMetrics {
		return vidurfmt.MetricsFromOutcome(vidurfmt.RequestOutcome{ID: id, ArrivalPrefill: p, ArrivalDecode: d, Prefill: p, Decode: d,
			PrefillCompletedAt: 1, CompletedAt: 2, Completed: true})
	}
	_, err := vidur.RecordsFromMetrics([]vidurfmt.RequestMetrics{row(0, 12, 4)}, reqs)
	assert.ErrorContains(t, err, "vidur reported 1 requests, the workload has 2")
	_, err = vidur.RecordsFromMetrics([]vidurfmt.RequestMetrics{row(0, 12, 4), row(1, 8, 1)}, reqs)
	assert.ErrorContains(t, err, `request 1 ("q1"): vidur ran 8 prompt and 1 output tokens, the workload has 9 and 1`)
	_, err = vidur.RecordsFromMetrics([]vidurfmt.RequestMetrics{row(0, 12, 4), row(0, 12, 4)}, reqs)
	assert.ErrorContains(t, err, "request id 0 is out of range or repeated")
}
