package simkit

import (
	"fmt"
	"io/fs"
	"math"
)

// hfcbIdlePollFile is a tensor-parallel hfcb bundle's measured idle poll
// (realkit/drivers/hfcb_tp_bundle.py).
const hfcbIdlePollFile = "idle_poll.csv"

// readHFCBIdlePoll reads idle_poll.csv: the period (s) at which an idle tensor-parallel
// engine's follower ranks poll; 0 when the bundle has none. Why it matters, and how a
// request is admitted between two polls: pollTiming.
func readHFCBIdlePoll(fsys fs.FS, file string, tp int) (float64, error) {
	t, err := openOptional(fsys, file)
	if err != nil || t == nil {
		return 0, err
	}
	if err := t.require("tp", "period_ms"); err != nil {
		return 0, err
	}
	for row := range t.rows {
		keep, err := t.keepRow(row, "tp", tp)
		if err != nil {
			return 0, err
		}
		if !keep {
			continue
		}
		ms, err := t.num(row, "period_ms")
		if err != nil {
			return 0, err
		}
		if !(ms > 0) || math.IsInf(ms, 0) {
			return 0, t.cellErr(row, "period_ms", "%g is not a positive time", ms)
		}
		return ms * 1e-3, nil
	}
	return 0, fmt.Errorf("%s: no row for tp %d", t.path, tp)
}

// idlePoller is a predictor of an engine that admits requests to an idle replica only
// at its idle poll.
type idlePoller interface {
	// IdlePoll is the poll's timing; a zero period when the engine wakes at once.
	IdlePoll() pollTiming
}

// hfcbIdleWaitS is the driver rank's wait for a request when it has no batch:
// _has_new_requests.wait(timeout=0.1) in transformers 5.17's _generation_loop_body.
const hfcbIdleWaitS = 0.1

func (pr *hfcbPredictor) IdlePoll() pollTiming {
	if pr.idlePoll == 0 {
		return pollTiming{}
	}
	return pollTiming{period: pr.idlePoll, wait: min(hfcbIdleWaitS, pr.idlePoll)}
}
