package suite

import (
	"fmt"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
)

// CheckInvariants returns every way recs break what any simulator (or engine) must
// keep for the requests reqs: one record per request with the same id, arrival and
// token counts; every request completes; TTFT > 0; TTFT ≤ E2E; token times
// non-decreasing; and, for a queue-free scenario, no request still running when the
// next arrives.
func CheckInvariants(reqs []scenarios.Request, recs []validation.Record, queueFree bool) []error {
	var errs []error
	if len(recs) != len(reqs) {
		errs = append(errs, fmt.Errorf("%d records for %d requests", len(recs), len(reqs)))
	}
	byID := make(map[string]validation.Record, len(recs))
	for _, r := range recs {
		byID[r.ID] = r
	}
	for _, q := range reqs {
		r, ok := byID[q.ID]
		if !ok {
			errs = append(errs, fmt.Errorf("request %s: no record (did not complete)", q.ID))
			continue
		}
		if r.ArrivalS != q.ArrivalS || r.PromptTokens != q.PromptTokens || r.OutputTokens != q.OutputTokens {
			errs = append(errs, fmt.Errorf("request %s: record (arrival %g, prompt %d, output %d) differs from the request (%g, %d, %d)",
				q.ID, r.ArrivalS, r.PromptTokens, r.OutputTokens, q.ArrivalS, q.PromptTokens, q.OutputTokens))
		}
		if len(r.TokenTimesS) != q.OutputTokens {
			errs = append(errs, fmt.Errorf("request %s: %d token times for %d output tokens", q.ID, len(r.TokenTimesS), q.OutputTokens))
		}
		if ttft := r.FirstTokenS - r.ArrivalS; !(ttft > 0) {
			errs = append(errs, fmt.Errorf("request %s: TTFT %g s is not positive", q.ID, ttft))
		}
		if r.FirstTokenS > r.CompletionS {
			errs = append(errs, fmt.Errorf("request %s: TTFT beyond E2E (first token %g s after completion %g s)", q.ID, r.FirstTokenS, r.CompletionS))
		}
		for k := 1; k < len(r.TokenTimesS); k++ {
			if r.TokenTimesS[k] < r.TokenTimesS[k-1] {
				errs = append(errs, fmt.Errorf("request %s: token %d at %g s before token %d at %g s", q.ID, k+1, r.TokenTimesS[k], k, r.TokenTimesS[k-1]))
				break
			}
		}
	}
	if len(errs) == 0 {
		if err := validation.ValidateRecords(recs); err != nil {
			errs = append(errs, err)
		}
	}
	if queueFree {
		for _, v := range validation.CheckQueueFree(recs) {
			errs = append(errs, fmt.Errorf("queue-free precondition: %s still running %.6f s after %s arrived", v.EarlierID, v.OverlapS, v.LaterID))
		}
	}
	return errs
}
