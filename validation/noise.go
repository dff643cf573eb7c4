package validation

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"
)

// NoiseFloor is the measured noise of one statistic, relative to the pooled real
// value: how far from the real value a prediction of the expected behaviour can land
// without being wrong. Two sources are measured and the larger one is the floor:
//
//   - repetitions: half the range of the statistic over the real repetitions (the
//     engine's own run-to-run spread; the pooled real value averages over them);
//   - arrival phase: twice the standard deviation of the statistic over the
//     simulator's arrival-phase realizations. Where a request lands inside a running
//     step is not reproducible, and the real repetitions of one workload mostly
//     repeat one phase (steps re-align after every idle gap), so the real value is
//     one draw of the phase that all repetitions share and the pooling does not
//     average: a correct expectation lies within about two standard deviations of it;
//   - first-use spread, for fresh engine processes (FirstUseNoiseFloors).
type NoiseFloor struct {
	Metric Metric
	Stat   Stat
	Rel    float64 // the floor, relative to the pooled real value
	Source string  // "repetitions", "arrival phase" or "first-use spread"
	// RepLo, RepHi are the statistic's range over the real repetitions (seconds);
	// PhaseLo, PhaseHi over the sim's realizations. Zero when not measured.
	RepLo, RepHi     float64
	PhaseLo, PhaseHi float64
}

func (n NoiseFloor) String() string {
	return fmt.Sprintf("%s %s noise %.1f%% (%s; repetitions %s–%s ms, phases %s–%s ms)", n.Metric, n.Stat,
		100*n.Rel, n.Source, ms(n.RepLo), ms(n.RepHi), ms(n.PhaseLo), ms(n.PhaseHi))
}

// NoiseFloors measures the noise floor of every judged statistic from the real
// repetitions and the simulator's realizations (either may hold one run, which then
// measures nothing), relative to the statistic of the pooled real runs.
func NoiseFloors(realRuns, simRuns [][]Record) []NoiseFloor {
	return noiseFloors(realRuns, simRuns, "arrival phase")
}

// FirstUseNoiseFloors is NoiseFloors for fresh engine processes: the simulator's
// realizations place their process at different quantiles of the first-use costs
// (simkit.FirstUse), so their spread is the spread the model predicts for one process.
// The pooled real value does not average it away: processes recorded together share
// the machine's compilation speed (on the H200, six on one lease paid 1.39–2.04 s at
// their first step, two on another 0.96–1.01 s, two on a third 1.42–1.68 s), so a
// correct expectation lies within about two standard deviations of it, as for one
// process.
func FirstUseNoiseFloors(realRuns, simRuns [][]Record) []NoiseFloor {
	return noiseFloors(realRuns, simRuns, "first-use spread")
}

// noiseFloors measures both floors; simSource names what the realizations vary.
func noiseFloors(realRuns, simRuns [][]Record, simSource string) []NoiseFloor {
	var pooled []Record
	for _, r := range realRuns {
		pooled = append(pooled, r...)
	}
	whole := SummarizeRun(pooled)
	per := func(runs [][]Record) []RunSummary {
		out := make([]RunSummary, len(runs))
		for i, r := range runs {
			out[i] = SummarizeRun(r)
		}
		return out
	}
	reps, phases := per(realRuns), per(simRuns)
	var out []NoiseFloor
	for _, m := range JudgedMetrics {
		for _, st := range AllStats {
			ref := whole.Get(m).Get(st)
			if ref == 0 || whole.Get(m).Count == 0 {
				continue
			}
			n := NoiseFloor{Metric: m, Stat: st}
			var relRep, relPhase float64
			if len(reps) > 1 {
				n.RepLo, n.RepHi = statRange(reps, m, st)
				relRep = (n.RepHi - n.RepLo) / 2 / math.Abs(ref)
			}
			if len(phases) > 1 {
				n.PhaseLo, n.PhaseHi = statRange(phases, m, st)
				relPhase = 2 * statSD(phases, m, st) / math.Abs(ref)
			}
			n.Rel, n.Source = relRep, "repetitions"
			if relPhase > relRep {
				n.Rel, n.Source = relPhase, simSource
			}
			if n.Rel > 0 {
				out = append(out, n)
			}
		}
	}
	return out
}

// statSD is the sample standard deviation of the statistic over the runs.
func statSD(sums []RunSummary, m Metric, st Stat) float64 {
	var xs []float64
	for _, s := range sums {
		if s.Get(m).Count > 0 {
			xs = append(xs, s.Get(m).Get(st))
		}
	}
	if len(xs) < 2 {
		return 0
	}
	return stat.StdDev(xs, nil)
}

func statRange(sums []RunSummary, m Metric, st Stat) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range sums {
		if s.Get(m).Count == 0 {
			continue
		}
		v := s.Get(m).Get(st)
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo > hi {
		return 0, 0
	}
	return lo, hi
}

// noise returns the noise floor of (m, st), if measured.
func (c Criteria) noise(m Metric, st Stat) (NoiseFloor, bool) {
	for _, n := range c.Noise {
		if n.Metric == m && n.Stat == st {
			return n, true
		}
	}
	return NoiseFloor{}, false
}

// SampleRule is the default MinSamples, in the spirit of benchstat: a statistic rests
// on enough values per repetition to be more than one or two of them. A p99 of fewer
// than 100 values is the maximum or next to it; a p90 of fewer than 20, one of the
// two largest.
var SampleRule = map[Stat]int{Mean: 5, P50: 5, P90: 20, P99: 100}

// tooFew says why (m, st) rests on too few values per real repetition to be judged,
// or "".
func (c Criteria) tooFew(m Metric, st Stat, pooledCount int) string {
	need, ok := c.MinSamples[st]
	if !ok || need == 0 {
		return ""
	}
	reps := max(c.Repetitions, 1)
	per := pooledCount / reps
	if per >= need {
		return ""
	}
	return fmt.Sprintf("too few values: %d %s values per repetition, a %s needs at least %d", per, m, st, need)
}
