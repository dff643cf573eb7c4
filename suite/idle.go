package suite

import (
	"math"
	"strings"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/validation"
)

// idleSinceOf is when the engine of repetition i of b went idle before the
// repetition's t0 (s, at most 0), from the recorded step traces: the end of the
// warm-up's last step for a repetition with a warm-up, else the end of the previous
// repetition's last step, placed on this repetition's clock by the driver's t0 anchors
// (summary t0_clock). NaN where unknown: a fresh or restarted process (the previous
// repetition ran in another one), a trace without steps or anchors.
//
// Why it matters: an engine that admits requests at an idle poll (an hfcb TP engine:
// simkit's idle_poll.csv) counts its polls from the end of its last step, and the replay
// driver starts a repetition a few ms after the previous one's last step, so the first
// request of a repetition waits most of a poll (87-106 ms of 102 on two H200s), not half
// of one. This is the engine's state at t0, as the warm-up's graph keys are.
func idleSinceOf(b *realkit.Baseline, i int) float64 {
	if strings.Contains(b.Meta.WarmupPolicy, realkit.FreshProcessPolicy) ||
		strings.Contains(b.Meta.WarmupPolicy, realkit.RestartPolicy) {
		return math.NaN()
	}
	rep := b.Repetitions[i]
	if end, ok := lastEnd(rep.Steps, true); ok {
		return min(end, 0)
	}
	if i == 0 {
		return math.NaN()
	}
	prev := b.Repetitions[i-1]
	end, ok := lastEnd(prev.Steps, false)
	if !ok || prev.Summary == nil || rep.Summary == nil {
		return math.NaN()
	}
	return min(prev.Summary.T0Clock+end-rep.Summary.T0Clock, 0)
}

// lastEnd is the end of the last warm-up (warmup true) or timed step.
func lastEnd(steps []validation.Step, warmup bool) (float64, bool) {
	end, ok := math.Inf(-1), false
	for _, st := range steps {
		if st.Warmup == warmup {
			end, ok = max(end, st.StartS+st.DurationS), true
		}
	}
	return end, ok
}

// idleSinceAt is realization k's engine idle time before t0: the recorded repetitions'
// in turn; nil where unknown.
func (s Simulator) idleSinceAt(k int) *float64 {
	if len(s.IdleSinceS) == 0 {
		return nil
	}
	v := s.IdleSinceS[k%len(s.IdleSinceS)]
	if math.IsNaN(v) {
		return nil
	}
	return &v
}
