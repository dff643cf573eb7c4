package validation

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Parts splits a latency of one request (or one decode gap) by what the request spent
// it on, read off the step trace of its repetition:
//
//   - Capture: steps it was in that captured a CUDA graph (or compiled);
//   - Execution: the other steps it was in;
//   - Scheduling: the rest of the span: waiting to be scheduled, or steps without it.
//
// The three sum to the latency exactly (Scheduling is the remainder, so a step that
// ends a little after the token it produced makes it slightly negative).
type Parts struct {
	CaptureS    float64 `json:"capture_s"`
	ExecutionS  float64 `json:"execution_s"`
	SchedulingS float64 `json:"scheduling_s"`
}

func (p Parts) plus(q Parts) Parts {
	return Parts{p.CaptureS + q.CaptureS, p.ExecutionS + q.ExecutionS, p.SchedulingS + q.SchedulingS}
}

func (p Parts) scaled(f float64) Parts {
	return Parts{p.CaptureS * f, p.ExecutionS * f, p.SchedulingS * f}
}

// StatAttribution attributes the error of one statistic to capture, execution and
// scheduling: each side's statistic split into Parts, and the part whose difference
// (sim − real) is largest in magnitude. A mean is split exactly (the mean of the
// samples' parts); a percentile by the parts of the sample that is that percentile on
// each side (nearest rank), which names the cause of that sample's latency, not of a
// shift of the whole distribution.
type StatAttribution struct {
	Metric   Metric `json:"metric"`
	Stat     Stat   `json:"stat"`
	Real     Parts  `json:"real"`
	Sim      Parts  `json:"sim"`
	Dominant string `json:"dominant"`
}

// Delta is sim − real, part by part.
func (a StatAttribution) Delta() Parts {
	return Parts{a.Sim.CaptureS - a.Real.CaptureS, a.Sim.ExecutionS - a.Real.ExecutionS,
		a.Sim.SchedulingS - a.Real.SchedulingS}
}

func (a StatAttribution) String() string {
	d := a.Delta()
	return fmt.Sprintf("%s %s: capture %+.1f ms, execution %+.1f ms, scheduling %+.1f ms (%s)", a.Metric, a.Stat,
		1e3*d.CaptureS, 1e3*d.ExecutionS, 1e3*d.SchedulingS, a.Dominant)
}

// AttributeStats attributes every judged statistic's error, from the real
// repetitions (realRuns[i] with its step trace realSteps[i]) and the simulated records
// with their step trace. Warm-up steps are ignored. It returns nil when the real side
// has no step trace for every repetition or the sim side none at all.
func AttributeStats(realRuns [][]Record, realSteps [][]Step, sim []Record, simSteps []Step) []StatAttribution {
	if len(realRuns) == 0 || len(realSteps) != len(realRuns) || len(simSteps) == 0 {
		return nil
	}
	var real samplesByMetric
	for i, recs := range realRuns {
		real.add(recs, realSteps[i])
	}
	var simS samplesByMetric
	simS.add(sim, simSteps)
	var out []StatAttribution
	for _, m := range JudgedMetrics {
		for _, st := range AllStats {
			r, okR := real.parts(m, st)
			s, okS := simS.parts(m, st)
			if !okR || !okS {
				continue
			}
			a := StatAttribution{Metric: m, Stat: st, Real: r, Sim: s}
			d := a.Delta()
			best := -1.0
			for _, c := range []struct {
				name string
				v    float64
			}{{"capture", d.CaptureS}, {"execution", d.ExecutionS}, {"scheduling", d.SchedulingS}} {
				if math.Abs(c.v) > best {
					best, a.Dominant = math.Abs(c.v), c.name
				}
			}
			out = append(out, a)
		}
	}
	return out
}

// sample is one latency value with its parts.
type sample struct {
	v     float64
	parts Parts
}

type samplesByMetric map[Metric][]sample

// add splits every latency of recs by the steps of their repetition.
func (sm *samplesByMetric) add(recs []Record, steps []Step) {
	if *sm == nil {
		*sm = samplesByMetric{}
	}
	byID := map[string][]Step{}
	for _, s := range steps {
		if s.Warmup {
			continue
		}
		for _, it := range s.Items {
			byID[it.ID] = append(byID[it.ID], s)
		}
	}
	for _, r := range recs {
		if len(r.TokenTimesS) == 0 {
			continue
		}
		perToken := tokenParts(r, byID[r.ID])
		ttft := r.FirstTokenS - r.ArrivalS
		(*sm)[TTFT] = append((*sm)[TTFT], sample{ttft, withRest(perToken[0], ttft)})
		all := Parts{}
		for _, p := range perToken {
			all = all.plus(p)
		}
		e2e := r.CompletionS - r.ArrivalS
		(*sm)[E2E] = append((*sm)[E2E], sample{e2e, withRest(all, e2e)})
		d := len(r.TokenTimesS)
		if d < 2 {
			continue
		}
		decode := Parts{}
		for k := 1; k < d; k++ {
			gap := r.TokenTimesS[k] - r.TokenTimesS[k-1]
			(*sm)[ITL] = append((*sm)[ITL], sample{gap, withRest(perToken[k], gap)})
			decode = decode.plus(perToken[k])
		}
		tpot := (r.CompletionS - r.FirstTokenS) / float64(d-1)
		(*sm)[TPOT] = append((*sm)[TPOT], sample{tpot, withRest(decode.scaled(1/float64(d-1)), tpot)})
	}
}

// tokenParts assigns each step the request was in to the token it produced: the first
// token stamped after the step's start (a prefill chunk that produces no token
// counts towards the first one), and sums capture and execution per token.
func tokenParts(r Record, steps []Step) []Parts {
	out := make([]Parts, len(r.TokenTimesS))
	for _, s := range steps {
		if s.StartS+s.DurationS < r.ArrivalS {
			continue
		}
		k := sort.Search(len(r.TokenTimesS), func(i int) bool { return r.TokenTimesS[i] > s.StartS })
		if k >= len(out) {
			continue // after its last token (a step the trace attributes past completion)
		}
		if s.Captured {
			out[k].CaptureS += s.DurationS
		} else {
			out[k].ExecutionS += s.DurationS
		}
	}
	return out
}

// withRest sets the scheduling part to what the steps do not explain of latency v.
func withRest(p Parts, v float64) Parts {
	p.SchedulingS = v - p.CaptureS - p.ExecutionS
	return p
}

// parts is statistic st's split for metric m: the mean of the parts, or the parts of
// the nearest-rank sample at the percentile.
func (sm samplesByMetric) parts(m Metric, st Stat) (Parts, bool) {
	xs := sm[m]
	if len(xs) == 0 {
		return Parts{}, false
	}
	if st == Mean {
		sum := Parts{}
		for _, x := range xs {
			sum = sum.plus(x.parts)
		}
		return sum.scaled(1 / float64(len(xs))), true
	}
	p := map[Stat]float64{P50: 0.50, P90: 0.90, P99: 0.99}[st]
	if p == 0 {
		return Parts{}, false
	}
	sorted := slices.Clone(xs)
	slices.SortStableFunc(sorted, func(a, b sample) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(i, 0)].parts, true
}
