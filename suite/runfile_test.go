package suite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
)

// oneProcessRun rewrites a recorded development run (two repetitions, each a fresh
// process that captured six graphs) as if both had run in one engine process under the
// warm-up policy policy, with edit applied to its repetitions' steps, and writes it
// under a temporary folder.
func oneProcessRun(t *testing.T, policy string, edit func(b *realkit.Baseline)) string {
	t.Helper()
	b, err := realkit.ReadBaselineFile("../targets/catalog/h200-hfcb-qwen3-0.6b/dev/probe-prefill-ladder.json")
	require.NoError(t, err)
	require.Len(t, b.Repetitions, 2)
	b.Meta.WarmupPolicy = policy
	if edit != nil {
		edit(b)
	}
	path := filepath.Join(t.TempDir(), "ladder.json")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, realkit.WriteBaseline(f, b))
	require.NoError(t, f.Close())
	return path
}

func TestRecordedRunsJudgesALukewarmProcessRepetitionByRepetition(t *testing.T) {
	path := oneProcessRun(t, "none; before the first repetition only", nil)
	parts, err := RecordedRuns(path)
	require.NoError(t, err)
	require.Len(t, parts, 2, "one judgement per repetition")

	first, second := parts[0], parts[1]
	assert.Equal(t, "run-ladder-rep1", first.Scenario.Name)
	assert.Equal(t, scenarios.EngineCold, first.Scenario.State(), "no warm-up: the process's first repetition starts cold")
	assert.Empty(t, first.Real.WarmGraphs)
	assert.Equal(t, scenarios.EngineAfterWarmup, second.Scenario.State())
	for _, p := range parts {
		assert.Len(t, p.Real.Runs, 1)
		assert.Len(t, p.Real.Steps, 1)
		assert.Len(t, p.Real.Idle, 1)
	}

	// The second repetition starts with every key the first one met, in first-use order.
	var want []simkit.GraphKey
	seen := map[simkit.GraphKey]bool{}
	for _, st := range first.Real.Steps[0] {
		k := simkit.GraphKey{Q: st.QPad, KV: st.KVPad, SeqK: st.SeqKPad}
		if !seen[k] {
			seen[k] = true
			want = append(want, k)
		}
	}
	require.NotEmpty(t, want)
	assert.Equal(t, want, second.Real.WarmGraphs)
	assert.True(t, strings.HasSuffix(second.Real.Source, "repetition 2"), second.Real.Source)

	sys, err := Simulator{}.ForScenario(second.Scenario, second.Real)
	require.NoError(t, err)
	assert.Equal(t, want, sys.(Simulator).WarmGraphs, "the simulator starts from that state")
}

func TestRecordedRunsPoolsAProcessThatStayedWarm(t *testing.T) {
	path := oneProcessRun(t, "replay; before the first repetition only", func(b *realkit.Baseline) {
		// A warm-up before the first repetition (a copy of its first step), and no timed
		// window that captures.
		warm := b.Repetitions[0].Steps[0]
		warm.Warmup = true
		b.Repetitions[0].Steps = append([]realkit.Step{warm}, b.Repetitions[0].Steps...)
		for _, rep := range b.Repetitions {
			for i := range rep.Steps {
				rep.Steps[i].Captured = rep.Steps[i].Captured && rep.Steps[i].Warmup
			}
		}
	})
	parts, err := RecordedRuns(path)
	require.NoError(t, err)
	require.Len(t, parts, 1, "a warm run's repetitions are pooled")
	assert.Equal(t, "run-ladder", parts[0].Scenario.Name)
	assert.Equal(t, scenarios.EngineWarm, parts[0].Scenario.State())
	assert.Len(t, parts[0].Real.Runs, 2)
}

func TestRecordedRunsPoolsFreshProcesses(t *testing.T) {
	parts, err := RecordedRuns("../targets/catalog/h200-hfcb-qwen3-0.6b/dev/probe-prefill-ladder.json")
	require.NoError(t, err)
	require.Len(t, parts, 1)
	assert.Equal(t, scenarios.EngineCold, parts[0].Scenario.State())
	assert.Len(t, parts[0].Real.Runs, 2)
}

func TestPooledRunsJudgeFreshProcessesOfSeveralRunsTogether(t *testing.T) {
	const dev = "../targets/catalog/h200-hfcb-qwen3-0.6b/dev/"
	parts, err := PooledRuns([]string{dev + "cold-poisson.json", dev + "first-use-speed/cold-poisson-1.json",
		dev + "first-use-speed/cold-poisson-2.json"})
	require.NoError(t, err)
	require.Len(t, parts, 1)
	p := parts[0]
	assert.Equal(t, "run-cold-poisson-pooled3", p.Scenario.Name)
	assert.Equal(t, scenarios.EngineCold, p.Scenario.State())
	assert.Len(t, p.Real.Runs, 3+1+1, "every repetition of every file")
	assert.Len(t, p.Real.Steps, 5)

	_, err = PooledRuns([]string{dev + "cold-poisson.json", dev + "cold-burst-tail.json"})
	assert.ErrorContains(t, err, "cold-burst-tail.json is a run of")
	_, err = PooledRuns([]string{dev + "lukewarm/lukewarm-long.none.json.gz"})
	assert.ErrorContains(t, err, "ran in one engine process")
	_, err = PooledRuns(nil)
	assert.ErrorContains(t, err, "no run files")
}
