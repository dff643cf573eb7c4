package validation

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// KSDistance is the two-sample Kolmogorov–Smirnov statistic sup|F − G| of the
// empirical CDFs of x and y (any order; neither is modified): 0 when both are empty,
// 1 when exactly one is.
func KSDistance(x, y []float64) float64 {
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	return stat.KolmogorovSmirnov(xs, nil, ys, nil)
}

// KSCritical05 is the two-sample KS critical value at α = 0.05,
// c(α)·sqrt((n+m)/(n·m)) with c(0.05) = sqrt(−ln(0.025)/2) ≈ 1.358. A distance above
// it is statistically significant; with many samples that says little about size,
// so it is reported, never gated on. It is 0 when either side is empty.
func KSCritical05(n, m int) float64 {
	if n == 0 || m == 0 {
		return 0
	}
	c := math.Sqrt(-math.Log(0.05/2) / 2)
	return c * math.Sqrt(float64(n+m)/float64(n*m))
}

// Wasserstein1 is the earth mover's distance ∫|F(t) − G(t)| dt between the empirical
// CDFs of x and y, in the samples' unit (any order; neither is modified). For equal
// sizes it equals the mean |difference| of the sorted samples. It is 0 when both are
// empty and NaN when exactly one is (no distance is defined).
func Wasserstein1(x, y []float64) float64 {
	if len(x) == 0 || len(y) == 0 {
		if len(x) == 0 && len(y) == 0 {
			return 0
		}
		return math.NaN()
	}
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	// Sweep the merged sample points left to right. Between two consecutive points
	// both CDFs are constant, so the integral is a sum of |F − G|·width.
	var i, j int
	var sum, prev float64
	started := false
	for i < len(xs) || j < len(ys) {
		var t float64
		if j >= len(ys) || (i < len(xs) && xs[i] <= ys[j]) {
			t = xs[i]
		} else {
			t = ys[j]
		}
		if started {
			f := float64(i) / float64(len(xs))
			g := float64(j) / float64(len(ys))
			sum += math.Abs(f-g) * (t - prev)
		}
		for i < len(xs) && xs[i] == t {
			i++
		}
		for j < len(ys) && ys[j] == t {
			j++
		}
		prev, started = t, true
	}
	return sum
}

// Bias says on which side of the real values a simulator's errors fall on average.
type Bias string

const (
	BiasOver  Bias = "over"  // the simulator predicts longer latencies than measured
	BiasUnder Bias = "under" // the simulator predicts shorter latencies than measured
	BiasNone  Bias = "none"  // mean signed error exactly 0, or no pairs
)

// Paired is the per-request error of one per-request metric over the requests
// present on both sides (matched by ID). Requests whose real value is 0 have no
// relative error and are counted in SkippedZero instead.
type Paired struct {
	Metric Metric `json:"metric"`
	// N is the number of pairs the relative errors are averaged over.
	N           int `json:"n"`
	SkippedZero int `json:"skipped_zero,omitempty"`
	// MAPE is mean |sim − real|/real; MPE is mean (sim − real)/real (signed).
	MAPE float64 `json:"mape"`
	MPE  float64 `json:"mpe"`
	// MeanErrS is the mean signed error sim − real in seconds, over all pairs.
	MeanErrS float64 `json:"mean_err_s"`
	Bias     Bias    `json:"bias"`
}

// pairByID computes Paired for metric m. IDs are walked in the real side's order so
// the result does not depend on map order.
func pairByID(m Metric, real, sim []Record) Paired {
	simByID := make(map[string]Record, len(sim))
	for _, r := range sim {
		simByID[r.ID] = r
	}
	p := Paired{Metric: m, Bias: BiasNone}
	var absRel, rel, errS float64
	var nAll int
	for _, r := range real {
		s, ok := simByID[r.ID]
		if !ok {
			continue
		}
		rv, okR := requestValue(m, r)
		sv, okS := requestValue(m, s)
		if !okR || !okS {
			continue
		}
		nAll++
		errS += sv - rv
		if rv == 0 {
			p.SkippedZero++
			continue
		}
		p.N++
		absRel += math.Abs(sv-rv) / rv
		rel += (sv - rv) / rv
	}
	if nAll > 0 {
		p.MeanErrS = errS / float64(nAll)
	}
	if p.N > 0 {
		p.MAPE = absRel / float64(p.N)
		p.MPE = rel / float64(p.N)
		switch {
		case p.MPE > 0:
			p.Bias = BiasOver
		case p.MPE < 0:
			p.Bias = BiasUnder
		}
	}
	return p
}
