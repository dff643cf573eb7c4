package validation

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestDefaultCriteria(t *testing.T) {
	c := DefaultCriteria()
	require.Len(t, c.Bounds, len(JudgedMetrics)*len(AllStats))
	want := map[Stat]float64{Mean: 0.05, P50: 0.05, P90: 0.10, P99: 0.10}
	for _, m := range JudgedMetrics {
		for _, st := range AllStats {
			b, ok := c.Bound(m, st)
			require.True(t, ok, "%s %s", m, st)
			assert.InDelta(t, want[st], b.Max, 0, "%s %s", m, st)
			assert.Empty(t, b.Reason)
		}
	}
	_, ok := c.Bound(SchedDelay, Mean)
	assert.False(t, ok, "scheduling delay is not judged")
	assert.Equal(t, 1, c.MinCount)
	assert.False(t, c.GateKS)
	assert.InDelta(t, 0.10, c.MaxKS, 0)
}

func TestWithOverrides(t *testing.T) {
	tests := []struct {
		name    string
		ovs     []BoundOverride
		wantErr string
		check   func(t *testing.T, c Criteria)
	}{
		{name: "none"},
		{
			name: "tighten without reason",
			ovs:  []BoundOverride{{Metric: ITL, Stat: P50, Max: 0.02}},
			check: func(t *testing.T, c Criteria) {
				b, _ := c.Bound(ITL, P50)
				assert.InDelta(t, 0.02, b.Max, 0)
			},
		},
		{
			name: "equal to default without reason",
			ovs:  []BoundOverride{{Metric: TTFT, Stat: P99, Max: 0.10}},
		},
		{
			name: "loosen with reason",
			ovs:  []BoundOverride{{Metric: TTFT, Stat: P99, Max: 0.25, Reason: " p99 of 8 requests rests on one sample "}},
			check: func(t *testing.T, c Criteria) {
				b, _ := c.Bound(TTFT, P99)
				assert.InDelta(t, 0.25, b.Max, 0)
				assert.Equal(t, "p99 of 8 requests rests on one sample", b.Reason)
				other, _ := c.Bound(TTFT, P90)
				assert.InDelta(t, 0.10, other.Max, 0, "other bounds untouched")
			},
		},
		{name: "loosen without reason", ovs: []BoundOverride{{Metric: E2E, Stat: Mean, Max: 0.06}},
			wantErr: "bound override 0 (e2e mean): max 0.06 is looser than the default 0.05 and needs a reason"},
		{name: "loosen with blank reason", ovs: []BoundOverride{{Metric: E2E, Stat: P90, Max: 0.2, Reason: "  "}},
			wantErr: "needs a reason"},
		{name: "unjudged metric", ovs: []BoundOverride{{Metric: SchedDelay, Stat: Mean, Max: 0.01}},
			wantErr: `metric "sched_delay" is not judged`},
		{name: "unknown stat", ovs: []BoundOverride{{Metric: TTFT, Stat: "p95", Max: 0.01}},
			wantErr: `unknown stat "p95"`},
		{name: "zero max", ovs: []BoundOverride{{Metric: TTFT, Stat: P50, Max: 0}},
			wantErr: "want a positive finite fraction"},
		{name: "duplicate", ovs: []BoundOverride{{Metric: TTFT, Stat: P50, Max: 0.01}, {Metric: TTFT, Stat: P50, Max: 0.02}},
			wantErr: "bound override 1 (ttft p50): overrides the same bound as override 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := DefaultCriteria()
			got, err := base.WithOverrides(tt.ovs)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			if tt.check != nil {
				tt.check(t, got)
			}
			assert.Equal(t, DefaultCriteria(), base, "the receiver is not modified")
		})
	}
}

func TestBoundOverrideDecodes(t *testing.T) {
	const y = "- metric: ttft\n  stat: p99\n  max: 0.2\n  reason: small n\n"
	var fromYAML []BoundOverride
	require.NoError(t, yaml.Unmarshal([]byte(y), &fromYAML))
	var fromJSON []BoundOverride
	require.NoError(t, json.Unmarshal([]byte(`[{"metric":"ttft","stat":"p99","max":0.2,"reason":"small n"}]`), &fromJSON))
	want := []BoundOverride{{Metric: TTFT, Stat: P99, Max: 0.2, Reason: "small n"}}
	assert.Equal(t, want, fromYAML)
	assert.Equal(t, want, fromJSON)
}

