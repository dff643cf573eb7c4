package scenarios

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Trace files hold one request per row or line. Two formats:
//
//   - Vidur's CSV: a header naming arrived_at (seconds), num_prefill_tokens and
//     num_decode_tokens in any order; an optional id column (Vidur ignores extra
//     columns, so simval writes one); other columns are ignored. Without an id
//     column, ids are "r0000", "r0001", … by row.
//   - JSON lines: one {"id","arrival_s","prompt_tokens","output_tokens"} object per
//     line, every field required, no other fields; blank lines are skipped.
//
// Both are strict: arrivals finite, ≥ 0 and non-decreasing; token counts integers in
// [1, MaxTokens]; ids unique. Unlike Vidur's trace_replay, nothing is clipped,
// scaled or trimmed: a trace that needs fixing is refused with the line that does.

// idPattern keeps request ids safe to print in reports, file names and CSV cells.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$`)

// ReadTrace reads a trace file, choosing the format by extension (.csv or .jsonl).
func ReadTrace(path string) ([]Request, error) {
	if err := checkTraceFormat(path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseTrace(f, path)
}

func checkTraceFormat(name string) error {
	if ext := strings.ToLower(filepath.Ext(name)); ext != ".csv" && ext != ".jsonl" {
		return fmt.Errorf("%s: unknown trace format %q (want .csv or .jsonl)", name, ext)
	}
	return nil
}

// parseTrace chooses the trace format by name's extension.
func parseTrace(r io.Reader, name string) ([]Request, error) {
	if err := checkTraceFormat(name); err != nil {
		return nil, err
	}
	if strings.EqualFold(filepath.Ext(name), ".csv") {
		return ParseTraceCSV(r, name)
	}
	return ParseTraceJSONL(r, name)
}

// ValidateRequests checks a workload as the trace readers do: ids well-formed and
// unique, arrivals finite, in [0, MaxArrivalS] and non-decreasing, token counts in
// [1, MaxTokens].
// Errors name the request's index and id.
func ValidateRequests(reqs []Request) error {
	var c requestChecker
	for i, r := range reqs {
		if field, msg := c.check(r, fmt.Sprintf("request %d", i)); msg != "" {
			return fmt.Errorf("request %d (id %q): %s: %s", i, r.ID, field, msg)
		}
	}
	return nil
}

// requestChecker checks requests one at a time, in order, remembering what it needs
// for order and uniqueness.
type requestChecker struct {
	seen map[string]string // id → where it was first seen
	last float64
}

// check returns the JSON name of r's bad field and why, or "" and "" when r is valid.
// where describes r's position, for a later duplicate's message.
func (c *requestChecker) check(r Request, where string) (field, msg string) {
	switch {
	case !idPattern.MatchString(r.ID):
		return "id", fmt.Sprintf("%q must be 1–128 of letters, digits, '.', '_', ':', '/' or '-', starting with a letter or digit", r.ID)
	case math.IsNaN(r.ArrivalS) || math.IsInf(r.ArrivalS, 0) || r.ArrivalS < 0:
		return "arrival_s", fmt.Sprintf("must be a finite time ≥ 0, got %v", r.ArrivalS)
	case r.ArrivalS > MaxArrivalS:
		return "arrival_s", fmt.Sprintf("%v s is beyond the arrival horizon of %v s (11.6 days, where float64 "+
			"seconds still resolve nanoseconds): start the times near 0 and keep the workload within 11 days", r.ArrivalS, float64(MaxArrivalS))
	case r.ArrivalS < c.last:
		return "arrival_s", fmt.Sprintf("%v is before the previous arrival %v: arrivals must be sorted", r.ArrivalS, c.last)
	case r.PromptTokens < 1 || r.PromptTokens > MaxTokens:
		return "prompt_tokens", fmt.Sprintf("must be in [1, %d], got %d", MaxTokens, r.PromptTokens)
	case r.OutputTokens < 1 || r.OutputTokens > MaxTokens:
		return "output_tokens", fmt.Sprintf("must be in [1, %d], got %d", MaxTokens, r.OutputTokens)
	}
	if first, dup := c.seen[r.ID]; dup {
		return "id", fmt.Sprintf("duplicate id %q (first at %s)", r.ID, first)
	}
	if c.seen == nil {
		c.seen = map[string]string{}
	}
	c.seen[r.ID] = where
	c.last = r.ArrivalS
	return "", ""
}

// requestID is the id of the i-th request of a generated workload or id-less trace.
func requestID(i int) string { return fmt.Sprintf("r%04d", i) }
