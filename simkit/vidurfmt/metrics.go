package vidurfmt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
)

// RequestMetricsColumns are request_metrics.csv's columns, in Vidur's order.
var RequestMetricsColumns = []string{
	"Request Id",
	"request_e2e_time", "request_e2e_time_normalized",
	"request_execution_time", "request_execution_time_normalized",
	"request_model_execution_time", "request_model_execution_time_normalized",
	"request_preemption_time", "request_scheduling_delay",
	"request_execution_plus_preemption_time", "request_execution_plus_preemption_time_normalized",
	"prefill_e2e_time", "prefill_time_execution_plus_preemption", "prefill_time_execution_plus_preemption_normalized",
	"decode_time_execution_plus_preemption_normalized",
	"request_inter_arrival_delay",
	"request_num_tokens", "request_num_prefill_tokens", "request_num_decode_tokens", "request_pd_ratio",
	"request_num_restarts",
}

// RequestMetrics is one row of request_metrics.csv, in seconds. Times is indexed like
// RequestMetricsColumns[1:16] (e2e … inter-arrival delay); NaN is an empty cell (the
// first request's inter-arrival delay, or every time of a request that did not
// complete).
type RequestMetrics struct {
	ID       int
	Times    [15]float64
	Tokens   int // P + D at arrival
	Prefill  int // P at arrival
	Decode   int // D at arrival
	PDRatio  float64
	Restarts int
}

// Indices into RequestMetrics.Times.
const (
	ColE2E = iota
	ColE2ENormalized
	ColExecution
	ColExecutionNormalized
	ColModelExecution
	ColModelExecutionNormalized
	ColPreemption
	ColSchedulingDelay
	ColExecutionPlusPreemption
	ColExecutionPlusPreemptionNormalized
	ColPrefillE2E // TTFT
	ColPrefillExecutionPlusPreemption
	ColPrefillExecutionPlusPreemptionNormalized
	ColDecodeExecutionPlusPreemptionNormalized
	ColInterArrivalDelay
)

// RequestOutcome is what the simulator knows of one request when it completes, from
// which Vidur's columns follow (reference §9).
type RequestOutcome struct {
	ID        int // Vidur's request id (trace row)
	ArrivedAt float64
	// ArrivalPrefill and ArrivalDecode are P and D at arrival; Prefill and Decode at
	// completion (a restart moves the processed tokens into P).
	ArrivalPrefill, ArrivalDecode int
	Prefill, Decode               int
	ScheduledAt                   float64 // first time it entered a batch
	PrefillCompletedAt            float64 // end of its first prefill
	CompletedAt                   float64
	Completed                     bool
	ExecutionS                    float64 // Σ stage execution time (CPU included)
	ModelExecutionS               float64 // Σ stage model time
	PreemptionS                   float64 // Σ gaps from a stage end to its next stage start
	Restarts                      int
	// InterArrivalS is the gap to the previous arrival; NaN for the first request.
	InterArrivalS float64
}

// MetricsFromOutcome applies Vidur's definitions: normalised e2e, execution and
// decode times divide by D at completion, the prefill time by P at completion; the
// token columns are those at arrival.
func MetricsFromOutcome(o RequestOutcome) RequestMetrics {
	m := RequestMetrics{
		ID: o.ID, Tokens: o.ArrivalPrefill + o.ArrivalDecode, Prefill: o.ArrivalPrefill, Decode: o.ArrivalDecode,
		PDRatio: float64(o.ArrivalPrefill) / float64(o.ArrivalDecode), Restarts: o.Restarts,
	}
	for i := range m.Times {
		m.Times[i] = math.NaN()
	}
	m.Times[ColInterArrivalDelay] = o.InterArrivalS
	if !o.Completed {
		return m
	}
	d, p := float64(o.Decode), float64(o.Prefill)
	e2e := o.CompletedAt - o.ArrivedAt
	execPlus := o.ExecutionS + o.PreemptionS
	prefillSpan := o.PrefillCompletedAt - o.ScheduledAt
	m.Times = [15]float64{
		e2e, e2e / d,
		o.ExecutionS, o.ExecutionS / d,
		o.ModelExecutionS, o.ModelExecutionS / d,
		o.PreemptionS, o.ScheduledAt - o.ArrivedAt,
		execPlus, execPlus / d,
		o.PrefillCompletedAt - o.ArrivedAt, prefillSpan, prefillSpan / p,
		(o.CompletedAt - o.PrefillCompletedAt) / d,
		o.InterArrivalS,
	}
	return m
}

