package scenarios

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"
)

// generated builds a valid Go scenario around one workload.
func generated(seed uint64, w Workload) *Scenario {
	return &Scenario{Name: "gen", Regime: RegimeBatched, Description: "d", Seed: seed, Workload: w}
}

func fixed(v int) *Lengths { return &Lengths{Kind: LengthsFixed, Value: v} }

func mustRequests(t *testing.T, s *Scenario, target string) []Request {
	t.Helper()
	require.NoError(t, s.Validate())
	reqs, err := s.Requests(target)
	require.NoError(t, err)
	require.NoError(t, ValidateRequests(reqs))
	return reqs
}

func arrivalsOf(reqs []Request) []float64 {
	out := make([]float64, len(reqs))
	for i, r := range reqs {
		out[i] = r.ArrivalS
	}
	return out
}

func TestArrivalKinds(t *testing.T) {
	tests := []struct {
		name     string
		count    int
		arrivals Arrivals
		want     []float64
	}{
		{"explicit", 0, Arrivals{Kind: ArrivalsExplicit, TimesS: []float64{0, 0, 0.25, 3}}, []float64{0, 0, 0.25, 3}},
		{"constant", 4, Arrivals{Kind: ArrivalsConstant, SpacingS: 2}, []float64{0, 2, 4, 6}},
		{"constant from start", 3, Arrivals{Kind: ArrivalsConstant, StartS: 1.5, SpacingS: 0.5}, []float64{1.5, 2, 2.5}},
		{"one burst", 3, Arrivals{Kind: ArrivalsBurst, AtS: 1}, []float64{1, 1, 1}},
		{"bursts of two", 5, Arrivals{Kind: ArrivalsBurst, AtS: 0.5, Size: 2, SpacingS: 3}, []float64{0.5, 0.5, 3.5, 3.5, 6.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.arrivals
			reqs := mustRequests(t, generated(1, Workload{Count: tt.count, Arrivals: &a, PromptTokens: fixed(3), OutputTokens: fixed(4)}), "")
			assert.Equal(t, tt.want, arrivalsOf(reqs))
			assert.Equal(t, "r0000", reqs[0].ID)
			assert.Equal(t, "r0002", reqs[2].ID)
		})
	}
}

func TestGeneratorsAreDeterministic(t *testing.T) {
	w := Workload{
		Count:        50,
		Arrivals:     &Arrivals{Kind: ArrivalsGamma, RatePerS: 3, CV: 1.5, StartS: 0.25},
		PromptTokens: &Lengths{Kind: LengthsUniform, Min: 10, Max: 1000},
		OutputTokens: &Lengths{Kind: LengthsUniform, Min: 1, Max: 64},
	}
	a := mustRequests(t, generated(9, w), "")
	b := mustRequests(t, generated(9, w), "")
	assert.Equal(t, a, b, "same seed, same requests")
	assert.InDelta(t, 0.25, a[0].ArrivalS, 0, "the first arrival is at start_s")

	c := mustRequests(t, generated(10, w), "")
	assert.NotEqual(t, arrivalsOf(a), arrivalsOf(c), "different seeds give different arrivals")
	assert.NotEqual(t, a[0:10], c[0:10], "different seeds give different lengths")
}

// Each purpose has its own stream: changing the arrival process leaves the lengths
// alone, and prompt and output lengths do not share draws.
func TestStreamsAreIndependent(t *testing.T) {
	uniform := &Lengths{Kind: LengthsUniform, Min: 1, Max: 1 << 20}
	base := Workload{Count: 30, Arrivals: &Arrivals{Kind: ArrivalsPoisson, RatePerS: 2}, PromptTokens: uniform, OutputTokens: uniform}
	other := base
	other.Arrivals = &Arrivals{Kind: ArrivalsGamma, RatePerS: 5, CV: 3}
	a := mustRequests(t, generated(4, base), "")
	b := mustRequests(t, generated(4, other), "")
	for i := range a {
		assert.Equal(t, a[i].PromptTokens, b[i].PromptTokens)
		assert.Equal(t, a[i].OutputTokens, b[i].OutputTokens)
	}
	assert.NotEqual(t, arrivalsOf(a), arrivalsOf(b))
	same := 0
	for _, r := range a {
		if r.PromptTokens == r.OutputTokens {
			same++
		}
	}
	assert.Zero(t, same, "prompt and output lengths must come from different streams")
}

func TestPoissonRate(t *testing.T) {
	const n, rate = 20_000, 4.0
	reqs := mustRequests(t, generated(42, Workload{Count: n, Arrivals: &Arrivals{Kind: ArrivalsPoisson, RatePerS: rate}, PromptTokens: fixed(1), OutputTokens: fixed(1)}), "")
	gaps := gapsOf(reqs)
	// n−1 exponential gaps: the rate estimate has a relative standard error of 1/√n ≈ 0.7%.
	assert.InEpsilon(t, rate, 1/stat.Mean(gaps, nil), 0.03)
	// Exponential gaps have CV 1.
	assert.InEpsilon(t, 1.0, cv(gaps), 0.05)
	assert.InDelta(t, 0, reqs[0].ArrivalS, 0, "the first arrival is at start_s = 0")
}

