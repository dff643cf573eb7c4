package vidur_test

import (
	"bytes"
	"context"
	"math"
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

func TestScenarioArgs(t *testing.T) {
	s := smallScenario()
	s.Settings.NumBlocks, s.Settings.TP, s.MaxTokens = 1000, 2, 8192
	args, err := s.Args()
	require.NoError(t, err)
	line := strings.Join(args, " ")
	for _, want := range []string{
		"--replica_config_model_name meta-llama/Meta-Llama-3-8B", "--replica_config_tensor_parallel_size 2",
		"--replica_scheduler_config_type sarathi", "--sarathi_scheduler_config_chunk_size 512",
		"--sarathi_scheduler_config_batch_size_cap 128", "--sarathi_scheduler_config_num_blocks 1000",
		"--request_generator_config_type trace_replay", "--trace_request_generator_config_max_tokens 8192",
		"--random_forrest_execution_time_predictor_config_prediction_max_tokens_per_request 8192",
		"--random_forrest_execution_time_predictor_config_prediction_max_prefill_chunk_size 512",
		"--random_forrest_execution_time_predictor_config_prediction_max_batch_size 128",
		"--random_forrest_execution_time_predictor_config_skip_cpu_overhead_modeling",
	} {
		assert.Contains(t, line, want)
	}
	for _, launchers := range []string{"trace_file", "output_dir", "cache_dir"} {
		assert.NotContains(t, line, launchers, "flags naming files are the launcher's")
	}

	s.Settings = validation.EngineSettings{Scheduler: "fastertransformer", MaxSeqs: 8}
	args, err = s.Args()
	require.NoError(t, err)
	line = strings.Join(args, " ")
	assert.Contains(t, line, "--replica_scheduler_config_type faster_transformer")
	assert.Contains(t, line, "--faster_transformer_scheduler_config_batch_size_cap 8")

	s.Settings, s.CPUOverhead = validation.EngineSettings{Scheduler: "lightllm:4", TokenBudget: 2048, BlockSize: 1}, true
	args, err = s.Args()
	require.NoError(t, err)
	line = strings.Join(args, " ")
	assert.Contains(t, line, "--lightllm_scheduler_config_max_tokens_in_batch 2048")
	assert.Contains(t, line, "--lightllm_scheduler_config_max_waiting_iters 4")
	assert.Contains(t, line, "--no-random_forrest_execution_time_predictor_config_skip_cpu_overhead_modeling")

	s.Settings.Scheduler = "hfcb:fifo"
	_, err = s.Args()
	assert.ErrorContains(t, err, `scheduler "hfcb:fifo" has no Vidur counterpart`)
}

// fakeLauncher answers with canned request_metrics.csv and keeps what it was given.
type fakeLauncher struct {
	metrics     []byte
	args        []string
	trace       []byte
	launchCount int
}

func (f *fakeLauncher) Launch(_ context.Context, args []string, trace []byte) (*vidur.LaunchOutput, error) {
	f.args, f.trace = args, trace
	f.launchCount++
	return &vidur.LaunchOutput{RequestMetrics: f.metrics, Config: []byte("{}"), CacheKeys: map[string]string{"add": "0123abcd"}}, nil
}

func TestSimulateWithFakeLauncher(t *testing.T) {
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
	l := &fakeLauncher{metrics: b.Bytes()}
	run, err := vidur.Simulate(context.Background(), l, smallScenario())
	require.NoError(t, err)

	assert.Equal(t, "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,12,4\n2.0,9,1\n", string(l.trace))
	want, err := smallScenario().Args()
	require.NoError(t, err)
	assert.Equal(t, want, l.args)
	assert.Equal(t, map[string]string{"add": "0123abcd"}, run.Output.CacheKeys)

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
	_, err = vidur.Simulate(context.Background(), l, long)
	assert.ErrorContains(t, err, "exceed Vidur's max_tokens 4096")
	assert.Equal(t, 1, l.launchCount, "a refused workload never reaches Vidur")
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
