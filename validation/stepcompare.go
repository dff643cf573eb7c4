package validation

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// StepComparison compares a simulated step trace with the real step traces of
// several repetitions (timed steps only: Warmup steps are ignored on both sides).
type StepComparison struct {
	// RealSteps is the number of timed steps of each real repetition, in order.
	RealSteps []int `json:"real_steps"`
	// SimSteps is the number of timed simulated steps.
	SimSteps int `json:"sim_steps"`
	// StepCountErr is (sim − mean real)/mean real of the timed step count.
	StepCountErr float64 `json:"step_count_err"`
	// CompositionMatch is the mean over repetitions of the share of steps whose
	// batch composition matches the simulated step at the same position, in [0,1]:
	// the i-th timed real step is paired with the i-th timed sim step, and the
	// share is matching pairs / max(real steps, sim steps). A step's composition is
	// the multiset of (ID, Prefill, Decode) of its Items (Past is ignored), so the
	// order of the items does not matter; a step without Items never matches.
	CompositionMatch float64 `json:"composition_match"`
	// ByKind has one row per StepKinds entry that either side has, in StepKinds
	// order.
	ByKind []StepKindRow `json:"by_kind"`
	// Attribution splits the error of the total busy time.
	Attribution BusyAttribution `json:"attribution"`
	// ByStat attributes each judged statistic's error to capture, execution and
	// scheduling (AttributeStats); nil where the records are not at hand.
	ByStat []StatAttribution `json:"by_stat,omitempty"`
}

// StepKindRow compares the steps of one kind. Real counts and mean durations pool
// all repetitions: RealCount is the mean count per repetition and RealMeanS the
// mean duration over every real step of the kind.
type StepKindRow struct {
	Kind      StepKind `json:"kind"`
	RealCount float64  `json:"real_count"`
	SimCount  int      `json:"sim_count"`
	// RealMeanS and SimMeanS are the mean step durations in seconds; 0 on a side
	// that has no step of the kind.
	RealMeanS float64 `json:"real_mean_s"`
	SimMeanS  float64 `json:"sim_mean_s"`
	// RelErr is (sim − real)/real of the mean duration. It is 0 when one side has
	// no step of the kind (Missing then names that side); ±Inf when the real mean
	// is 0 and the simulated one is not (as Row.RelErr).
	RelErr float64 `json:"rel_err"`
	// Missing is "", "real" or "sim": the side without a step of this kind.
	Missing string `json:"missing"`
	// RealCommMeanS and SimCommMeanS are the mean communication time per step
	// (Step.CommS) on each side; 0 where a side reports none.
	RealCommMeanS float64 `json:"real_comm_mean_s,omitempty"`
	SimCommMeanS  float64 `json:"sim_comm_mean_s,omitempty"`
}

// BusyAttribution splits the error of the total busy time Σ step durations (sim −
// mean real, seconds per repetition) exactly into three parts that sum to Total:
//
//	Execution  = Σ_{k ≠ capture} nReal_k · (dSim_k − dReal_k)   (same steps, different durations)
//	Scheduling = Σ_{k ≠ capture} (nSim_k − nReal_k) · dSim_k     (different numbers of steps of each kind)
//	Capture    = nSim_c · dSim_c − nReal_c · dReal_c              (graph-capture steps)
//
// where n are counts per repetition (real: the mean over repetitions) and d mean
// step durations (real: pooled over repetitions, so that nReal_k · dReal_k is the
// mean real busy time of kind k). A kind that one side lacks takes the other side's
// mean duration as its d on the missing side: its n there is 0, so the identity is
// unchanged, and the whole difference of that kind counts as Scheduling (none as
// Execution), since the simulator scheduled the wrong steps rather than timing the
// right ones wrongly.
type BusyAttribution struct {
	// RealBusyS is the mean over repetitions of the summed durations of the timed
	// real steps; SimBusyS the same sum for the simulated steps.
	RealBusyS float64 `json:"real_busy_s"`
	SimBusyS  float64 `json:"sim_busy_s"`
	// Total is SimBusyS − RealBusyS.
	Total float64 `json:"total"`
	// Execution, Scheduling and Capture sum to Total (to rounding, ~1e-15 s).
	Execution  float64 `json:"execution"`
	Scheduling float64 `json:"scheduling"`
	Capture    float64 `json:"capture"`
	// Comm splits Execution into communication and compute where the steps say how
	// much of them was communication (Step.CommS); nil when neither side does.
	Comm *CommAttribution `json:"comm,omitempty"`
}

