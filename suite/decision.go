package suite

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math"
	"path"
	"strings"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

// DecisionResult is a judged decision: a row per statistic and non-reference point,
// a ranking per statistic for a sweep of three or more points, and what the judge
// noticed.
type DecisionResult struct {
	Decision *scenarios.Decision
	Rows     []validation.DecisionRow
	Rankings []validation.Ranking
	Warnings []string
	// Judged is false for a decision its spec reports without judging (Reported).
	Judged bool
}

// Pass reports whether every row and ranking passed (whether or not it is judged).
func (r *DecisionResult) Pass() bool {
	for _, x := range r.Rows {
		if !x.Pass {
			return false
		}
	}
	for _, x := range r.Rankings {
		if !x.Pass {
			return false
		}
	}
	return len(r.Rows) > 0
}

// JudgeDecision simulates every point of d with the settings the engine resolved for
// that point's run (changing one knob makes the engine resolve others: a smaller token
// budget also caps the requests per batch, a small cache a larger budget) and judges
// the changes. Every repetition is judged, its graph captures included: each point is
// simulated after the graph keys its own recorded warm-up left.
func JudgeDecision(ctx context.Context, d *scenarios.Decision, sys Simulator) (*DecisionResult, error) {
	sc, err := scenarios.Lookup(d.Scenario)
	if err != nil {
		return nil, fmt.Errorf("decision %s: %w", d.Name, err)
	}
	tgt, err := targets.Lookup(d.Target)
	if err != nil {
		return nil, fmt.Errorf("decision %s: %w", d.Name, err)
	}
	after := *sc
	after.EngineState = scenarios.EngineAfterWarmup
	res := &DecisionResult{Decision: d, Judged: d.Reported == ""}
	if !res.Judged {
		res.Warnings = append(res.Warnings, "reported, not judged: "+d.Reported)
	}
	var reals, sims []validation.RunSummary
	var halfRanges [][]validation.RunSummary // per point, per repetition
	for _, p := range d.Points {
		file := path.Join(tgt.Dir(), p.Run)
		data, err := fs.ReadFile(tgt.FS(), file)
		if err != nil {
			return nil, fmt.Errorf("decision %s: point %s: %w", d.Name, p.Value, err)
		}
		b, err := realkit.ReadBaseline(bytes.NewReader(data), file)
		if err != nil {
			return nil, fmt.Errorf("decision %s: %w", d.Name, err)
		}
		real, _, err := realFromBaseline(b, &after, tgt, file)
		if err != nil {
			return nil, fmt.Errorf("decision %s: %w", d.Name, err)
		}
		check := b.Meta.Settings
		if err := check.Set(d.Setting, p.Value); err != nil {
			return nil, fmt.Errorf("decision %s: point %s: %w", d.Name, p.Value, err)
		}
		if check != b.Meta.Settings {
			return nil, fmt.Errorf("decision %s: point %s: %s was recorded with %s %v", d.Name, p.Value, file,
				d.Setting, b.Meta.Settings)
		}
		at := *tgt
		at.Settings = b.Meta.Settings
		var also []string
		for _, m := range validation.AlignSettings(tgt.Settings, at.Settings) {
			if m.Field != d.Setting {
				also = append(also, fmt.Sprintf("%s %s (target %s)", m.Field, m.Sim, m.Real))
			}
		}
		if len(also) > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("point %s: with %s %s the engine also resolved %s; "+
				"simulated with them", p.Value, d.Setting, p.Value, strings.Join(also, ", ")))
		}
		ev, err := Evaluate(ctx, &after, &at, sys, real)
		if err != nil {
			return nil, fmt.Errorf("decision %s: point %s: %w", d.Name, p.Value, err)
		}
		if ev.Comparison == nil || len(ev.Comparison.Problems) > 0 {
			return nil, fmt.Errorf("decision %s: point %s: not comparable: %v", d.Name, p.Value, ev.Comparison.Problems)
		}
		reals, sims = append(reals, ev.Comparison.Real), append(sims, ev.Comparison.Sim)
		var perRep []validation.RunSummary
		for _, run := range real.Runs {
			perRep = append(perRep, validation.SummarizeRun(run))
		}
		halfRanges = append(halfRanges, perRep)
	}
	for _, ms := range validation.DecisionStats {
		for i := 1; i < len(d.Points); i++ {
			res.Rows = append(res.Rows, validation.JudgeChange(d.Name, d.Points[i].Value, ms.Metric, ms.Stat,
				reals[0].Get(ms.Metric).Get(ms.Stat), reals[i].Get(ms.Metric).Get(ms.Stat),
				sims[0].Get(ms.Metric).Get(ms.Stat), sims[i].Get(ms.Metric).Get(ms.Stat), d.Bound))
		}
		if len(d.Points) >= 3 {
			var xr, xs, hr []float64
			for i := range d.Points {
				xr = append(xr, reals[i].Get(ms.Metric).Get(ms.Stat))
				xs = append(xs, sims[i].Get(ms.Metric).Get(ms.Stat))
				lo, hi := math.Inf(1), math.Inf(-1)
				for _, s := range halfRanges[i] {
					v := s.Get(ms.Metric).Get(ms.Stat)
					lo, hi = min(lo, v), max(hi, v)
				}
				hr = append(hr, (hi-lo)/2)
			}
			res.Rankings = append(res.Rankings, validation.RankSweep(d.Name, ms.Metric, ms.Stat, xr, xs, hr, d.Bound))
		}
	}
	return res, nil
}
