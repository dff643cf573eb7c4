package validation

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Step-trace builders for the tests.

func dec(id string, past int) StepItem { return StepItem{ID: id, Decode: 1, Past: past} }
func pre(id string, n int) StepItem    { return StepItem{ID: id, Prefill: n} }
func capStep(start, dur float64) Step  { return Step{StartS: start, DurationS: dur, Captured: true} }
func warmStep(start, dur float64) Step {
	return Step{StartS: start, DurationS: dur, Warmup: true, Captured: true}
}
func st(start, dur float64, items ...StepItem) Step {
	return Step{StartS: start, DurationS: dur, Items: items, QTokens: len(items)}
}

// indexed numbers steps 0, 1, … in order.
func indexed(steps ...Step) []Step {
	for i := range steps {
		steps[i].Index = i
	}
	return steps
}

func TestCompareStepsCounts(t *testing.T) {
	tests := []struct {
		name     string
		real     [][]Step
		sim      []Step
		wantReal []int
		wantSim  int
		wantErr  float64
	}{
		{
			name: "warm-up ignored on both sides",
			real: [][]Step{
				{warmStep(-2, 1), st(0, 0.01, dec("a", 1)), st(0.01, 0.01, dec("a", 2)), st(0.02, 0.01, dec("a", 3)), st(0.03, 0.01, dec("a", 4))},
				{warmStep(-2, 1), warmStep(-1, 1), st(0, 0.01), st(0.01, 0.01), st(0.02, 0.01), st(0.03, 0.01), st(0.04, 0.01), st(0.05, 0.01)},
			},
			sim:      []Step{warmStep(-1, 1), st(0, 0.01), st(0.01, 0.01), st(0.02, 0.01), st(0.03, 0.01), st(0.04, 0.01), st(0.05, 0.01)},
			wantReal: []int{4, 6},
			wantSim:  6,
			wantErr:  0.2, // (6 − 5)/5
		},
		{
			name:     "fewer simulated steps",
			real:     [][]Step{{st(0, 0.01), st(0.01, 0.01), st(0.02, 0.01), st(0.03, 0.01)}},
			sim:      []Step{st(0, 0.01), st(0.01, 0.01), st(0.02, 0.01)},
			wantReal: []int{4},
			wantSim:  3,
			wantErr:  -0.25,
		},
		{
			name:     "a repetition without timed steps still counts",
			real:     [][]Step{{st(0, 0.01), st(0.01, 0.01)}, {warmStep(-1, 1)}},
			sim:      []Step{st(0, 0.01)},
			wantReal: []int{2, 0},
			wantSim:  1,
			wantErr:  0, // mean real 1
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := CompareSteps(tc.real, tc.sim)
			require.NoError(t, err)
			assert.Equal(t, tc.wantReal, c.RealSteps)
			assert.Equal(t, tc.wantSim, c.SimSteps)
			assert.InDelta(t, tc.wantErr, c.StepCountErr, 1e-12)
		})
	}
}

func TestCompareStepsComposition(t *testing.T) {
	real := []Step{
		st(0, 0.02, pre("a", 100), pre("b", 50)),
		st(0.02, 0.01, dec("a", 100), dec("b", 50)),
		st(0.03, 0.01, dec("a", 101), dec("b", 51)),
		st(0.04, 0.01, dec("a", 102)),
	}
	tests := []struct {
		name string
		real [][]Step
		sim  []Step
		want float64
	}{
		{"identical", [][]Step{real}, real, 1},
		{
			name: "reordered items and different Past still match (multiset of ID, Prefill, Decode)",
			real: [][]Step{real},
			sim: []Step{
				st(0, 0.03, pre("b", 50), pre("a", 100)),
				st(0.03, 0.01, dec("b", 0), dec("a", 0)),
				st(0.04, 0.01, dec("a", 101), dec("b", 51)),
				st(0.05, 0.01, dec("a", 102)),
			},
			want: 1,
		},
		{
			name: "other prefill split, missing request, duplicate item",
			real: [][]Step{real},
			sim: []Step{
				st(0, 0.02, pre("a", 64), pre("b", 50)),
				st(0.02, 0.01, dec("a", 100)),
				st(0.03, 0.01, dec("a", 101), dec("a", 101)),
				st(0.04, 0.01, dec("a", 102)),
			},
			want: 0.25,
		},
		{
			name: "extra simulated steps count in the denominator",
			real: [][]Step{real},
			sim:  append(append([]Step{}, real...), st(0.05, 0.01, dec("b", 52)), st(0.06, 0.01, dec("b", 53)), st(0.07, 0.01, dec("b", 54)), st(0.08, 0.01, dec("b", 55))),
			want: 0.5,
		},
		{
			name: "steps without items never match",
			real: [][]Step{{st(0, 0.01), st(0.01, 0.01, dec("a", 1))}},
			sim:  []Step{st(0, 0.01), st(0.01, 0.01, dec("a", 1))},
			want: 0.5,
		},
		{
			name: "warm-up steps are not paired",
			real: [][]Step{{warmStep(-1, 0.5), st(0, 0.01, dec("a", 1))}},
			sim:  []Step{st(0, 0.01, dec("a", 1))},
			want: 1,
		},
		{
			name: "mean over repetitions, an empty repetition scores 0",
			real: [][]Step{real, real[:2], {warmStep(-1, 1)}},
			sim:  real,
			want: (1 + 0.5 + 0) / 3.0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := CompareSteps(tc.real, tc.sim)
			require.NoError(t, err)
			assert.InDelta(t, tc.want, c.CompositionMatch, 1e-12)
		})
	}
}

