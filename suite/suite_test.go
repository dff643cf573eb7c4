package suite

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

func evenRecord(id string, a float64, prompt int, ttft, itl float64, d int) validation.Record {
	r := validation.Record{ID: id, ArrivalS: a, PromptTokens: prompt, OutputTokens: d}
	for k := range d {
		r.TokenTimesS = append(r.TokenTimesS, a+ttft+float64(k)*itl)
	}
	r.FirstTokenS, r.CompletionS = r.TokenTimesS[0], r.TokenTimesS[d-1]
	return r
}

func TestCheckInvariants(t *testing.T) {
	reqs := []scenarios.Request{{ID: "a", ArrivalS: 0, PromptTokens: 5, OutputTokens: 3}, {ID: "b", ArrivalS: 1, PromptTokens: 6, OutputTokens: 3}}
	good := func() []validation.Record {
		return []validation.Record{evenRecord("a", 0, 5, 0.02, 0.02, 3), evenRecord("b", 1, 6, 0.02, 0.02, 3)}
	}
	tests := []struct {
		name      string
		mutate    func([]validation.Record) []validation.Record
		queueFree bool
		want      string
	}{
		{"clean", func(r []validation.Record) []validation.Record { return r }, true, ""},
		{"missing request", func(r []validation.Record) []validation.Record { return r[:1] }, false, "request b: no record"},
		{"token count", func(r []validation.Record) []validation.Record {
			r[0].TokenTimesS = r[0].TokenTimesS[:2]
			return r
		}, false, "request a: 2 token times for 3 output tokens"},
		{"prompt changed", func(r []validation.Record) []validation.Record { r[1].PromptTokens = 7; return r }, false, "differs from the request"},
		{"time goes back", func(r []validation.Record) []validation.Record {
			r[1].TokenTimesS[2] = 1.0
			r[1].CompletionS = 1.0
			return r
		}, false, "before token 2"},
		{"no TTFT", func(r []validation.Record) []validation.Record {
			r[0].FirstTokenS, r[0].TokenTimesS[0] = 0, 0
			return r
		}, false, "TTFT 0 s is not positive"},
		{"overlap in a queue-free run", func(r []validation.Record) []validation.Record {
			r[0] = evenRecord("a", 0, 5, 0.02, 0.6, 3)
			return r
		}, true, "queue-free precondition: a still running"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := CheckInvariants(reqs, tc.mutate(good()), tc.queueFree)
			if tc.want == "" {
				assert.Empty(t, errs)
				return
			}
			require.NotEmpty(t, errs)
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			assert.Contains(t, strings.Join(msgs, "\n"), tc.want)
		})
	}
}

func TestPoolPairsEveryRepetitionWithEveryRealization(t *testing.T) {
	a := evenRecord("a", 0, 5, 0.02, 0.02, 2)
	b := evenRecord("a", 0, 5, 0.03, 0.02, 2)
	real, sim := pool([][]validation.Record{{a}, {a}}, [][]validation.Record{{a}, {b}})
	require.Len(t, real, 4)
	require.Len(t, sim, 4)
	ids := func(rs []validation.Record) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	assert.Equal(t, []string{"a@1.1", "a@1.2", "a@2.1", "a@2.2"}, ids(real))
	assert.Equal(t, ids(real), ids(sim), "pairs share ids")
	assert.Equal(t, []float64{0.02, 0.03, 0.02, 0.03}, []float64{sim[0].FirstTokenS, sim[1].FirstTokenS,
		sim[2].FirstTokenS, sim[3].FirstTokenS})
	r1, s1 := pool([][]validation.Record{{a}}, [][]validation.Record{{a}})
	assert.Equal(t, "a", r1[0].ID, "one repetition and one realization keep their ids")
	assert.Equal(t, "a", s1[0].ID)
}

func TestRecordedBaselines(t *testing.T) {
	sc, err := scenarios.Lookup("queue-free-spaced")
	require.NoError(t, err)
	fixture, err := targets.Lookup("fixture-sarathi-qwen3-0.6b")
	require.NoError(t, err)
	r, why, err := RecordedBaselines(sc, fixture)
	require.NoError(t, err)
	assert.Nil(t, r)
	assert.Contains(t, why, "no baseline recorded at targets/catalog/fixture-sarathi-qwen3-0.6b/baselines/queue-free-spaced.json")

	h200, err := targets.Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	r, _, err = RecordedBaselines(sc, h200)
	require.NoError(t, err)
	require.Len(t, r.Runs, 5)
	require.Len(t, r.Steps, 5, "every repetition carries its step trace")
	assert.True(t, r.Steps[0][0].Warmup, "repetition 1's trace starts with its warm-up")
	assert.Equal(t, "hfcb:fifo", r.Settings.Scheduler)

	// A baseline of another scenario is refused, naming the file.
	data, name, err := h200.BaselineData("batched-burst")
	require.NoError(t, err)
	b, err := realkit.ReadBaseline(strings.NewReader(string(data)), name)
	require.NoError(t, err)
	_, _, err = realFromBaseline(b, sc, h200, name)
	assert.ErrorContains(t, err, `baseline is for scenario "batched-burst"`)
}