func TestUngatedStatIsReportedNotJudged(t *testing.T) {
	off := false
	_, err := DefaultCriteria().WithOverrides([]BoundOverride{{Metric: TTFT, Stat: P99, Gate: &off}})
	require.ErrorContains(t, err, "needs a reason")

	c, err := DefaultCriteria().WithOverrides([]BoundOverride{{Metric: TTFT, Stat: P99, Gate: &off, Reason: "capture steps"}})
	require.NoError(t, err)
	b, ok := c.Bound(TTFT, P99)
	require.True(t, ok)
	assert.Equal(t, GateReported, b.Gate)
	assert.False(t, b.Judged())
	assert.InDelta(t, DefaultTailBound, b.Max, 0)

	recs := []Record{rec("a", 0, 0.010, 0.020), rec("b", 1, 1.010, 1.020)}
	cmp := Compare(recs, recs, c)
	for _, r := range cmp.Checks {
		assert.Equal(t, !(r.Metric == TTFT && r.Stat == P99), r.Gated, "%s %s", r.Metric, r.Stat)
	}
	assert.Contains(t, strings.Join(cmp.Warnings, "\n"), "ttft p99 is reported, not judged: capture steps")

	// An ungated row out of its bound keeps its own verdict and leaves the overall one.
	rows := []Row{{Metric: ITL, Stat: P50, RelErr: 0.01, Bound: 0.05, Effective: 0.05, Pass: true, Gated: true},
		{Metric: TTFT, Stat: P99, RelErr: -0.4, Bound: 0.10, Effective: 0.10, Pass: false, Gated: false}}
	assert.True(t, Comparison{Checks: rows}.Pass())
	worst, _ := Comparison{Checks: rows}.Worst()
	assert.Equal(t, ITL, worst.Metric, "worst ranks gated rows only")
	rows[1].Gated = true
	assert.False(t, Comparison{Checks: rows}.Pass())
}

func TestAllUngatedComparisonJudgesNothingAndDoesNotPass(t *testing.T) {
	off := false
	var ovs []BoundOverride
	for _, m := range JudgedMetrics {
		for _, st := range AllStats {
			ovs = append(ovs, BoundOverride{Metric: m, Stat: st, Gate: &off, Reason: "not modelled"})
		}
	}
	c, err := DefaultCriteria().WithOverrides(ovs)
	require.NoError(t, err)
	real := []Record{rec("a", 0, 0.010, 0.020), rec("b", 1, 1.010, 1.020)}
	sim := []Record{rec("a", 0, 1.000, 2.000), rec("b", 1, 2.000, 3.000)} // 100x off
	cmp := Compare(real, sim, c)
	assert.Zero(t, cmp.Judged())
	assert.False(t, cmp.Pass(), "a comparison that judges nothing never passes")
}

func TestLoosenedOverrideIsALoosenedGate(t *testing.T) {
	c, err := DefaultCriteria().WithOverrides([]BoundOverride{{Metric: TTFT, Stat: P50, Max: 0.08, Reason: "spread"},
		{Metric: ITL, Stat: P50, Max: 0.03}})
	require.NoError(t, err)
	b, _ := c.Bound(TTFT, P50)
	assert.Equal(t, GateLoosened, b.Gate)
	b, _ = c.Bound(ITL, P50)
	assert.Equal(t, GateDefault, b.Gate, "a tightened bound is no loosening")
}

func TestNoiseFloorRaisesTheEffectiveBoundAndSmallSamplesAreReportedOnly(t *testing.T) {
	real := []Record{rec("a", 0, 0.010, 0.020), rec("b", 1, 1.010, 1.020)}
	sim := []Record{rec("a", 0, 0.0108, 0.0208), rec("b", 1, 1.0108, 1.0208)} // TTFT +8%
	c := DefaultCriteria()
	cmp := Compare(real, sim, c)
	row := findRow(t, cmp, TTFT, Mean)
	assert.False(t, row.Pass, "+8%% fails the 5%% bound without noise")
	c.Noise = []NoiseFloor{{Metric: TTFT, Stat: Mean, Rel: 0.09, Source: "arrival phase"}}
	cmp = Compare(real, sim, c)
	row = findRow(t, cmp, TTFT, Mean)
	assert.True(t, row.Pass)
	assert.InDelta(t, 0.09, row.Effective, 1e-12)
	c.MinSamples, c.Repetitions = SampleRule, 1
	cmp = Compare(real, sim, c)
	row = findRow(t, cmp, TTFT, P99)
	assert.False(t, row.Gated)
	assert.Contains(t, row.Why, "too few values: 2 ttft values per repetition, a p99 needs at least 100")
}

