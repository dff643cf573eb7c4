package suite

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

func h200Target(t *testing.T) *targets.Target {
	t.Helper()
	tgt, err := targets.Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	return tgt
}

func TestVidurSettingsAndScenario(t *testing.T) {
	tgt := h200Target(t)
	s, err := VidurSettings(tgt)
	require.NoError(t, err)
	want := tgt.Settings
	want.Scheduler, want.CUDAGraphs = "sarathi", false
	assert.Equal(t, want, s, "hfcb runs as Sarathi with the engine's budget, cap, blocks; no CUDA graphs")
	mismatches := validation.AlignSettings(tgt.Settings, s)
	var fields []string
	for _, m := range mismatches {
		fields = append(fields, m.Field)
	}
	assert.Equal(t, []string{"scheduler", "cuda_graphs"}, fields, "what Vidur cannot be set to")

	reqs := []scenarios.Request{{ID: "a", PromptTokens: 12000, OutputTokens: 32}}
	sc, err := VidurScenario(tgt, reqs, true)
	require.NoError(t, err)
	assert.Equal(t, "h200", sc.Device)
	assert.Equal(t, "h200_dgx", sc.NetworkDevice)
	assert.Equal(t, VidurMaxTokens, sc.MaxTokens)
	args, err := sc.Args()
	require.NoError(t, err)
	line := strings.Join(args, " ")
	for _, w := range []string{"--sarathi_scheduler_config_chunk_size 8192", "--sarathi_scheduler_config_batch_size_cap 1024",
		"--sarathi_scheduler_config_block_size 256", "--sarathi_scheduler_config_num_blocks 3823",
		"--replica_config_model_name Qwen/Qwen3-0.6B",
		"--no-random_forrest_execution_time_predictor_config_skip_cpu_overhead_modeling"} {
		assert.Contains(t, line, w)
	}

	other := *tgt
	other.Settings.Scheduler = "mystery"
	_, err = VidurSettings(&other)
	assert.ErrorContains(t, err, `scheduler "mystery" has no Vidur counterpart`)
}

func TestReadVidurRunStrict(t *testing.T) {
	run := &VidurRun{System: SystemVidur, Target: "t", Scenario: "s",
		Records: []validation.Record{evenRecord("a", 0, 5, 0.02, 0.02, 3)}}
	var b bytes.Buffer
	require.NoError(t, WriteVidurRun(&b, run))
	got, err := ReadVidurRun(b.Bytes(), "r.json")
	require.NoError(t, err)
	assert.Equal(t, run.Records, got.Records)

	_, err = ReadVidurRun([]byte(strings.Replace(b.String(), `"system"`, `"sytem"`, 1)), "r.json")
	assert.ErrorContains(t, err, `r.json: json: unknown field "sytem"`)
	_, err = ReadVidurRun([]byte(strings.Replace(b.String(), `"vidur"`, `"vidurx"`, 1)), "r.json")
	assert.ErrorContains(t, err, `system "vidurx" is not vidur or vidur-cpu`)
}

func TestSameRequests(t *testing.T) {
	reqs := []scenarios.Request{{ID: "a", ArrivalS: 0, PromptTokens: 5, OutputTokens: 3}}
	recs := []validation.Record{evenRecord("a", 0, 5, 0.02, 0.02, 3)}
	require.NoError(t, sameRequests(recs, reqs))
	reqs[0].PromptTokens = 6
	assert.ErrorContains(t, sameRequests(recs, reqs), `record 0 is "a" at 0s with 5+3 tokens, the scenario's request is "a" at 0s with 6+3`)
	assert.ErrorContains(t, sameRequests(nil, reqs), "0 records for 1 requests")
}

func TestRecordedSimulatorNeedsScenario(t *testing.T) {
	_, err := RecordedSimulator{System: SystemVidur}.Run(context.Background(), h200Target(t), nil)
	assert.ErrorContains(t, err, "no scenario")
}

// TestRecordedVidurRuns reads every recorded Vidur run of the H200 target (both
// modes, every catalog scenario) through the judge, as `simval validate --system`
// does in CI: each must be of the scenario's current requests, and on the queue-free
// scenario Vidur must show the failure this project exists for — decode steps
// predicted far too fast (the engine pads every step to a CUDA-graph shape Vidur
// cannot express) — while simval's own prediction holds.
func TestRecordedVidurRuns(t *testing.T) {
	tgt := h200Target(t)
	all, err := scenarios.Catalog()
	require.NoError(t, err)
	for _, sc := range all {
		real, _, err := RecordedBaselines(sc, tgt)
		require.NoError(t, err)
		for _, system := range []string{SystemVidur, SystemVidurCPU} {
			t.Run(sc.Name+"/"+system, func(t *testing.T) {
				ev, err := Evaluate(context.Background(), sc, tgt, RecordedSimulator{System: system}, real)
				require.NoError(t, err)
				assert.Empty(t, ev.Invariants)
				require.Len(t, ev.Outcome.Records, len(ev.Requests))
				if sc.Name != "queue-free-spaced" {
					return
				}
				require.NotNil(t, ev.Comparison)
				for _, r := range ev.Comparison.Rows(sc.Name, tgt.Name) {
					if r.Stat == validation.P50 && (r.Metric == validation.TTFT || r.Metric == validation.ITL) {
						assert.Less(t, r.RelErr, -0.5, "%s %s %s: Vidur under-predicts by more than half", system, r.Metric, r.Stat)
					}
				}
				assert.False(t, ev.Comparison.Pass())
			})
		}
	}
}