// CommAttribution splits the execution error into the collectives between GPUs and
// the rest (compute and CPU), per kind k ≠ capture, with c the mean Step.CommS:
//
//	Communication = Σ nReal_k · (cSim_k − cReal_k)
//	Compute       = Σ nReal_k · ((dSim_k − cSim_k) − (dReal_k − cReal_k))
//
// which sum to Execution. The split needs the real communication time, which only a
// real side that measured it per step has (Measured: every timed real step carries
// CommS > 0); otherwise Communication and Compute stay 0 and only the predicted
// communication is reported, with the reason in Unsplit.
type CommAttribution struct {
	// SimCommS is the predicted communication per repetition (Σ sim CommS) and
	// SimShare its share of SimBusyS; RealCommS the measured one (mean per repetition).
	SimCommS  float64 `json:"sim_comm_s"`
	SimShare  float64 `json:"sim_share"`
	RealCommS float64 `json:"real_comm_s"`
	Measured  bool    `json:"measured"`
	// Communication and Compute sum to Execution when Measured.
	Communication float64 `json:"communication"`
	Compute       float64 `json:"compute"`
	Unsplit       string  `json:"unsplit,omitempty"`
}

// Dominant names the attribution part of largest magnitude: "execution",
// "scheduling" or "capture" (the first in that order on ties), or "" when all
// three are 0.
func (c StepComparison) Dominant() string {
	a := c.Attribution
	best, name := 0.0, ""
	for _, p := range []struct {
		name string
		v    float64
	}{{"execution", a.Execution}, {"scheduling", a.Scheduling}, {"capture", a.Capture}} {
		if m := math.Abs(p.v); m > best {
			best, name = m, p.name
		}
	}
	return name
}

// CompareSteps compares the timed steps of sim with those of the real repetitions
// (each in the order given). A real repetition without timed steps still counts
// (with 0 steps). It fails when sim has no timed step, when no real repetition has
// one, or when a step has a non-finite start or a non-finite or negative duration.
func CompareSteps(real [][]Step, sim []Step) (StepComparison, error) {
	if err := checkStepTraces(real, sim); err != nil {
		return StepComparison{}, fmt.Errorf("compare steps: %w", err)
	}
	simT := timedSteps(sim)
	if len(simT) == 0 {
		return StepComparison{}, fmt.Errorf("compare steps: sim has no timed step")
	}
	realT := make([][]Step, len(real))
	some := false
	for i, rep := range real {
		realT[i] = timedSteps(rep)
		some = some || len(realT[i]) > 0
	}
	if !some {
		return StepComparison{}, fmt.Errorf("compare steps: no real repetition has a timed step")
	}

	out := StepComparison{SimSteps: len(simT)}
	reps := float64(len(realT))
	totalReal := 0
	for _, rep := range realT {
		out.RealSteps = append(out.RealSteps, len(rep))
		totalReal += len(rep)
		out.CompositionMatch += compositionShare(rep, simT)
	}
	out.CompositionMatch /= reps
	meanReal := float64(totalReal) / reps
	out.StepCountErr = (float64(len(simT)) - meanReal) / meanReal

	// Per kind: count and summed duration on each side (real pooled).
	type acc struct {
		n    int
		s, c float64 // summed durations and communication times
	}
	realAcc, simAcc := map[StepKind]acc{}, map[StepKind]acc{}
	realMeasured, anyComm := true, false
	for _, rep := range realT {
		for _, s := range rep {
			a := realAcc[s.Kind()]
			realAcc[s.Kind()] = acc{a.n + 1, a.s + s.DurationS, a.c + s.CommS}
			out.Attribution.RealBusyS += s.DurationS
			realMeasured = realMeasured && s.CommS > 0
			anyComm = anyComm || s.CommS > 0
		}
	}
	out.Attribution.RealBusyS /= reps
	for _, s := range simT {
		a := simAcc[s.Kind()]
		simAcc[s.Kind()] = acc{a.n + 1, a.s + s.DurationS, a.c + s.CommS}
		out.Attribution.SimBusyS += s.DurationS
		anyComm = anyComm || s.CommS > 0
	}
	var comm CommAttribution
	at := &out.Attribution
	at.Total = at.SimBusyS - at.RealBusyS

	for _, k := range StepKinds {
		ra, sa := realAcc[k], simAcc[k]
		if ra.n == 0 && sa.n == 0 {
			continue
		}
		row := StepKindRow{Kind: k, RealCount: float64(ra.n) / reps, SimCount: sa.n}
		if ra.n > 0 {
			row.RealMeanS, row.RealCommMeanS = ra.s/float64(ra.n), ra.c/float64(ra.n)
		}
		if sa.n > 0 {
			row.SimMeanS, row.SimCommMeanS = sa.s/float64(sa.n), sa.c/float64(sa.n)
		}
		// Durations for the attribution: a missing side takes the other's mean.
		dReal, dSim := row.RealMeanS, row.SimMeanS
		cReal, cSim := row.RealCommMeanS, row.SimCommMeanS
		switch {
		case ra.n == 0:
			row.Missing, dReal, cReal = "real", dSim, cSim
		case sa.n == 0:
			row.Missing, dSim, cSim = "sim", dReal, cReal
		default:
			row.RelErr = relErr(row.RealMeanS, row.SimMeanS)
		}
		nReal, nSim := row.RealCount, float64(sa.n)
		if k == StepCapture {
			at.Capture = nSim*dSim - nReal*dReal
		} else {
			at.Execution += nReal * (dSim - dReal)
			at.Scheduling += (nSim - nReal) * dSim
			comm.Communication += nReal * (cSim - cReal)
			comm.Compute += nReal * ((dSim - cSim) - (dReal - cReal))
		}
		comm.SimCommS += sa.c
		comm.RealCommS += ra.c / reps
		out.ByKind = append(out.ByKind, row)
	}
	if anyComm {
		at.Comm = finishComm(comm, realMeasured, at.SimBusyS)
	}
	return out, nil
}

