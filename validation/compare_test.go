package validation

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompareIdenticalPasses(t *testing.T) {
	real := evenRun(8, 64, 0.0173, 0.0136)
	c := Compare(real, real, DefaultCriteria())
	require.Empty(t, c.Problems)
	assert.True(t, c.Pass())
	require.Len(t, c.Checks, 16)
	i := 0
	for _, m := range JudgedMetrics {
		for _, st := range AllStats {
			row := c.Checks[i]
			assert.Equal(t, m, row.Metric)
			assert.Equal(t, st, row.Stat)
			assert.Zero(t, row.RelErr)
			assert.True(t, row.Pass)
			i++
		}
	}
	require.Len(t, c.Paired, 2)
	assert.Equal(t, []Metric{TTFT, E2E}, []Metric{c.Paired[0].Metric, c.Paired[1].Metric})
	require.Len(t, c.Distances, 2)
	assert.Equal(t, []Metric{TTFT, ITL}, []Metric{c.Distances[0].Metric, c.Distances[1].Metric})
	assert.Zero(t, c.Distances[0].KS)
	assert.Zero(t, c.Distances[1].W1S)
	assert.Empty(t, c.Warnings)
}

// The design's motivating case: a kernel-only simulation predicting ~2 ms TTFT and
// ~1.8 ms decode gaps against a real 17.3 ms and 13.6 ms.
func TestCompareKernelOnlySimulatorFails(t *testing.T) {
	real := evenRun(8, 64, 0.0173, 0.0136)
	sim := evenRun(8, 64, 0.0020, 0.0018)
	c := Compare(real, sim, DefaultCriteria())
	assert.False(t, c.Pass())
	worst, ok := c.Worst()
	require.True(t, ok)
	assert.Equal(t, TTFT, worst.Metric, "TTFT is the furthest off relative to its bound")
	assert.InDelta(t, 0.0020/0.0173-1, worst.RelErr, 1e-9)
	assert.Equal(t, BiasUnder, c.Paired[0].Bias)
	assert.InDelta(t, 1-0.0020/0.0173, c.Paired[0].MAPE, 1e-9)
	assert.InDelta(t, 1.0, c.Distances[0].KS, 0)
	assert.InDelta(t, 0.0153, c.Distances[0].W1S, 1e-9)
	for _, row := range c.Checks {
		assert.False(t, row.Pass, "%s %s", row.Metric, row.Stat)
	}
}

func TestCompareBoundEdges(t *testing.T) {
	real := evenRun(4, 3, 0.010, 0.010)
	tests := []struct {
		name   string
		factor float64
		pass   bool
	}{
		{"4% over passes 5% central and 10% tail", 1.04, true},
		{"4% under passes", 0.96, true},
		{"6% over fails the 5% mean bound", 1.06, false},
		{"6% under fails", 0.94, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(real, scaled(real, tt.factor), DefaultCriteria())
			require.Empty(t, c.Problems)
			assert.Equal(t, tt.pass, c.Pass())
			for _, row := range c.Checks {
				assert.InDelta(t, tt.factor-1, row.RelErr, 1e-9, "%s %s", row.Metric, row.Stat)
			}
		})
	}
}

func TestCompareTailOnlyError(t *testing.T) {
	// Sim matches on every request but one, whose TTFT is 8% longer: only tails move,
	// and 8% stays within the 10% tail bound.
	real := evenRun(2, 2, 0.010, 0.010)
	sim := []Record{real[0], rec(real[1].ID, 2, 2.0108, 2.0208)}
	c := Compare(real, sim, DefaultCriteria())
	p99 := c.Checks[3]
	require.Equal(t, TTFT, p99.Metric)
	require.Equal(t, P99, p99.Stat)
	assert.InDelta(t, 0.0799, p99.RelErr, 1e-3)
	assert.True(t, p99.Pass)
}

func TestCompareProblems(t *testing.T) {
	good := evenRun(3, 2, 0.01, 0.01)
	bad := evenRun(3, 2, 0.01, 0.01)
	bad[1].TokenTimesS[1] = math.NaN()
	oneToken := evenRun(3, 1, 0.01, 0.01)
	tests := []struct {
		name     string
		real     []Record
		sim      []Record
		crit     Criteria
		problems []string
	}{
		{"empty both", nil, nil, DefaultCriteria(), []string{"real: no records", "sim: no records"}},
		{"empty sim", good, nil, DefaultCriteria(), []string{"sim: no records"}},
		{"invalid real", bad, good, DefaultCriteria(),
			[]string{`real: invalid records: record 1 (id "r01"): token_times_s[1]: NaN`}},
		{"no bounds", good, good, Criteria{}, []string{"criteria has no bounds"}},
		{"itl on one side only", good, oneToken, DefaultCriteria(), []string{
			"itl: real has 3 samples, sim has 0; need at least 1 each",
			"tpot: real has 3 samples, sim has 0; need at least 1 each",
		}},
		{"min count", good, good, Criteria{Bounds: DefaultCriteria().Bounds, MinCount: 4}, []string{
			"ttft: real has 3 samples, sim has 3; need at least 4 each",
			"itl: real has 3 samples, sim has 3; need at least 4 each",
			"tpot: real has 3 samples, sim has 3; need at least 4 each",
			"e2e: real has 3 samples, sim has 3; need at least 4 each",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(tt.real, tt.sim, tt.crit)
			assert.Equal(t, tt.problems, c.Problems)
			assert.False(t, c.Pass())
		})
	}
}