func TestGammaRateAndCV(t *testing.T) {
	for _, want := range []float64{0.5, 2} {
		const n, rate = 20_000, 10.0
		reqs := mustRequests(t, generated(5, Workload{Count: n, Arrivals: &Arrivals{Kind: ArrivalsGamma, RatePerS: rate, CV: want}, PromptTokens: fixed(1), OutputTokens: fixed(1)}), "")
		gaps := gapsOf(reqs)
		assert.InEpsilon(t, rate, 1/stat.Mean(gaps, nil), 0.05, "cv %v", want)
		assert.InEpsilon(t, want, cv(gaps), 0.08, "cv %v", want)
	}
}

func TestUniformLengthsAreInclusive(t *testing.T) {
	const n = 2000
	reqs := mustRequests(t, generated(3, Workload{
		Count: n, Arrivals: &Arrivals{Kind: ArrivalsBurst},
		PromptTokens: &Lengths{Kind: LengthsUniform, Min: 7, Max: 14},
		OutputTokens: &Lengths{Kind: LengthsUniform, Min: 5, Max: 5},
	}), "")
	seen := map[int]int{}
	for _, r := range reqs {
		require.GreaterOrEqual(t, r.PromptTokens, 7)
		require.LessOrEqual(t, r.PromptTokens, 14)
		seen[r.PromptTokens]++
		assert.Equal(t, 5, r.OutputTokens)
	}
	assert.Len(t, seen, 8, "every value of 7…14, both ends included")
	for v, c := range seen {
		assert.InDelta(t, n/8, c, n/8*0.3, "value %d is drawn about uniformly", v)
	}
}

func TestListLengths(t *testing.T) {
	tests := []struct {
		name   string
		count  int
		values []int
		cycle  bool
		want   []int
	}{
		{"one per request", 3, []int{5, 9, 2}, false, []int{5, 9, 2}},
		{"cycled", 5, []int{1, 2}, true, []int{1, 2, 1, 2, 1}},
		{"cycle with exact length", 2, []int{8, 6}, true, []int{8, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs := mustRequests(t, generated(1, Workload{
				Count: tt.count, Arrivals: &Arrivals{Kind: ArrivalsBurst},
				PromptTokens: &Lengths{Kind: LengthsList, Values: tt.values, Cycle: tt.cycle},
				OutputTokens: fixed(1),
			}), "")
			got := make([]int, len(reqs))
			for i, r := range reqs {
				got[i] = r.PromptTokens
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestTargetOverride(t *testing.T) {
	spec := specWith(`  count: 6
  arrivals: {kind: constant, spacing_s: 2}
  prompt_tokens: {kind: uniform, min: 1, max: 100}
  output_tokens: {kind: fixed, value: 8}
`) + `targets:
  a100-sarathi-qwen3-0.6b:
    arrivals: {kind: constant, spacing_s: 0.5}
  h200-short:
    count: 2
`
	s, err := Parse("t.yaml", []byte(spec))
	require.NoError(t, err)
	base := mustRequests(t, s, "")
	other := mustRequests(t, s, "some-other-target")
	assert.Equal(t, base, other, "targets without an override get the base workload")
	assert.Equal(t, []float64{0, 2, 4, 6, 8, 10}, arrivalsOf(base))

	a100 := mustRequests(t, s, "a100-sarathi-qwen3-0.6b")
	assert.Equal(t, []float64{0, 0.5, 1, 1.5, 2, 2.5}, arrivalsOf(a100))
	for i := range base {
		assert.Equal(t, base[i].PromptTokens, a100[i].PromptTokens, "lengths do not depend on the arrival override")
	}
	short := mustRequests(t, s, "h200-short")
	assert.Equal(t, base[:2], short)
}

func TestRequestsRefusesOverflowingArrivals(t *testing.T) {
	s := generated(1, Workload{Count: 3, Arrivals: &Arrivals{Kind: ArrivalsConstant, SpacingS: math.MaxFloat64}, PromptTokens: fixed(1), OutputTokens: fixed(1)})
	require.NoError(t, s.Validate())
	_, err := s.Requests("")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `generated workload is not usable: request 1 (id "r0001"): arrival_s: `+
		"1.7976931348623157e+308 s is beyond the arrival horizon of 1e+06 s")
}

func gapsOf(reqs []Request) []float64 {
	gaps := make([]float64, len(reqs)-1)
	for i := range gaps {
		gaps[i] = reqs[i+1].ArrivalS - reqs[i].ArrivalS
	}
	return gaps
}

func cv(x []float64) float64 {
	mean, sd := stat.PopMeanStdDev(x, nil)
	return sd / mean
}
