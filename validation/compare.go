package validation

import (
	"fmt"
	"math"
	"strings"
)

// Row is one judged statistic: real and simulated values in seconds, the signed
// relative error (sim − real)/real, the bound on its magnitude, and the verdict.
// When real is 0, RelErr is 0 if sim is 0 too and ±Inf (failing) otherwise.
type Row struct {
	Metric Metric
	Stat   Stat
	Real   float64
	Sim    float64
	RelErr float64
	Bound  float64
	// Noise is the statistic's measured noise floor (relative; 0 when unknown) and
	// Effective the bound it is judged at: the larger of Bound and Noise.
	Noise     float64
	Effective float64
	Pass      bool
	// Gated is false for a statistic the criteria report without judging; Why then
	// says why.
	Gated bool
	Why   string
}

// Distance compares the whole distributions of one metric: KS distance (with its
// α = 0.05 critical value for information) and Wasserstein-1 in seconds. Gated says
// whether the KS distance counts towards the verdict (Criteria.GateKS).
type Distance struct {
	Metric   Metric
	KS       float64
	KSCrit05 float64
	W1S      float64
	Gated    bool
	MaxKS    float64
	Pass     bool
}

// Comparison is the whole judgement of a simulated run against a real one.
type Comparison struct {
	// Checks has one Row per judged statistic, in fixed order: metrics ttft, itl,
	// tpot, e2e; within each, stats mean, p50, p90, p99.
	Checks []Row
	// Paired per-request error for TTFT and E2E.
	Paired []Paired
	// Distances for TTFT and ITL.
	Distances []Distance
	// RealRequests and SimRequests count the records each side gave.
	RealRequests, SimRequests int
	// Real and Sim are both sides' summaries, recomputed from the records (zero
	// when a side's records were refused).
	Real, Sim RunSummary
	// Problems make the comparison fail whatever the rows say: invalid records, a
	// side with no records, too few samples, no bounds at all.
	Problems []string
	// Warnings are worth reading but do not change the verdict.
	Warnings []string
}

// Judged counts the rows that change the verdict.
func (c Comparison) Judged() int {
	n := 0
	for _, r := range c.Checks {
		if r.Gated {
			n++
		}
	}
	return n
}

// Pass reports whether the simulator met every bound: at least one judged row, no
// problems, every judged row within its effective bound and every gated distance
// within its bound. A comparison that judges nothing does not pass (NOTHING JUDGED).
func (c Comparison) Pass() bool {
	if c.Judged() == 0 || len(c.Problems) > 0 {
		return false
	}
	for _, r := range c.Checks {
		if !r.Pass && r.Gated {
			return false
		}
	}
	for _, d := range c.Distances {
		if d.Gated && !d.Pass {
			return false
		}
	}
	return true
}

// Worst returns the row with the largest |RelErr|/Bound (the first on ties), and
// false when there are no rows.
func (c Comparison) Worst() (Row, bool) {
	best, ok, worst := Row{}, false, -1.0
	for _, r := range c.Checks {
		if !r.Gated {
			continue
		}
		if x := math.Abs(r.RelErr) / r.Effective; x > worst {
			best, ok, worst = r, true, x
		}
	}
	return best, ok
}

// idListLimit caps how many request IDs one warning lists.
const idListLimit = 10