func TestCompareStepsByKindAndAttribution(t *testing.T) {
	// Two real repetitions; sim has one decode step fewer, slower decodes, a mixed
	// step real never has, and no capture step.
	real := [][]Step{
		{capStep(0, 0.5), st(0.5, 0.02, pre("a", 10)), st(0.6, 0.010, dec("a", 10)), st(0.7, 0.010, dec("a", 11))},
		{capStep(0, 0.3), st(0.3, 0.04, pre("a", 10)), st(0.4, 0.012, dec("a", 10)), st(0.5, 0.008, dec("a", 11))},
	}
	sim := []Step{
		st(0, 0.03, pre("a", 10)),
		st(0.1, 0.05, pre("b", 10), dec("a", 10)),
		st(0.2, 0.015, dec("a", 11), dec("b", 10)),
	}
	c, err := CompareSteps(real, sim)
	require.NoError(t, err)

	require.Len(t, c.ByKind, 4)
	want := []StepKindRow{
		{Kind: StepDecode, RealCount: 2, SimCount: 1, RealMeanS: 0.010, SimMeanS: 0.015, RelErr: 0.5},
		{Kind: StepPrefill, RealCount: 1, SimCount: 1, RealMeanS: 0.03, SimMeanS: 0.03, RelErr: 0},
		{Kind: StepMixed, RealCount: 0, SimCount: 1, RealMeanS: 0, SimMeanS: 0.05, Missing: "real"},
		{Kind: StepCapture, RealCount: 1, SimCount: 0, RealMeanS: 0.4, SimMeanS: 0, Missing: "sim"},
	}
	for i, w := range want {
		g := c.ByKind[i]
		assert.Equal(t, w.Kind, g.Kind)
		assert.InDelta(t, w.RealCount, g.RealCount, 1e-12, w.Kind)
		assert.Equal(t, w.SimCount, g.SimCount, w.Kind)
		assert.InDelta(t, w.RealMeanS, g.RealMeanS, 1e-12, w.Kind)
		assert.InDelta(t, w.SimMeanS, g.SimMeanS, 1e-12, w.Kind)
		assert.InDelta(t, w.RelErr, g.RelErr, 1e-12, w.Kind)
		assert.Equal(t, w.Missing, g.Missing, w.Kind)
	}

	a := c.Attribution
	assert.InDelta(t, 0.45, a.RealBusyS, 1e-12) // (0.54 + 0.36)/2
	assert.InDelta(t, 0.095, a.SimBusyS, 1e-12)
	assert.InDelta(t, -0.355, a.Total, 1e-12)
	// decode 2·(0.015−0.010) + prefill 1·0 + mixed: nReal 0.
	assert.InDelta(t, 0.010, a.Execution, 1e-12)
	// decode (1−2)·0.015 + prefill 0 + mixed (1−0)·0.05 (absent in real: sim's mean).
	assert.InDelta(t, 0.035, a.Scheduling, 1e-12)
	// capture 0 − 1·0.4.
	assert.InDelta(t, -0.4, a.Capture, 1e-12)
	assert.InDelta(t, a.Total, a.Execution+a.Scheduling+a.Capture, 1e-12)
	assert.Equal(t, "capture", c.Dominant())
}

