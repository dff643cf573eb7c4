package suite

import (
	"math"
	"strings"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/validation"
)

// idleStateOf is the state in which repetition i of b found an engine that admits
// requests at an idle poll (simkit.IdleState), from the recorded step traces of the
// run before its t0: the warm-up for a repetition with a warm-up, else the previous
// repetition, placed on this repetition's clock by the driver's t0 anchors (summary
// t0_clock). SinceS is NaN where unknown: a fresh or restarted process (the previous
// repetition ran in another one), a trace without steps or anchors.
//
// Why it matters: an hfcb TP engine counts its polls from the end of its last step,
// and a driver that starts a repetition a few ms after the previous one's last step
// makes its first request wait most of a poll (87-106 ms of 101 on two H200s), not half
// of one; if that run's last request reached the engine while it was busy, its first
// poll admits nothing (simkit's pollTiming). This is the engine's state at t0, as the
// warm-up's graph keys are.
func idleStateOf(b *realkit.Baseline, i int) simkit.IdleState {
	unknown := simkit.IdleState{SinceS: math.NaN()}
	if strings.Contains(b.Meta.WarmupPolicy, realkit.FreshProcessPolicy) ||
		strings.Contains(b.Meta.WarmupPolicy, realkit.RestartPolicy) {
		return unknown
	}
	rep := b.Repetitions[i]
	if end, ok := lastEnd(rep.Steps, true); ok {
		return simkit.IdleState{SinceS: min(end, 0), WakePending: simkit.WakePendingAfter(rep.Steps, true)}
	}
	if i == 0 {
		return unknown
	}
	prev := b.Repetitions[i-1]
	end, ok := lastEnd(prev.Steps, false)
	if !ok || prev.Summary == nil || rep.Summary == nil {
		return unknown
	}
	return simkit.IdleState{SinceS: min(prev.Summary.T0Clock+end-rep.Summary.T0Clock, 0),
		WakePending: simkit.WakePendingAfter(prev.Steps, false)}
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

// idleAt is realization k's engine state before t0: the recorded repetitions' in
// turn; nil where unknown.
func (s Simulator) idleAt(k int) *simkit.IdleState {
	if len(s.Idle) == 0 {
		return nil
	}
	v := s.Idle[k%len(s.Idle)]
	if math.IsNaN(v.SinceS) {
		return nil
	}
	return &v
}
