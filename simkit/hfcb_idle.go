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
// engine admits requests; 0 when the bundle has none.
//
// Why: transformers 5.17's generation loop waits _has_new_requests.wait(timeout=0.1)
// when it has no batch; add_request sets that event on the driver rank only, and every
// loop iteration meets the other ranks in a collective, so a request that reaches an
// idle TP engine is scheduled at the followers' next poll: at (end of the last step) +
// k × period, period = 100 ms plus one idle iteration (101.99 ms measured on two
// H200s). One GPU wakes at once.
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
	// IdlePollS is the poll's period (s); 0 when the engine wakes at once.
	IdlePollS() float64
}

func (pr *hfcbPredictor) IdlePollS() float64 { return pr.idlePoll }

// nextPoll is the first poll of a replica idle since idleSince at or after now: the
// k-th period after idleSince, k ≥ 1.
func nextPoll(idleSince, now, period float64) float64 {
	k := math.Ceil((now - idleSince) / period)
	return idleSince + max(k, 1)*period
}
