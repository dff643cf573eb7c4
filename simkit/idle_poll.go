package simkit

import (
	"math"

	"github.com/simval/simval/validation"
)

// IdleState is an idle-polling engine's state before t = 0 (Options.Idle): where its
// polls fall and whether its first idle iteration drains at once.
type IdleState struct {
	// SinceS is when the engine's last step ended (s, at most 0); its idle polls fall
	// at SinceS + k × period.
	SinceS float64
	// WakePending says a request reached the engine while that step ran, setting the
	// driver rank's wake-up event that only an idle iteration clears (see pollTiming).
	WakePending bool
}

// pollTiming is how an engine that admits requests to an idle replica only at a poll
// (idlePoller: a tensor-parallel hfcb engine) admits them. Read in transformers 5.17's
// continuous_api.py: with no batch, every rank's generation loop waits on its
// _has_new_requests event (timeout 0.1 s) and clears it; add_request sets it, on the
// driver rank only; prepare_next_batch first drains the driver rank's input queue and
// then meets the followers in a collective (_update_tp_group_state). So the followers,
// never woken, set the pace: they meet the driver rank every period (the wait plus one
// idle iteration). A request that reaches the idle driver rank wakes it, is drained at
// once and scheduled at the followers' next poll; one that arrives after the driver
// rank's own wait ran out (its drain came first) misses that poll and waits for the
// next. A request that arrived while the engine was busy leaves the event set (the busy
// loop never clears it): the first idle iteration then returns from its wait at once
// and drains straight after the last step, so the first poll admits nothing that
// arrives after the engine went idle.
type pollTiming struct {
	period float64 // the followers' poll period (s): idle_poll.csv
	wait   float64 // the driver rank's wait before it drains for the next poll (s)
}

// admit places a request that arrives at t at a replica idle since since: when the
// driver rank drains it (the step's start, as the engine clocks it) and the poll that
// schedules it. stale: the wake-up event was left set by a request that arrived while
// the replica was busy.
func (pt pollTiming) admit(since float64, stale bool, t float64) (drain, poll float64) {
	j := max(math.Ceil((t-since)/pt.period), 1) // the first poll at or after t
	cut := since + (j-1)*pt.period + pt.wait    // the driver rank drains for poll j
	if j == 1 && stale {
		cut = since
	}
	if t <= cut {
		return t, since + j*pt.period
	}
	return since + j*pt.period, since + (j+1)*pt.period
}

// pollState is one replica's idle-poll state.
type pollState struct {
	// wakePending: a request arrived after the driver rank's last drain, while the
	// replica was busy or waiting for a poll; the next idle stretch starts stale.
	wakePending bool
	// pending: the driver rank drained its queue at drainAt for the poll at pollAt,
	// where the drained requests are scheduled; those that arrive after the drain wait
	// in inbox until that batch is formed.
	pending         bool
	drainAt, pollAt float64
	inbox           []*SimRequest
}

// pollAdmit decides whether request r, routed to rep at e.now, is the scheduler's now
// (true) or waits in the replica's inbox for the pending poll's batch to be formed.
func (e *engine) pollAdmit(rep *replica, r *SimRequest) bool {
	ps := &rep.poll
	switch {
	case rep.running > 0:
		// The busy loop drains its queue at every step.
		ps.wakePending = true
		return true
	case ps.pending:
		if e.now <= ps.drainAt {
			return true
		}
		ps.inbox = append(ps.inbox, r)
		ps.wakePending = true
		return false
	}
	drain, poll := e.poll.admit(rep.idleSince, ps.wakePending, e.now)
	ps.wakePending = false // the idle iteration's wait returned and cleared the event
	ps.pending, ps.drainAt, ps.pollAt = true, drain, poll
	rep.wokeAt = drain
	return true
}

// polled ends a replica's pending poll once its batch is formed: the requests that
// arrived after the drain join the scheduler, for the steps that follow.
func (e *engine) polled(rep *replica) {
	ps := &rep.poll
	ps.pending = false
	for i, r := range ps.inbox {
		rep.sched.Add(r)
		ps.inbox[i] = nil
	}
	ps.inbox = ps.inbox[:0]
}

// busyGapS is the longest gap between two steps of a busy engine (the loop's own
// overhead is under 1 ms; an idle engine waits for a request or a poll).
const busyGapS = 0.002

// WakePendingAfter says whether a recorded run (its warm-up's steps, warmup true, or
// its timed ones) left an idle-polling engine's wake-up pending: whether the last
// request it admitted reached a busy engine, i.e. the step that first holds it follows
// the step before it without an idle gap. Its add_request then set the event that only
// an idle iteration clears (pollTiming).
func WakePendingAfter(steps []validation.Step, warmup bool) bool {
	seen := map[string]bool{}
	busy, prevEnd := false, math.Inf(-1)
	for _, st := range steps {
		if st.Warmup != warmup {
			continue
		}
		follows := st.StartS-prevEnd <= busyGapS
		for _, it := range st.Items {
			if !seen[it.ID] {
				seen[it.ID] = true
				busy = follows
			}
		}
		prevEnd = st.StartS + st.DurationS
	}
	return busy
}
