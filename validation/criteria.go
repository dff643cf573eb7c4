package validation

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Project-goal bounds on |signed relative error| (design.md, "Judging a simulator").
const (
	// DefaultCentralBound bounds the error of the mean and the median, which a
	// simulator of a steady engine should get within 5%.
	DefaultCentralBound = 0.05
	// DefaultTailBound bounds the error of p90 and p99, which rest on few samples
	// and are noisier on the real side.
	DefaultTailBound = 0.10
	// DefaultMinCount is the fewest samples of a judged metric each side must have;
	// 1 only refuses to judge a metric one side has no samples of.
	DefaultMinCount = 1
	// DefaultMaxKS bounds the two-sample KS distance when the KS gate is on: an
	// effect size, since with thousands of samples any difference is "significant".
	DefaultMaxKS = 0.10
)

// Gate says how a bound judges its statistic.
type Gate int

const (
	// GateDefault judges at the project bound.
	GateDefault Gate = iota
	// GateLoosened judges at a bound looser than the project's; it carries a reason.
	GateLoosened
	// GateReported computes and reports the statistic without judging it; it carries
	// a reason (a mechanism not modelled yet, too few samples).
	GateReported
)

func (g Gate) String() string {
	switch g {
	case GateDefault:
		return "default"
	case GateLoosened:
		return "loosened"
	case GateReported:
		return "reported only"
	}
	return fmt.Sprintf("Gate(%d)", int(g))
}

// Bound is the largest |signed relative error| allowed for one (metric, stat), and how
// it judges. Reason is empty for a project default and says why otherwise.
type Bound struct {
	Metric Metric
	Stat   Stat
	Max    float64
	Gate   Gate
	Reason string
}

// Judged reports whether the bound changes the verdict.
func (b Bound) Judged() bool { return b.Gate != GateReported }

// BoundOverride is how a scenario file changes one bound. Loosening a bound past the
// project default needs a Reason; tightening does not.
type BoundOverride struct {
	Metric Metric  `json:"metric" yaml:"metric"`
	Stat   Stat    `json:"stat" yaml:"stat"`
	Max    float64 `json:"max" yaml:"max"`
	Reason string  `json:"reason,omitempty" yaml:"reason,omitempty"`
	// Gate false reports the statistic without judging it; it needs a reason and
	// keeps the default bound for display (max may be left out).
	Gate *bool `json:"gate,omitempty" yaml:"gate,omitempty"`
}

// Criteria is what a simulator is held to: one Bound per judged (metric, stat), a
// minimum sample count, and an optional gate on KS distance (off by default: the
// distance is then reported as information only).
type Criteria struct {
	// Bounds has one entry per judged metric × stat, in table order.
	Bounds []Bound
	// MinCount is the fewest samples of each judged metric each side must have for
	// that metric to be judged (a metric neither side has, e.g. ITL when every
	// request has one output token, is skipped with a warning instead).
	MinCount int
	// GateKS makes a KS distance above MaxKS (for TTFT and ITL) fail the comparison.
	GateKS bool
	MaxKS  float64
	// Noise holds the measured noise floor of each statistic, where known
	// (NoiseFloors): a statistic is judged at the larger of its bound and its floor.
	Noise []NoiseFloor
	// MinSamples is the fewest values per real repetition a statistic must rest on to
	// be judged (SampleRule); nil judges every statistic that has samples.
	MinSamples map[Stat]int
	// Repetitions is how many real repetitions the pooled real side holds, for
	// MinSamples (0 counts as 1).
	Repetitions int
}

// DefaultCriteria returns the project goal: DefaultCentralBound for mean and p50,
// DefaultTailBound for p90 and p99, for TTFT, ITL, TPOT and E2E.
func DefaultCriteria() Criteria {
	c := Criteria{MinCount: DefaultMinCount, MaxKS: DefaultMaxKS}
	for _, m := range JudgedMetrics {
		for _, st := range AllStats {
			c.Bounds = append(c.Bounds, Bound{Metric: m, Stat: st, Max: defaultBound(st)})
		}
	}
	return c
}

func defaultBound(st Stat) float64 {
	if st == Mean || st == P50 {
		return DefaultCentralBound
	}
	return DefaultTailBound
}

// Bound returns the bound on (m, st), and false if c has none.
func (c Criteria) Bound(m Metric, st Stat) (Bound, bool) {
	for _, b := range c.Bounds {
		if b.Metric == m && b.Stat == st {
			return b, true
		}
	}
	return Bound{}, false
}

// WithOverrides returns a copy of c with the overrides applied. It refuses an
// unknown or unjudged metric, an unknown stat, a Max that is not a positive finite
// number, two overrides of one bound, and an override looser than the project
// default (DefaultCriteria) without a non-empty Reason. Errors name the override's
// position and its metric and stat.
func (c Criteria) WithOverrides(ovs []BoundOverride) (Criteria, error) {
	out := c
	out.Bounds = slices.Clone(c.Bounds)
	done := map[Bound]int{}
	for i, o := range ovs {
		where := fmt.Sprintf("bound override %d (%s %s)", i, o.Metric, o.Stat)
		if !slices.Contains(JudgedMetrics, o.Metric) {
			return Criteria{}, fmt.Errorf("%s: metric %q is not judged (want one of %v)", where, o.Metric, JudgedMetrics)
		}
		if !slices.Contains(AllStats, o.Stat) {
			return Criteria{}, fmt.Errorf("%s: unknown stat %q (want one of %v)", where, o.Stat, AllStats)
		}
		ungated := o.Gate != nil && !*o.Gate
		if ungated && o.Max == 0 {
			o.Max = defaultBound(o.Stat)
		}
		if !(o.Max > 0) || math.IsInf(o.Max, 0) {
			return Criteria{}, fmt.Errorf("%s: max %v, want a positive finite fraction (0.05 = 5%%)", where, o.Max)
		}
		key := Bound{Metric: o.Metric, Stat: o.Stat}
		if j, dup := done[key]; dup {
			return Criteria{}, fmt.Errorf("%s: overrides the same bound as override %d", where, j)
		}
		done[key] = i
		reason := strings.TrimSpace(o.Reason)
		if def := defaultBound(o.Stat); o.Max > def && reason == "" {
			return Criteria{}, fmt.Errorf("%s: max %v is looser than the default %v and needs a reason", where, o.Max, def)
		}
		if ungated && reason == "" {
			return Criteria{}, fmt.Errorf("%s: gate false (reported, not judged) needs a reason", where)
		}
		gate := GateDefault
		switch {
		case ungated:
			gate = GateReported
		case reason != "" && o.Max > defaultBound(o.Stat):
			gate = GateLoosened
		}
		nb := Bound{Metric: o.Metric, Stat: o.Stat, Max: o.Max, Gate: gate, Reason: reason}
		if k := slices.IndexFunc(out.Bounds, func(b Bound) bool { return b.Metric == o.Metric && b.Stat == o.Stat }); k >= 0 {
			out.Bounds[k] = nb
		} else {
			out.Bounds = append(out.Bounds, nb)
		}
	}
	return out, nil
}