func TestCompareAllSingleTokenSkipsDecodeMetrics(t *testing.T) {
	run := evenRun(3, 1, 0.01, 0)
	c := Compare(run, run, DefaultCriteria())
	assert.True(t, c.Pass())
	assert.Len(t, c.Checks, 8, "ttft and e2e only")
	assert.Equal(t, []string{
		"itl: no samples on either side; not judged",
		"tpot: no samples on either side; not judged",
	}, c.Warnings)
	require.Len(t, c.Distances, 1)
	assert.Equal(t, TTFT, c.Distances[0].Metric)
}

func TestCompareWarnings(t *testing.T) {
	real := evenRun(3, 2, 0.01, 0.01)
	sim := append(evenRun(2, 2, 0.01, 0.01), rec("extra", 4, 4.01, 4.02), rec("extra2", 6, 6.01, 6.02))
	crit, err := DefaultCriteria().WithOverrides([]BoundOverride{{Metric: ITL, Stat: P99, Max: 0.3, Reason: "tiny run"}})
	require.NoError(t, err)
	c := Compare(real, sim, crit)
	assert.Equal(t, []string{
		"request counts differ: real 3, sim 4",
		"requests only in real: r02",
		"requests only in sim: extra, extra2",
		"bound itl p99 is 30.0% (default 10.0%): tiny run",
	}, c.Warnings)
	assert.Equal(t, 2, c.Paired[0].N, "only matched IDs are paired")
}

func TestCompareRealZero(t *testing.T) {
	// Every real decode gap is 0 (tokens arrive together); the simulator's are not.
	real := []Record{rec("a", 0, 0.01, 0.01), rec("b", 1, 1.01, 1.01), rec("c", 2, 2.01, 2.01)}
	sim := []Record{rec("a", 0, 0.01, 0.01), rec("b", 1, 1.01, 1.01), rec("c", 2, 2.01, 2.04)}
	c := Compare(real, sim, DefaultCriteria())
	var itlMean Row
	for _, r := range c.Checks {
		if r.Metric == ITL && r.Stat == Mean {
			itlMean = r
		}
	}
	assert.True(t, math.IsInf(itlMean.RelErr, 1))
	assert.False(t, itlMean.Pass)
	assert.Contains(t, c.Warnings, "itl mean: real is 0, relative error undefined (sim 10.000 ms)")
	for _, r := range c.Checks {
		if r.Metric == ITL && r.Stat == P50 {
			assert.Zero(t, r.RelErr, "0 vs 0 is no error")
			assert.True(t, r.Pass)
		}
	}
	worst, _ := c.Worst()
	assert.Equal(t, ITL, worst.Metric)
}

func TestCompareKSGate(t *testing.T) {
	// Same mean and median, different spread: the stat rows pass but KS sees it
	// (half of sim lies below every real value, half above).
	real := []Record{rec("a", 0, 0.010), rec("b", 1, 1.010), rec("c", 2, 2.010), rec("d", 3, 3.010)}
	sim := []Record{rec("a", 0, 0.0099), rec("b", 1, 1.0099), rec("c", 2, 2.0101), rec("d", 3, 3.0101)}
	for _, gate := range []bool{false, true} {
		crit := DefaultCriteria()
		crit.GateKS = gate
		c := Compare(real, sim, crit)
		require.Empty(t, c.Problems)
		assert.InDelta(t, 0.5, c.Distances[0].KS, 1e-12)
		assert.Equal(t, gate, c.Distances[0].Gated)
		assert.False(t, c.Distances[0].Pass == gate, "the distance fails only when gated")
		assert.Equal(t, !gate, c.Pass(), "gate=%v", gate)
	}
}

func TestWorstNoRows(t *testing.T) {
	_, ok := Comparison{}.Worst()
	assert.False(t, ok)
	assert.False(t, Comparison{}.Pass(), "nothing compared is not a pass")
}