func TestNoiseFloorsTakeTheLargerOfRepetitionsAndPhases(t *testing.T) {
	r1 := []Record{rec("a", 0, 0.010, 0.020)}
	r2 := []Record{rec("a", 0, 0.012, 0.022)}
	s1 := []Record{rec("a", 0, 0.008, 0.018)}
	s2 := []Record{rec("a", 0, 0.016, 0.026)}
	floors := NoiseFloors([][]Record{r1, r2}, [][]Record{s1, s2})
	var got NoiseFloor
	for _, n := range floors {
		if n.Metric == TTFT && n.Stat == Mean {
			got = n
		}
	}
	assert.Equal(t, "arrival phase", got.Source)
	assert.InDelta(t, 2*0.008/math.Sqrt2/0.011, got.Rel, 1e-9, "two standard deviations of the phases over the pooled real mean")
	assert.InDelta(t, 0.010, got.RepLo, 1e-12)
	assert.InDelta(t, 0.012, got.RepHi, 1e-12)
}

func findRow(t *testing.T, c Comparison, m Metric, st Stat) Row {
	t.Helper()
	for _, r := range c.Checks {
		if r.Metric == m && r.Stat == st {
			return r
		}
	}
	t.Fatalf("no row %s %s", m, st)
	return Row{}
}

func TestJudgeChangeAndRankSweep(t *testing.T) {
	ok := JudgeChange("d", "256", TTFT, Mean, 0.100, 0.400, 0.110, 0.450, 0.15) // real ×4, sim ×4.09
	assert.True(t, ok.Pass)
	assert.InDelta(t, 3.0, ok.RealChange, 1e-12)
	wrongSign := JudgeChange("d", "x", ITL, Mean, 0.020, 0.016, 0.020, 0.021, 0.15) // real −20%, sim +5%
	assert.False(t, wrongSign.Pass)
	tooBig := JudgeChange("d", "x", ITL, Mean, 0.020, 0.016, 0.020, 0.011, 0.15) // real −20%, sim −45%
	assert.False(t, tooBig.Pass)
	small := JudgeChange("d", "x", ITL, Mean, 0.020, 0.0202, 0.020, 0.0199, 0.15) // +1% vs −0.5%: no sign to hold
	assert.True(t, small.Pass)

	r := RankSweep("d", TTFT, Mean, []float64{1, 2, 4}, []float64{1, 2.5, 3.9}, []float64{0.01, 0.01, 0.01}, 0.15)
	assert.Equal(t, 3, r.Pairs)
	assert.True(t, r.Pass)
	r = RankSweep("d", TTFT, Mean, []float64{1, 2, 4}, []float64{1, 5, 3.9}, []float64{0.01, 0.01, 0.01}, 0.15)
	assert.InDelta(t, 1.0/3, r.Tau, 1e-12)
	assert.False(t, r.Pass)
	r = RankSweep("d", TTFT, Mean, []float64{1, 1.05}, []float64{1.05, 1}, []float64{0.01, 0.01}, 0.15)
	assert.Zero(t, r.Pairs, "a 5% real difference resolves no order under a 15% bound")
	assert.True(t, r.Pass)
}

func TestEngineSettingsSet(t *testing.T) {
	s := EngineSettings{Scheduler: "hfcb:fifo", TokenBudget: 8192}
	require.NoError(t, s.Set("token_budget", "256"))
	require.NoError(t, s.Set("scheduler", "hfcb:prefill_first"))
	assert.Equal(t, EngineSettings{Scheduler: "hfcb:prefill_first", TokenBudget: 256}, s)
	assert.ErrorContains(t, s.Set("tp", "2"), `setting "tp": not one of scheduler, token_budget, max_seqs, block_size, num_blocks`)
	assert.ErrorContains(t, s.Set("num_blocks", "-3"), `setting num_blocks: "-3" is not a positive integer`)
}

func TestBoundsThatDoNotFitTheNoiseAreWarnedAbout(t *testing.T) {
	real := []Record{rec("a", 0, 0.010, 0.020), rec("b", 1, 1.010, 1.020)}
	c, err := DefaultCriteria().WithOverrides([]BoundOverride{
		{Metric: TTFT, Stat: Mean, Max: 0.20, Reason: "spread"}, {Metric: ITL, Stat: Mean, Max: 0.01}})
	require.NoError(t, err)
	c.Noise = []NoiseFloor{{Metric: TTFT, Stat: Mean, Rel: 0.06}, {Metric: ITL, Stat: Mean, Rel: 0.03}}
	cmp := Compare(real, real, c)
	w := strings.Join(cmp.Warnings, "\n")
	assert.Contains(t, w, "ttft mean: loosened bound 20.0% is looser than needed: the default is 5.0% and the measured noise 6.0%")
	assert.Contains(t, w, "itl mean: bound 1.0% is tighter than the measured noise 3.0%, so untestable: judged at the noise")
	assert.InDelta(t, 0.03, findRow(t, cmp, ITL, Mean).Effective, 1e-12)
}
