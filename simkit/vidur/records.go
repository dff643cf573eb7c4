package vidur

import (
	"fmt"
	"math"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit/vidurfmt"
	"github.com/simval/simval/validation"
)

// RecordsFromMetrics turns Vidur's request_metrics.csv rows into one record per
// request of reqs (Vidur's request id i is reqs[i]): first token at arrival +
// prefill_e2e_time, completion at arrival + request_e2e_time, first scheduling at
// arrival + request_scheduling_delay, restarts as reported.
//
// Vidur reports no per-token times, so the D token times are reconstructed as the
// first token followed by D−1 evenly spaced decode tokens up to completion: TTFT,
// E2E and TPOT are Vidur's, but ITL is each request's mean decode gap repeated, so
// its spread within a request is lost.
//
// Every request must appear once, with Vidur's prompt and output lengths equal to
// the request's (Vidur may have shortened a prompt to max_tokens otherwise).
func RecordsFromMetrics(rows []vidurfmt.RequestMetrics, reqs []scenarios.Request) ([]validation.Record, error) {
	if len(rows) != len(reqs) {
		return nil, fmt.Errorf("vidur reported %d requests, the workload has %d (a time_limit drops unfinished ones)", len(rows), len(reqs))
	}
	recs := make([]validation.Record, len(reqs))
	seen := make([]bool, len(reqs))
	for _, m := range rows {
		if m.ID < 0 || m.ID >= len(reqs) || seen[m.ID] {
			return nil, fmt.Errorf("request id %d is out of range or repeated", m.ID)
		}
		seen[m.ID] = true
		r := reqs[m.ID]
		if m.Prefill != r.PromptTokens || m.Decode != r.OutputTokens {
			return nil, fmt.Errorf("request %d (%q): vidur ran %d prompt and %d output tokens, the workload has %d and %d",
				m.ID, r.ID, m.Prefill, m.Decode, r.PromptTokens, r.OutputTokens)
		}
		ttft, e2e, delay := m.Times[vidurfmt.ColPrefillE2E], m.Times[vidurfmt.ColE2E], m.Times[vidurfmt.ColSchedulingDelay]
		if math.IsNaN(ttft) || math.IsNaN(e2e) || math.IsNaN(delay) {
			return nil, fmt.Errorf("request %d (%q) did not complete in vidur's run", m.ID, r.ID)
		}
		first, done := r.ArrivalS+ttft, r.ArrivalS+e2e
		sched := r.ArrivalS + delay
		recs[m.ID] = validation.Record{
			ID: r.ID, ArrivalS: r.ArrivalS, PromptTokens: r.PromptTokens, OutputTokens: r.OutputTokens,
			FirstTokenS: first, TokenTimesS: evenTokenTimes(first, done, r.OutputTokens), CompletionS: done,
			FirstScheduledS: &sched, Restarts: m.Restarts,
		}
	}
	return recs, nil
}

// evenTokenTimes is t1, then d−1 times evenly spaced to c (t_d = c exactly).
func evenTokenTimes(first, done float64, d int) []float64 {
	out := make([]float64, d)
	out[0] = first
	for k := 1; k < d; k++ {
		out[k] = first + (done-first)*float64(k)/float64(d-1)
	}
	if d > 1 {
		out[d-1] = done
	}
	return out
}
