package simkit

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/validation"
)

// manyFinished is where the driver rank's late first idle iteration (0.08 ms a finished
// request) outgrows the window in which it drains before a poll (the period less the
// 100 ms wait, 1.4-2 ms): from there a late start alone can move a request across a
// poll or a poll by more than the comparison's 5 ms. Fewer finished requests must not
// explain a miss.
const manyFinished = 32

// tpTargetDir holds the tensor-parallel target's development runs (dev/: never a
// catalog scenario) and its profile.
const tpTargetDir = "../targets/catalog/h200x2-hfcb-tp2-qwen3-0.6b"

// recordedRun is the part of a recorded run (realkit's baseline file) this test reads.
type recordedRun struct {
	Repetitions []struct {
		Records []validation.Record `json:"records"`
		Steps   []validation.Step   `json:"steps"`
	} `json:"repetitions"`
}

// idleAdmission is one recorded admission to an idle engine, and where pollTiming puts it.
type idleAdmission struct {
	rep, step            int
	id                   string
	finished             int     // requests that finished in the step before the idle stretch
	arrival, since, real float64 // s, on the repetition's clock
	stale                bool
	predicted            float64
}

// idleAdmissions replays every idle stretch inside a recorded repetition through
// pollTiming: from the end of the step before it (since), whether the run so far left
// a wake-up pending, and the first new request's arrival, it predicts the poll that
// schedules the step; real is the step's requests' first scheduling. A repetition's
// first step is left out: its idle stretch began in the run before it.
func idleAdmissions(t *testing.T, run recordedRun, pt pollTiming) []idleAdmission {
	var out []idleAdmission
	for r, rep := range run.Repetitions {
		rec := map[string]validation.Record{}
		for _, x := range rep.Records {
			rec[x.ID] = x
		}
		var steps []validation.Step
		for _, st := range rep.Steps {
			if !st.Warmup {
				steps = append(steps, st)
			}
		}
		sort.SliceStable(steps, func(i, j int) bool { return steps[i].StartS < steps[j].StartS })
		seen := map[string]bool{}
		for i, st := range steps {
			var first *validation.Record
			realAt := math.Inf(1)
			for _, it := range st.Items {
				x, ok := rec[it.ID]
				if seen[it.ID] || !ok || x.FirstScheduledS == nil {
					continue
				}
				if first == nil || x.ArrivalS < first.ArrivalS {
					first = &x
				}
				realAt = min(realAt, *x.FirstScheduledS)
			}
			if i > 0 && first != nil {
				since := steps[i-1].StartS + steps[i-1].DurationS
				if st.StartS-since > busyGapS && first.ArrivalS > since {
					stale := WakePendingAfter(steps[:i], false)
					_, at := pt.admit(since, stale, first.ArrivalS)
					fin := 0
					for _, x := range rep.Records {
						if x.CompletionS >= steps[i-1].StartS && x.CompletionS <= since {
							fin++
						}
					}
					out = append(out, idleAdmission{rep: r, step: i, id: first.ID, arrival: first.ArrivalS,
						since: since, real: realAt, stale: stale, predicted: at, finished: fin})
				}
			}
			for _, it := range st.Items {
				seen[it.ID] = true
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}

// On the TP target's development runs (calibration traces replayed through the real
// two-H200 engine), pollTiming puts every admission to an idle engine at the poll the
// engine used (the next poll, the one after where the driver rank had already drained,
// the second where a wake-up was left pending; a miss is a whole poll, so 5 ms tells
// them apart), except after a step that finished many requests at once: the driver
// rank's first idle iteration then comes late, about 0.08 ms a request (likely the replay
// thread on rank 0 writing each finished request while holding the GIL; unmeasured),
// which shifts the polls by up to 10 ms, unmodelled (simkit/HFCB.md). Those are logged.
func TestIdlePollAdmissionsOnDevelopmentRuns(t *testing.T) {
	period, err := readHFCBIdlePoll(os.DirFS(filepath.Join(tpTargetDir, "profile")), hfcbIdlePollFile, 2)
	require.NoError(t, err)
	pt := pollTiming{period: period, wait: hfcbIdleWaitS}
	files, err := filepath.Glob(filepath.Join(tpTargetDir, "dev", "calibration*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var run recordedRun
		require.NoError(t, json.Unmarshal(data, &run), f)
		adm := idleAdmissions(t, run, pt)
		hit, afterMany := 0, 0
		for _, a := range adm {
			if math.Abs(a.predicted-a.real) <= 0.005 {
				hit++
				continue
			}
			t.Logf("%s rep %d step %d (%s): arrived %.1f ms after the last step (stale %v, %d requests finished in "+
				"it), scheduled at %.1f ms, predicted %.1f", filepath.Base(f), a.rep, a.step, a.id,
				1e3*(a.arrival-a.since), a.stale, a.finished, 1e3*(a.real-a.since), 1e3*(a.predicted-a.since))
			if a.finished >= manyFinished {
				afterMany++
			} else {
				assert.Fail(t, "admission at another poll than predicted", "%s rep %d step %d", filepath.Base(f),
					a.rep, a.step)
			}
		}
		t.Logf("%s: %d of %d idle admissions at the predicted poll, %d others after a step that finished at least "+
			"%d requests", filepath.Base(f), hit, len(adm), afterMany, manyFinished)
		assert.Greater(t, hit, 9*afterMany, "%s: the late first iteration is the exception", filepath.Base(f))
	}
}