// WriteRequestMetrics writes rows as Vidur's request_metrics.csv, in the order given
// (Vidur's is completion order). Numbers are written as pandas writes them: floats
// in Python's repr, token counts as floats ("418.0") since Vidur holds them as
// such, restarts as integers, NaN as an empty cell.
func WriteRequestMetrics(w io.Writer, rows []RequestMetrics) error {
	bw := bufio.NewWriter(w)
	buf := AppendRequestMetricsHeader(nil)
	for _, r := range rows {
		buf = AppendRequestMetrics(buf, r)
		if len(buf) > 32<<10 {
			bw.Write(buf)
			buf = buf[:0]
		}
	}
	bw.Write(buf)
	return bw.Flush()
}

// AppendRequestMetricsHeader appends request_metrics.csv's header line.
func AppendRequestMetricsHeader(dst []byte) []byte {
	for i, c := range RequestMetricsColumns {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, c...)
	}
	return append(dst, '\n')
}

// AppendRequestMetrics appends r as one line of request_metrics.csv (see
// WriteRequestMetrics), so that rows can be formatted as they are produced.
func AppendRequestMetrics(dst []byte, r RequestMetrics) []byte {
	cell := func(v float64) {
		dst = append(dst, ',')
		if !math.IsNaN(v) {
			dst = appendPyFloat(dst, v)
		}
	}
	dst = strconv.AppendInt(dst, int64(r.ID), 10)
	for _, v := range r.Times {
		cell(v)
	}
	cell(float64(r.Tokens))
	cell(float64(r.Prefill))
	cell(float64(r.Decode))
	cell(r.PDRatio)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(r.Restarts), 10)
	return append(dst, '\n')
}

// ReadRequestMetricsFile reads a request_metrics.csv.
func ReadRequestMetricsFile(path string) ([]RequestMetrics, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadRequestMetrics(f, path)
}

// ReadRequestMetrics reads Vidur's request_metrics.csv, keeping its row order. Every
// column must be present (in any order); request ids must be unique integers ≥ 0.
func ReadRequestMetrics(r io.Reader, name string) ([]RequestMetrics, error) {
	f, err := openCSV(r, name)
	if err != nil {
		return nil, err
	}
	idx, err := f.index(RequestMetricsColumns...)
	if err != nil {
		return nil, err
	}
	var out []RequestMetrics
	seen := map[int]bool{}
	for {
		rec, err := f.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var m RequestMetrics
		if m.ID, err = f.integer(rec, idx[0]); err != nil {
			return nil, err
		}
		if m.ID < 0 || seen[m.ID] {
			return nil, f.errf("Request Id", "id %d is negative or repeated", m.ID)
		}
		seen[m.ID] = true
		for i := range m.Times {
			if m.Times[i], err = f.floatOrNaN(rec, idx[1+i]); err != nil {
				return nil, err
			}
		}
		tok := idx[1+len(m.Times):]
		for i, dst := range []*int{&m.Tokens, &m.Prefill, &m.Decode} {
			if *dst, err = f.integer(rec, tok[i]); err != nil {
				return nil, err
			}
		}
		if m.PDRatio, err = f.float(rec, tok[3]); err != nil {
			return nil, err
		}
		if m.Restarts, err = f.integer(rec, tok[4]); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no rows", name)
	}
	return out, nil
}