// Compare judges sim against real under c. It never fails outright: what is wrong
// with the input is reported in Problems (failing) or Warnings (not failing), so a
// report can always be written.
func Compare(real, sim []Record, c Criteria) Comparison {
	out := Comparison{RealRequests: len(real), SimRequests: len(sim)}
	for _, side := range []struct {
		name string
		recs []Record
	}{{"real", real}, {"sim", sim}} {
		if len(side.recs) == 0 {
			out.Problems = append(out.Problems, side.name+": no records")
		} else if err := ValidateRecords(side.recs); err != nil {
			out.Problems = append(out.Problems, fmt.Sprintf("%s: invalid records: %v", side.name, err))
		}
	}
	if len(out.Problems) > 0 {
		return out
	}
	if len(c.Bounds) == 0 {
		out.Problems = append(out.Problems, "criteria has no bounds")
	}
	out.Real, out.Sim = SummarizeRun(real), SummarizeRun(sim)
	out.Warnings = append(out.Warnings, requestSetWarnings(real, sim)...)
	out.Warnings = append(out.Warnings, boundWarnings(c)...)

	minCount := max(c.MinCount, 1)
	judged := map[Metric]bool{}
	for _, m := range JudgedMetrics {
		nr, ns := out.Real.Get(m).Count, out.Sim.Get(m).Count
		switch {
		case nr == 0 && ns == 0:
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s: no samples on either side; not judged", m))
			continue
		case nr < minCount || ns < minCount:
			out.Problems = append(out.Problems, fmt.Sprintf("%s: real has %d samples, sim has %d; need at least %d each", m, nr, ns, minCount))
			continue
		}
		judged[m] = true
		for _, st := range AllStats {
			b, ok := c.Bound(m, st)
			if !ok {
				continue
			}
			rv, sv := out.Real.Get(m).Get(st), out.Sim.Get(m).Get(st)
			e := relErr(rv, sv)
			if rv == 0 && sv != 0 {
				out.Warnings = append(out.Warnings, fmt.Sprintf("%s %s: real is 0, relative error undefined (sim %s ms)", m, st, ms(sv)))
			}
			row := Row{Metric: m, Stat: st, Real: rv, Sim: sv, RelErr: e, Bound: b.Max, Gated: b.Judged()}
			if !row.Gated {
				row.Why = b.Reason
			}
			nf, measured := c.noise(m, st)
			row.Noise = nf.Rel
			row.Effective = max(row.Bound, row.Noise)
			if w := noiseWarning(b, row); measured && w != "" {
				out.Warnings = append(out.Warnings, w)
			}
			row.Pass = math.Abs(e) <= row.Effective
			if why := c.tooFew(m, st, out.Real.Get(m).Count); why != "" && row.Gated {
				row.Gated, row.Why = false, why
			}
			out.Checks = append(out.Checks, row)
		}
	}

	for _, m := range []Metric{TTFT, E2E} {
		p := pairByID(m, real, sim)
		if p.SkippedZero > 0 {
			out.Warnings = append(out.Warnings, fmt.Sprintf("paired %s: %d requests with real value 0 left out of MAPE/MPE", m, p.SkippedZero))
		}
		out.Paired = append(out.Paired, p)
	}

	for _, m := range []Metric{TTFT, ITL} {
		if !judged[m] {
			continue
		}
		rv, sv := Values(m, real), Values(m, sim)
		d := Distance{
			Metric:   m,
			KS:       KSDistance(rv, sv),
			KSCrit05: KSCritical05(len(rv), len(sv)),
			W1S:      Wasserstein1(rv, sv),
			Gated:    c.GateKS,
			MaxKS:    c.MaxKS,
		}
		d.Pass = !d.Gated || d.KS <= d.MaxKS
		out.Distances = append(out.Distances, d)
	}
	return out
}

// relErr is (sim − real)/real, with real = 0 handled: 0 when sim is 0 too, else
// ±Inf so that no finite bound passes it.
func relErr(real, sim float64) float64 {
	if real == 0 {
		if sim == 0 {
			return 0
		}
		return math.Copysign(math.Inf(1), sim)
	}
	return (sim - real) / real
}

// requestSetWarnings says when the two sides did not run the same requests.
func requestSetWarnings(real, sim []Record) []string {
	var w []string
	if len(real) != len(sim) {
		w = append(w, fmt.Sprintf("request counts differ: real %d, sim %d", len(real), len(sim)))
	}
	if ids := onlyIn(real, sim); len(ids) > 0 {
		w = append(w, "requests only in real: "+listIDs(ids))
	}
	if ids := onlyIn(sim, real); len(ids) > 0 {
		w = append(w, "requests only in sim: "+listIDs(ids))
	}
	return w
}

// onlyIn returns the IDs of a that b lacks, in a's order.
func onlyIn(a, b []Record) []string {
	inB := make(map[string]bool, len(b))
	for _, r := range b {
		inB[r.ID] = true
	}
	var ids []string
	for _, r := range a {
		if !inB[r.ID] {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func listIDs(ids []string) string {
	if len(ids) <= idListLimit {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:idListLimit], ", "), len(ids)-idListLimit)
}

// boundWarnings surfaces every bound that carries a reason, so a loosened bound is
// read whenever its comparison is.
func boundWarnings(c Criteria) []string {
	var w []string
	for _, m := range JudgedMetrics {
		for _, st := range AllStats {
			if b, ok := c.Bound(m, st); ok && b.Gate == GateReported {
				w = append(w, reportedWarning(m, st, b.Reason))
			} else if ok && b.Reason != "" {
				w = append(w, fmt.Sprintf("bound %s %s is %s (default %s): %s",
					m, st, percent(b.Max), percent(defaultBound(st)), b.Reason))
			}
		}
	}
	return w
}

// reportedWarning is the warning of a statistic reported, not judged, for a reason.
func reportedWarning(m Metric, st Stat, reason string) string {
	return fmt.Sprintf("%s %s is reported, not judged: %s", m, st, reason)
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// noiseWarning says when a scenario's bound does not fit the measured noise (where one
// was measured): a loosened
// bound looser than both the project default and the noise is looser than needed; a
// tightened bound below the noise is untestable and is judged at the noise instead.
func noiseWarning(b Bound, r Row) string {
	def := defaultBound(b.Stat)
	switch {
	case b.Gate == GateLoosened && b.Max > max(def, r.Noise):
		return fmt.Sprintf("%s %s: loosened bound %s is looser than needed: the default is %s and the measured noise %s",
			b.Metric, b.Stat, percent(b.Max), percent(def), percent(r.Noise))
	case b.Max < def && r.Noise > b.Max:
		return fmt.Sprintf("%s %s: bound %s is tighter than the measured noise %s, so untestable: judged at the noise",
			b.Metric, b.Stat, percent(b.Max), percent(r.Noise))
	}
	return ""
}
