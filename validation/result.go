package validation

import (
	"encoding/json"
	"math"
)

// ResultRow is one judged statistic as the CLI prints it in JSON (one object per
// line or an array). Real and Sim are in seconds; RelErr and Bound are fractions.
// A non-finite RelErr (real = 0, sim ≠ 0) is written as null.
type ResultRow struct {
	Scenario string  `json:"scenario"`
	Target   string  `json:"target"`
	Metric   Metric  `json:"metric"`
	Stat     Stat    `json:"stat"`
	Real     float64 `json:"real"`
	Sim      float64 `json:"sim"`
	RelErr   float64 `json:"rel_err"`
	Bound    float64 `json:"bound"`
	// Noise is the statistic's measured noise floor and EffectiveBound the bound it
	// is judged at (the larger of Bound and Noise); fractions.
	Noise          float64 `json:"noise"`
	EffectiveBound float64 `json:"effective_bound"`
	Pass           bool    `json:"pass"`
	// Gated is false for a statistic the scenario reports without judging; its Pass
	// is the row's own verdict and does not count towards the overall one. Why says
	// why it is not judged.
	Gated bool   `json:"gated"`
	Why   string `json:"why,omitempty"`
}

// Rows flattens the comparison's Checks for the CLI, in the comparison's fixed order.
func (c Comparison) Rows(scenario, target string) []ResultRow {
	out := make([]ResultRow, 0, len(c.Checks))
	for _, r := range c.Checks {
		out = append(out, ResultRow{
			Scenario: scenario, Target: target, Metric: r.Metric, Stat: r.Stat,
			Real: r.Real, Sim: r.Sim, RelErr: r.RelErr, Bound: r.Bound, Noise: r.Noise, EffectiveBound: r.Effective,
			Pass: r.Pass, Gated: r.Gated, Why: r.Why,
		})
	}
	return out
}

// MarshalJSON writes the row with its fields in declaration order, mapping a
// non-finite float to null (encoding/json refuses NaN and ±Inf outright).
func (r ResultRow) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Scenario string   `json:"scenario"`
		Target   string   `json:"target"`
		Metric   Metric   `json:"metric"`
		Stat     Stat     `json:"stat"`
		Real     *float64 `json:"real"`
		Sim      *float64 `json:"sim"`
		RelErr   *float64 `json:"rel_err"`
		Bound    *float64 `json:"bound"`
		Noise    *float64 `json:"noise"`
		Eff      *float64 `json:"effective_bound"`
		Pass     bool     `json:"pass"`
		Gated    bool     `json:"gated"`
		Why      string   `json:"why,omitempty"`
	}{r.Scenario, r.Target, r.Metric, r.Stat, finite(r.Real), finite(r.Sim), finite(r.RelErr), finite(r.Bound),
		finite(r.Noise), finite(r.EffectiveBound), r.Pass, r.Gated, r.Why})
}

func finite(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}
