package suite

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
)

func TestRecordedDecisionsAreJudged(t *testing.T) {
	ds, err := scenarios.Decisions()
	require.NoError(t, err)
	byName := map[string]*DecisionResult{}
	for _, d := range ds {
		r, err := JudgeDecision(context.Background(), d, Simulator{})
		require.NoError(t, err, d.Name)
		byName[d.Name] = r
	}
	require.Contains(t, byName, "token-budget-long-prefill")
	tb := byName["token-budget-long-prefill"]
	assert.True(t, tb.Judged)
	assert.True(t, tb.Pass(), "%+v %+v", tb.Rows, tb.Rankings)
	assert.Len(t, tb.Rows, 8, "4 statistics x 2 non-reference points")
	assert.Len(t, tb.Rankings, 4, "a 3-point sweep is ranked")
	for _, r := range tb.Rows {
		if r.Value == "256" && r.Metric == "ttft" && r.Stat == "mean" {
			assert.Greater(t, r.RealChange, 2.0, "a 256-token budget multiplies TTFT (3-4x on the H200)")
		}
	}
	assert.Contains(t, strings.Join(tb.Warnings, "\n"), "max_seqs 256 (target 1024)", "the engine resolves other settings with the budget")

	assert.True(t, byName["scheduler-poisson"].Pass())

	kv := byName["kv-memory-preemption"]
	assert.True(t, kv.Judged)
	assert.True(t, kv.Pass(), "%+v", kv.Rows)
	assert.Contains(t, strings.Join(kv.Warnings, "\n"), "token_budget 145379",
		"with 24 blocks the engine infers a larger budget, which the point is simulated with")
}

func TestDecisionRefusesARunOfAnotherSetting(t *testing.T) {
	ds, err := scenarios.Decisions()
	require.NoError(t, err)
	i := slices.IndexFunc(ds, func(d *scenarios.Decision) bool { return d.Name == "scheduler-poisson" })
	require.GreaterOrEqual(t, i, 0, "the catalog has the scheduler decision")
	bad := *ds[i]
	bad.Points = append([]scenarios.DecisionPoint(nil), ds[i].Points...)
	bad.Points[1].Value = "hfcb:fifo" // the run was recorded with prefill_first
	_, err = JudgeDecision(context.Background(), &bad, Simulator{})
	assert.ErrorContains(t, err, "was recorded with scheduler")
}