// finishComm completes the communication split, or withdraws it when the real steps
// did not all report their communication time.
func finishComm(c CommAttribution, measured bool, simBusyS float64) *CommAttribution {
	c.Measured = measured
	if simBusyS > 0 {
		c.SimShare = c.SimCommS / simBusyS
	}
	if !measured {
		c.Communication, c.Compute, c.RealCommS = 0, 0, 0
		c.Unsplit = "the real steps do not all report their communication time (step comm_s), so the execution " +
			"error cannot be split into communication and compute"
	}
	return &c
}

// timedSteps returns the steps that are not warm-up steps, in order.
func timedSteps(steps []Step) []Step {
	var out []Step
	for _, s := range steps {
		if !s.Warmup {
			out = append(out, s)
		}
	}
	return out
}

// compositionShare pairs real[i] with sim[i] and returns the share of matching
// pairs over max(len(real), len(sim)) (0 when both are empty).
func compositionShare(real, sim []Step) float64 {
	n := max(len(real), len(sim))
	if n == 0 {
		return 0
	}
	match := 0
	for i := range min(len(real), len(sim)) {
		if sameComposition(real[i], sim[i]) {
			match++
		}
	}
	return float64(match) / float64(n)
}

// sameComposition reports whether two steps batch the same multiset of (ID,
// Prefill, Decode); steps without items never match.
func sameComposition(a, b Step) bool {
	if len(a.Items) == 0 || len(a.Items) != len(b.Items) {
		return false
	}
	return slices.Equal(stepComposition(a), stepComposition(b))
}

func stepComposition(s Step) []StepItem {
	c := make([]StepItem, len(s.Items))
	for i, it := range s.Items {
		c[i] = StepItem{ID: it.ID, Prefill: it.Prefill, Decode: it.Decode}
	}
	slices.SortFunc(c, func(x, y StepItem) int {
		return cmp.Or(cmp.Compare(x.ID, y.ID), cmp.Compare(x.Prefill, y.Prefill), cmp.Compare(x.Decode, y.Decode))
	})
	return c
}

// checkStepTraces refuses a step with a non-finite start, or a non-finite or
// negative duration, naming the side, the repetition (counted from 1), the step's
// position (from 0) and its Index.
func checkStepTraces(real [][]Step, sim []Step) error {
	for r, rep := range real {
		if err := checkStepTimes(rep); err != nil {
			return fmt.Errorf("real repetition %d: %w", r+1, err)
		}
	}
	if err := checkStepTimes(sim); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	return nil
}

func checkStepTimes(steps []Step) error {
	for i, s := range steps {
		switch {
		case math.IsNaN(s.StartS) || math.IsInf(s.StartS, 0):
			return fmt.Errorf("step %d (index %d): start %v is not finite", i, s.Index, s.StartS)
		case math.IsNaN(s.DurationS) || math.IsInf(s.DurationS, 0):
			return fmt.Errorf("step %d (index %d): duration %v is not finite", i, s.Index, s.DurationS)
		case s.DurationS < 0:
			return fmt.Errorf("step %d (index %d): duration %v s is negative", i, s.Index, s.DurationS)
		}
	}
	return nil
}