func TestCompareStepsKindsOnlyWhereAnySideHasThem(t *testing.T) {
	c, err := CompareSteps([][]Step{{st(0, 0.01, dec("a", 1))}}, []Step{st(0, 0.01, dec("a", 1))})
	require.NoError(t, err)
	require.Len(t, c.ByKind, 1)
	assert.Equal(t, StepKindRow{Kind: StepDecode, RealCount: 1, SimCount: 1, RealMeanS: 0.01, SimMeanS: 0.01}, c.ByKind[0])
	assert.Equal(t, BusyAttribution{RealBusyS: 0.01, SimBusyS: 0.01}, c.Attribution)
	assert.Equal(t, "", c.Dominant(), "nothing to attribute")
}

func TestCompareStepsAttributionIdentity(t *testing.T) {
	kinds := func(r *rand.Rand) Step {
		s := Step{DurationS: 0.001 + 0.1*r.Float64()}
		switch r.IntN(5) {
		case 0:
			s.Items = []StepItem{pre("a", 1+r.IntN(500))}
		case 1:
			s.Items = []StepItem{pre("a", 1+r.IntN(500)), dec("b", 3)}
		case 2:
			s.Captured = true
			s.DurationS *= 20
		default:
			s.Items = []StepItem{dec("a", 1), dec("b", 2)}
		}
		if r.IntN(10) == 0 {
			s.Warmup = true
		}
		return s
	}
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		real := make([][]Step, 1+r.IntN(5))
		for i := range real {
			for range r.IntN(60) {
				real[i] = append(real[i], kinds(r))
			}
		}
		real[0] = append(real[0], Step{DurationS: 0.01}) // at least one timed step
		var sim []Step
		for range 1 + r.IntN(60) {
			sim = append(sim, kinds(r))
		}
		sim = append(sim, Step{DurationS: 0.02})

		c, err := CompareSteps(real, sim)
		require.NoError(t, err, "trial %d", trial)
		a := c.Attribution
		require.InDelta(t, a.SimBusyS-a.RealBusyS, a.Total, 0, "trial %d", trial)
		require.InDelta(t, a.Total, a.Execution+a.Scheduling+a.Capture, 1e-12, "trial %d: %+v", trial, a)
		for _, row := range c.ByKind {
			require.False(t, math.IsNaN(row.RelErr), "trial %d %s", trial, row.Kind)
			if row.Missing != "" {
				require.Zero(t, row.RelErr)
			}
		}
	}
}

func TestCompareStepsDominant(t *testing.T) {
	tests := []struct {
		a    BusyAttribution
		want string
	}{
		{BusyAttribution{Execution: -0.3, Scheduling: 0.2, Capture: 0.1}, "execution"},
		{BusyAttribution{Execution: 0.1, Scheduling: -0.5, Capture: 0.4}, "scheduling"},
		{BusyAttribution{Execution: 0.1, Scheduling: 0.1, Capture: -0.9}, "capture"},
		{BusyAttribution{Execution: 0.2, Scheduling: -0.2}, "execution"},
		{BusyAttribution{}, ""},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, StepComparison{Attribution: tc.a}.Dominant(), "%+v", tc.a)
	}
}

func TestCompareStepsErrors(t *testing.T) {
	ok := []Step{st(0, 0.01)}
	tests := []struct {
		name string
		real [][]Step
		sim  []Step
		want string
	}{
		{"no sim steps", [][]Step{ok}, nil, "compare steps: sim has no timed step"},
		{"only warm-up in sim", [][]Step{ok}, []Step{warmStep(-1, 1)}, "compare steps: sim has no timed step"},
		{"no real repetition", nil, ok, "compare steps: no real repetition has a timed step"},
		{"only warm-up in real", [][]Step{{warmStep(-1, 1)}, {}}, ok, "compare steps: no real repetition has a timed step"},
		{
			"NaN duration", [][]Step{ok, indexed(st(0, 0.01), st(0.01, math.NaN()))}, ok,
			"compare steps: real repetition 2: step 1 (index 1): duration NaN is not finite",
		},
		{
			"negative duration", [][]Step{ok}, []Step{{Index: 7, DurationS: -0.001}}, "compare steps: sim: step 0 (index 7): duration -0.001 s is negative",
		},
		{"infinite start", [][]Step{ok}, []Step{{StartS: math.Inf(-1)}}, "compare steps: sim: step 0 (index 0): start -Inf is not finite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompareSteps(tc.real, tc.sim)
			assert.EqualError(t, err, tc.want)
		})
	}
}
