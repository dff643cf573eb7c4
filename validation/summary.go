package validation

import (
	"fmt"
	"math"
	"slices"
)

// Quantile returns the p-quantile of sorted (ascending) by linear interpolation
// between order statistics: numpy's default, Hyndman–Fan type 7. With n values,
// h = (n−1)·p, i = floor(h); the result is x[i] + (h−i)·(x[i+1]−x[i]), or x[n−1]
// when i+1 ≥ n. For 1…10 it gives p50 = 5.5, p90 = 9.1, p99 = 9.91 (gonum's
// Empirical and LinInterp kinds give other numbers, which is why this exists).
//
// It panics on empty input or p outside [0, 1]: both are programming errors, and a
// silent NaN would travel into a verdict.
func Quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		panic("validation.Quantile: no values")
	}
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("validation.Quantile: p = %v outside [0, 1]", p))
	}
	h := float64(n-1) * p
	i := int(math.Floor(h))
	if i+1 >= n {
		return sorted[n-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}

// Summary is what every report says about one metric's samples, in seconds.
// Count 0 means there were no samples; the other fields are then zero.
type Summary struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// Summarize computes the Summary of xs (any order; xs is not modified). The mean is
// the plain arithmetic mean; percentiles are Quantile's type 7.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	return Summary{
		Count: len(s),
		Mean:  sum / float64(len(s)),
		P50:   Quantile(s, 0.50),
		P90:   Quantile(s, 0.90),
		P99:   Quantile(s, 0.99),
		Max:   s[len(s)-1],
	}
}

// Stat names one statistic of a Summary that a bound can be put on.
type Stat string

// The judged statistics, in table order.
const (
	Mean Stat = "mean"
	P50  Stat = "p50"
	P90  Stat = "p90"
	P99  Stat = "p99"
)

// AllStats lists the judged statistics in their fixed order.
var AllStats = []Stat{Mean, P50, P90, P99}

// ParseStat turns a statistic name into a Stat, or says which names are valid.
func ParseStat(s string) (Stat, error) {
	st := Stat(s)
	if slices.Contains(AllStats, st) {
		return st, nil
	}
	return "", fmt.Errorf("unknown stat %q (want one of %v)", s, AllStats)
}

// Get returns statistic st of s. It panics on a Stat that is not one of the constants.
func (s Summary) Get(st Stat) float64 {
	switch st {
	case Mean:
		return s.Mean
	case P50:
		return s.P50
	case P90:
		return s.P90
	case P99:
		return s.P99
	}
	panic(fmt.Sprintf("validation.Summary.Get: unknown stat %q", st))
}

// RunSummary holds one Summary per metric. It is a struct, not a map, so that its
// JSON keys come out in the fixed metric order.
type RunSummary struct {
	TTFT       Summary `json:"ttft"`
	ITL        Summary `json:"itl"`
	TPOT       Summary `json:"tpot"`
	E2E        Summary `json:"e2e"`
	SchedDelay Summary `json:"sched_delay"`
}

// SummarizeRun recomputes every metric's Summary from the records.
func SummarizeRun(recs []Record) RunSummary {
	return RunSummary{
		TTFT:       Summarize(Values(TTFT, recs)),
		ITL:        Summarize(Values(ITL, recs)),
		TPOT:       Summarize(Values(TPOT, recs)),
		E2E:        Summarize(Values(E2E, recs)),
		SchedDelay: Summarize(Values(SchedDelay, recs)),
	}
}

// Get returns metric m's Summary. It panics on a Metric that is not one of the
// constants.
func (rs RunSummary) Get(m Metric) Summary {
	switch m {
	case TTFT:
		return rs.TTFT
	case ITL:
		return rs.ITL
	case TPOT:
		return rs.TPOT
	case E2E:
		return rs.E2E
	case SchedDelay:
		return rs.SchedDelay
	}
	panic(fmt.Sprintf("validation.RunSummary.Get: unknown metric %q", m))
}
