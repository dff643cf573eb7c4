package simkit

import (
	"fmt"

	"github.com/simval/simval/scenarios"
)

// SimRequest is a request's state inside the simulator, with Vidur's lifecycle and
// token accounting (reference/vidur-semantics.md §2): Decode (D) counts the token the
// prefill produces, so a request runs its prefill chunks and then D−1 decode steps.
//
// Prompt, Decode, Processed and PrefillComplete follow Vidur exactly, including its
// restart rule (Prompt := Processed), so that schedulers written against Vidur's
// semantics behave identically. Output tokens are counted separately against the
// request's original prompt (see OnBatchEnd), so that records stay right even where
// Vidur's restart of a half-done prefill shrinks Prompt.
type SimRequest struct {
	Index   int // position in the workload, 0-based
	Request scenarios.Request
	Replica int // the replica the global scheduler sent it to

	Prompt    int // P; changes on restart
	Decode    int // D; changes on restart
	Processed int // tokens processed so far, the prefill's sampled token included

	PrefillComplete bool
	Scheduled       bool    // has entered a batch at least once
	ScheduledAtS    float64 // first time it entered a batch (kept across restarts)
	// PrefillCompletedS is Vidur's prefill_completed_at: the end of the first prefill
	// that completed (Vidur's TTFT). It equals FirstTokenS except after Vidur's restart
	// of a half-done prefill, which makes a shortened "prefill" complete early.
	PrefillCompletedS float64
	// FirstTokenS is t1, the time the first output token exists.
	FirstTokenS float64
	// LastTokenS is the time of the newest output token.
	LastTokenS float64
	CompletedS float64
	Completed  bool
	Restarts   int
	// Emitted counts output tokens produced so far (restarts do not take them back).
	Emitted int
	// TokenTimesS receives one entry per output token when token times are kept;
	// capacity is reserved up front so that the hot loop does not allocate per token.
	TokenTimesS []float64
	// Blocks is the number of KV blocks the request holds.
	Blocks int

	// LatestIterationScheduledS and LatestIterationCompletedS are Vidur's
	// latest_iteration_{scheduled,completed}_at, for schedulers and parity metrics.
	LatestIterationScheduledS float64
	LatestIterationCompletedS float64

	holdsBlocks bool // in a BlockManager's allocation map (Vidur's allocation_map)
}

// NewSimRequest makes the simulator state of request req at workload position index.
// With keepTokenTimes the request reserves room for all its token times.
func NewSimRequest(index int, req scenarios.Request, keepTokenTimes bool) *SimRequest {
	r := &SimRequest{
		Index:   index,
		Request: req,
		Prompt:  req.PromptTokens,
		Decode:  req.OutputTokens,
	}
	if keepTokenTimes {
		r.TokenTimesS = make([]float64, 0, req.OutputTokens)
	}
	return r
}

// Total is P + D, which restarts preserve.
func (r *SimRequest) Total() int { return r.Prompt + r.Decode }

// RemainingPrefill is how many prompt tokens are still to be processed.
func (r *SimRequest) RemainingPrefill() int {
	if r.PrefillComplete {
		return 0
	}
	return r.Prompt - r.Processed
}

// OnBatchSchedule records that the request entered a batch at time t (Vidur's
// on_batch_schedule). The first scheduling time survives restarts.
func (r *SimRequest) OnBatchSchedule(t float64) {
	r.LatestIterationScheduledS = t
	if !r.Scheduled {
		r.Scheduled = true
		r.ScheduledAtS = t
	}
}

// OnBatchEnd applies a finished batch that gave the request n tokens (Vidur's
// on_batch_end): processed += n; reaching P completes the prefill and adds the sampled
// token (+1); reaching P+D completes the request.
//
// Output tokens: the request's k-th output token exists once Processed reaches
// original prompt + k. So the first prefill completion yields token 1, each decode
// the next, and after a restart the recomputation yields no token until it passes the
// tokens already emitted (whose times are kept).
func (r *SimRequest) OnBatchEnd(t float64, n int) {
	r.Processed += n
	r.LatestIterationCompletedS = t
	if r.Processed > r.Total() {
		panic(fmt.Sprintf("simkit: request %d processed %d tokens of %d (scheduler bug)",
			r.Index, r.Processed, r.Total()))
	}
	if r.Processed == r.Prompt {
		r.PrefillComplete = true
		r.Processed++
		if r.PrefillCompletedS == 0 {
			r.PrefillCompletedS = t
		}
	}
	for r.Emitted < r.Processed-r.Request.PromptTokens && r.Emitted < r.Request.OutputTokens {
		if r.Emitted == 0 {
			r.FirstTokenS = t
		}
		r.Emitted++
		r.LastTokenS = t
		if r.TokenTimesS != nil {
			r.TokenTimesS = append(r.TokenTimesS, t)
		}
	}
	if r.Processed == r.Total() {
		r.Completed = true
		r.CompletedS = t
	}
}

// Restart preempts the request by recomputation (Vidur's restart): everything processed
// so far becomes the new prompt, the rest the new decode, and processing starts over.
// The caller frees its blocks and requeues it. Emitted tokens and their times stay.
func (r *SimRequest) Restart() {
	total := r.Total()
	r.Prompt = r.Processed
	r.Decode = total - r.Prompt
	r.Processed = 0
	r.PrefillComplete = false
	r.Completed = false
	r.Restarts++
}
