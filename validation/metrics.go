package validation

import (
	"fmt"
	"slices"
)

// Metric names one pinned latency metric (see the package doc for definitions).
// Its string form is the key used in JSON, YAML and reports.
type Metric string

// The pinned metrics, in the order every table and summary lists them.
const (
	TTFT       Metric = "ttft"
	ITL        Metric = "itl"
	TPOT       Metric = "tpot"
	E2E        Metric = "e2e"
	SchedDelay Metric = "sched_delay"
)

// AllMetrics lists every metric in its fixed order.
var AllMetrics = []Metric{TTFT, ITL, TPOT, E2E, SchedDelay}

// JudgedMetrics lists the metrics a simulator is held to bounds on. Scheduling delay
// is reported but not judged: the real side rarely knows it.
var JudgedMetrics = []Metric{TTFT, ITL, TPOT, E2E}

// ParseMetric turns a metric name (as written in a scenario or on the command line)
// into a Metric, or says which names are valid.
func ParseMetric(s string) (Metric, error) {
	m := Metric(s)
	if slices.Contains(AllMetrics, m) {
		return m, nil
	}
	return "", fmt.Errorf("unknown metric %q (want one of %v)", s, AllMetrics)
}

// Values returns the samples of metric m over recs, in seconds, in record order:
// one per request for TTFT, E2E, TPOT (requests with D > 1 only) and scheduling
// delay (requests whose FirstScheduledS is known only); every decode gap of every
// request, pooled, for ITL. The records are assumed valid (see ValidateRecords).
//
// It panics on a metric that is not one of the constants: that is a programming
// error; parse user input with ParseMetric.
func Values(m Metric, recs []Record) []float64 {
	var out []float64
	for _, r := range recs {
		switch m {
		case TTFT:
			out = append(out, r.FirstTokenS-r.ArrivalS)
		case E2E:
			out = append(out, r.CompletionS-r.ArrivalS)
		case TPOT:
			if d := len(r.TokenTimesS); d > 1 {
				out = append(out, (r.CompletionS-r.FirstTokenS)/float64(d-1))
			}
		case ITL:
			for k := 1; k < len(r.TokenTimesS); k++ {
				out = append(out, r.TokenTimesS[k]-r.TokenTimesS[k-1])
			}
		case SchedDelay:
			if r.FirstScheduledS != nil {
				out = append(out, *r.FirstScheduledS-r.ArrivalS)
			}
		default:
			panic(fmt.Sprintf("validation.Values: unknown metric %q", m))
		}
	}
	return out
}

// perRequest reports whether m yields at most one sample per request (so it can be
// paired by request ID and plotted per request). ITL is pooled, so it is not.
func perRequest(m Metric) bool { return m != ITL }

// requestValue returns metric m for one request, and false when the request has
// no such value (TPOT with D = 1, unknown scheduling delay, or ITL).
func requestValue(m Metric, r Record) (float64, bool) {
	if !perRequest(m) {
		return 0, false
	}
	v := Values(m, []Record{r})
	if len(v) == 0 {
		return 0, false
	}
	return v[0], true
}
