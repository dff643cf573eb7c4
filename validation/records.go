package validation

import (
	"fmt"
	"math"
)

// RecordError says which record is malformed, and which field and why. Index is the
// record's position in the slice given to ValidateRecords.
type RecordError struct {
	Index   int
	ID      string
	Field   string // the JSON name, with an index for token times: "token_times_s[3]"
	Problem string
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("record %d (id %q): %s: %s", e.Index, e.ID, e.Field, e.Problem)
}

// ValidateRecords checks that every record is internally consistent, so that the
// metrics computed from it mean what the pinned definitions say. It returns the first
// problem found, as a *RecordError, or nil. Checked, in this order per record:
// non-empty and unique ID; finite, non-negative times; prompt_tokens ≥ 0;
// output_tokens ≥ 1 (a request with no token has no TTFT); one token time per output
// token; token times non-decreasing; first_token_s = token_times_s[0];
// completion_s = the last token time; the first token not before arrival; the first
// scheduling (where known) between arrival and the first token; restarts ≥ 0.
func ValidateRecords(recs []Record) error {
	seen := make(map[string]int, len(recs))
	for i, r := range recs {
		bad := func(field, format string, args ...any) error {
			return &RecordError{Index: i, ID: r.ID, Field: field, Problem: fmt.Sprintf(format, args...)}
		}
		if r.ID == "" {
			return bad("id", "empty")
		}
		if j, dup := seen[r.ID]; dup {
			return bad("id", "duplicate of record %d", j)
		}
		seen[r.ID] = i
		for _, f := range []struct {
			name string
			v    float64
		}{{"arrival_s", r.ArrivalS}, {"first_token_s", r.FirstTokenS}, {"completion_s", r.CompletionS}} {
			if err := checkTime(f.v); err != "" {
				return bad(f.name, "%s", err)
			}
		}
		if r.PromptTokens < 0 {
			return bad("prompt_tokens", "negative (%d)", r.PromptTokens)
		}
		if r.OutputTokens < 1 {
			return bad("output_tokens", "%d, want ≥ 1", r.OutputTokens)
		}
		if len(r.TokenTimesS) != r.OutputTokens {
			return bad("token_times_s", "%d token times for output_tokens %d", len(r.TokenTimesS), r.OutputTokens)
		}
		for k, t := range r.TokenTimesS {
			field := fmt.Sprintf("token_times_s[%d]", k)
			if err := checkTime(t); err != "" {
				return bad(field, "%s", err)
			}
			if k > 0 && t < r.TokenTimesS[k-1] {
				return bad(field, "decreasing: %v after %v", t, r.TokenTimesS[k-1])
			}
		}
		if r.FirstTokenS != r.TokenTimesS[0] {
			return bad("first_token_s", "%v differs from token_times_s[0] %v", r.FirstTokenS, r.TokenTimesS[0])
		}
		if last := r.TokenTimesS[len(r.TokenTimesS)-1]; r.CompletionS != last {
			return bad("completion_s", "%v differs from the last token time %v", r.CompletionS, last)
		}
		if r.FirstTokenS < r.ArrivalS {
			return bad("first_token_s", "%v before arrival_s %v", r.FirstTokenS, r.ArrivalS)
		}
		if s := r.FirstScheduledS; s != nil {
			if err := checkTime(*s); err != "" {
				return bad("first_scheduled_s", "%s", err)
			}
			if *s < r.ArrivalS || *s > r.FirstTokenS {
				return bad("first_scheduled_s", "%v outside [arrival_s %v, first_token_s %v]", *s, r.ArrivalS, r.FirstTokenS)
			}
		}
		if r.Restarts < 0 {
			return bad("restarts", "negative (%d)", r.Restarts)
		}
	}
	return nil
}

// checkTime returns why t is not a usable time, or "".
func checkTime(t float64) string {
	switch {
	case math.IsNaN(t):
		return "NaN"
	case math.IsInf(t, 0):
		return "infinite"
	case t < 0:
		return fmt.Sprintf("negative (%v)", t)
	}
	return ""
}