func TestEvaluateJudgesAgainstTheBaseline(t *testing.T) {
	sc, err := scenarios.Lookup("queue-free-spaced")
	require.NoError(t, err)
	h200, err := targets.Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	real, _, err := RecordedBaselines(sc, h200)
	require.NoError(t, err)
	ev, err := Evaluate(context.Background(), sc, h200, Simulator{}, real)
	require.NoError(t, err)
	assert.Empty(t, ev.Invariants)
	assert.Empty(t, ev.Mismatches)
	require.NotNil(t, ev.Report.Spread)
	assert.Equal(t, 5, ev.Report.Spread.Reps)
	assert.Equal(t, 5*8*DefaultPhases, ev.Comparison.RealRequests, "every repetition pooled with every phase realization")
	require.NotNil(t, ev.Steps, "both sides have step traces")
	assert.InDelta(t, 0, ev.Steps.StepCountErr, 0.01)

	// Settings that differ from what the engine resolved refuse the comparison.
	h200.Settings.TokenBudget = 512
	ev, err = Evaluate(context.Background(), sc, h200, Simulator{}, real)
	require.NoError(t, err)
	assert.False(t, ev.Comparison.Pass())
	assert.Contains(t, strings.Join(ev.Comparison.Problems, "\n"), "token_budget: real 8192, sim 512")
}

func TestProvenanceChecks(t *testing.T) {
	prof := &simkit.Provenance{GPU: "NVIDIA H200", GPUDriver: "580", Engine: "hfcb", EngineVersion: "5.17.0",
		Source: simkit.SourceMeasured, HostCPU: "Xeon x16"}
	tests := []struct {
		name           string
		real           Real
		problem, warns string
	}{
		{"same", Real{GPU: "NVIDIA H200", GPUDriver: "580", Engine: "hfcb", EngineVersion: "5.17.0"}, "", ""},
		{"unknown fields are not compared", Real{}, "", ""},
		{"other engine version", Real{Engine: "hfcb", EngineVersion: "5.18.0"}, "profile measured on hfcb 5.17.0, real run on 5.18.0", ""},
		{"other gpu", Real{GPU: "NVIDIA A100-SXM4-80GB"}, `profile measured on GPU "NVIDIA H200"`, ""},
		{"other driver warns", Real{GPUDriver: "570"}, "", "GPU driver 580, real run with 570"},
		{"other host CPU warns", Real{HostCPU: "EPYC x32"}, "", `host CPU "Xeon x16", real run on "EPYC x32"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, w := provenanceChecks(&tc.real, prof)
			if tc.problem == "" {
				assert.Empty(t, p)
			} else {
				assert.Contains(t, strings.Join(p, "\n"), tc.problem)
			}
			if tc.warns == "" {
				assert.Empty(t, w)
			} else {
				assert.Contains(t, strings.Join(w, "\n"), tc.warns)
			}
		})
	}
}

func TestWarmScenarioDoesNotJudgeARepetitionThatCaptured(t *testing.T) {
	sc, err := scenarios.Lookup("poisson-moderate")
	require.NoError(t, err)
	require.Equal(t, scenarios.EngineWarm, sc.State())
	h200, err := targets.Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	real, _, err := RecordedBaselines(sc, h200)
	require.NoError(t, err)
	// Repetition 2 of the 2026-12-01 recording captured one graph in its timed window.
	assert.Len(t, real.Runs, 4)
	joined := strings.Join(real.Warnings, "\n")
	assert.Contains(t, joined, "repetition 2 not judged: the scenario judges a warm engine")
	assert.Contains(t, joined, "step 191 at 4.540 s took 102.3 ms (graph key 320, 16384, 2048)")

	// The same steps, with the capture flags cleared, are all judged.
	data, name, err := h200.BaselineData(sc.Name)
	require.NoError(t, err)
	b, err := realkit.ReadBaseline(strings.NewReader(string(data)), name)
	require.NoError(t, err)
	for i := range b.Repetitions {
		for j := range b.Repetitions[i].Steps {
			if !b.Repetitions[i].Steps[j].Warmup {
				b.Repetitions[i].Steps[j].Captured = false
			}
		}
	}
	all, _, err := realFromBaseline(b, sc, h200, name)
	require.NoError(t, err)
	assert.Len(t, all.Runs, 5)
}

func TestAfterWarmupTakesTheRecordedWarmupKeys(t *testing.T) {
	sc, err := scenarios.Lookup("poisson-moderate")
	require.NoError(t, err)
	h200, err := targets.Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	real, _, err := RecordedBaselines(sc, h200)
	require.NoError(t, err)
	keys := WarmupGraphKeys(real.Steps[0])
	assert.Len(t, keys, 26, "the recorded warm-up left 26 graphs")
	after := *sc
	after.EngineState = scenarios.EngineAfterWarmup
	sys, err := Simulator{}.ForScenario(&after, real)
	require.NoError(t, err)
	assert.Equal(t, keys, sys.(Simulator).WarmGraphs)
	_, err = Simulator{}.ForScenario(&after, nil)
	assert.ErrorContains(t, err, "needs a recorded run with the warm-up's step trace")
}

func TestFixtureProfileIsRefusedAgainstRealBaselines(t *testing.T) {
	// A hand-written fixture that claims the H200 and the engine version is still a
	// fixture: it cannot be judged against the real H200 baselines.
	p, _ := provenanceChecks(&Real{GPU: "NVIDIA H200", Engine: "hfcb", EngineVersion: "5.17.0"},
		&simkit.Provenance{GPU: "NVIDIA H200", Engine: "hfcb", EngineVersion: "5.17.0", Source: simkit.SourceFixture})
	assert.Contains(t, strings.Join(p, "\n"), `profile source is "fixture": only a measured profile is judged against real runs`)
}
