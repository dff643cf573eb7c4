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

// Bound is the largest |signed relative error| allowed for one (metric, stat).
// Reason is empty for a project default and says why for a scenario's loosened one.
type Bound struct {
	Metric Metric
	Stat   Stat
	Max    float64
	Reason string
	// Ungated statistics are computed and reported beside their bound but do not
	// change the verdict: a scenario says so, with the reason (the mechanism the
	// simulator does not model), when no honest bound can be held there yet.
	Ungated bool
}

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
		nb := Bound{Metric: o.Metric, Stat: o.Stat, Max: o.Max, Reason: reason, Ungated: ungated}
		if k := slices.IndexFunc(out.Bounds, func(b Bound) bool { return b.Metric == o.Metric && b.Stat == o.Stat }); k >= 0 {
			out.Bounds[k] = nb
		} else {
			out.Bounds = append(out.Bounds, nb)
		}
	}
	return out, nil
}
