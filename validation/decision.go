package validation

import (
	"math"
)

// DecisionStats are the statistics a decision judges: what a user reads off a what-if.
var DecisionStats = []struct {
	Metric Metric
	Stat   Stat
}{{TTFT, Mean}, {TTFT, P50}, {ITL, Mean}, {E2E, Mean}}

// DecisionRow judges one statistic's change from a decision's reference point to one
// other point: real and simulated changes as fractions (statistic at the point over
// the reference's, minus 1). It passes when the predicted ratio is within Bound of the
// real one and the change has the real change's sign (a real change smaller than
// Bound has no sign worth holding the simulator to).
type DecisionRow struct {
	Name       string  `json:"name"`
	Value      string  `json:"value"`
	Metric     Metric  `json:"metric"`
	Stat       Stat    `json:"stat"`
	RealChange float64 `json:"real_change"`
	SimChange  float64 `json:"sim_change"`
	Bound      float64 `json:"bound"`
	Pass       bool    `json:"pass"`
}

// JudgeChange builds the row for one statistic: real and sim at the reference and at
// the point (seconds).
func JudgeChange(name, value string, m Metric, st Stat, realRef, realAt, simRef, simAt, bound float64) DecisionRow {
	r := DecisionRow{Name: name, Value: value, Metric: m, Stat: st, Bound: bound,
		RealChange: realAt/realRef - 1, SimChange: simAt/simRef - 1}
	ratioErr := (1+r.SimChange)/(1+r.RealChange) - 1
	sameSign := math.Signbit(r.RealChange) == math.Signbit(r.SimChange)
	r.Pass = math.Abs(ratioErr) <= bound && (sameSign || math.Abs(r.RealChange) < bound) &&
		!math.IsNaN(ratioErr) && !math.IsInf(ratioErr, 0)
	return r
}

// Ranking judges whether a sweep keeps the real ordering of one statistic over its
// points: Kendall's τ between the real and the simulated values over the pairs of
// points whose real values differ by more than both their repetitions' spread and the
// decision's bound (Pairs of them: a real difference the change rows already accept as
// within the bound, or within noise, resolves no order to hold the simulator to). It
// passes when every resolved pair keeps its order (τ = 1) or no pair is resolved.
type Ranking struct {
	Name   string  `json:"name"`
	Metric Metric  `json:"metric"`
	Stat   Stat    `json:"stat"`
	Tau    float64 `json:"kendall_tau"`
	Pairs  int     `json:"pairs"`
	Pass   bool    `json:"pass"`
}

// RankSweep builds the ranking of one statistic: real and sim values per point, and
// each point's real half-range over its repetitions (seconds).
func RankSweep(name string, m Metric, st Stat, real, sim, realHalfRange []float64, bound float64) Ranking {
	r := Ranking{Name: name, Metric: m, Stat: st}
	c, d := 0, 0
	for i := range real {
		for j := i + 1; j < len(real); j++ {
			diff := math.Abs(real[i] - real[j])
			if diff <= realHalfRange[i]+realHalfRange[j] || diff <= bound*min(real[i], real[j]) {
				continue
			}
			r.Pairs++
			switch s := (real[i] - real[j]) * (sim[i] - sim[j]); {
			case s > 0:
				c++
			case s < 0:
				d++
			}
		}
	}
	r.Tau = 1
	if r.Pairs > 0 {
		r.Tau = float64(c-d) / float64(r.Pairs)
	}
	r.Pass = r.Tau == 1
	return r
}
