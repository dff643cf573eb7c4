package vidur

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/simkit/vidurfmt"
	"github.com/simval/simval/validation"
)

// ParityRun is a simulation in parity mode.
type ParityRun struct {
	// Records holds one record per trace row, in row order; IDs are Vidur's request
	// ids ("0", "1", …).
	Records []validation.Record
	// Metrics are Vidur's request_metrics.csv rows, in completion order.
	Metrics []vidurfmt.RequestMetrics
	Totals  simkit.Totals
}

// RunParity simulates trace rows (already through trace_replay's rules) under the
// Vidur run configuration cfg with its prediction tables. With keepTokenTimes the
// records carry every token time (memory grows with the output tokens).
//
// request_preemption_time is Vidur's sum of gaps with one pipeline stage; with more,
// it is derived as completion − first scheduling − Σ execution, which also counts a
// batch's wait for the first stage, which Vidur does not.
func RunParity(cfg vidurfmt.RunConfig, preds *vidurfmt.Predictions, rows []vidurfmt.TraceRow, keepTokenTimes bool) (*ParityRun, error) {
	return runParity(cfg, preds, rows, keepTokenTimes, nil)
}

// StreamParity is RunParity that hands each request_metrics.csv row to sink as its
// request completes (completion order) instead of keeping them: ParityRun.Metrics
// stays empty. A sink error stops the simulation.
func StreamParity(cfg vidurfmt.RunConfig, preds *vidurfmt.Predictions, rows []vidurfmt.TraceRow,
	sink func(vidurfmt.RequestMetrics) error) (*ParityRun, error) {
	return runParity(cfg, preds, rows, false, sink)
}

func runParity(cfg vidurfmt.RunConfig, preds *vidurfmt.Predictions, rows []vidurfmt.TraceRow, keepTokenTimes bool,
	sink func(vidurfmt.RequestMetrics) error) (*ParityRun, error) {
	opts, err := ParityOptions(cfg, preds)
	if err != nil {
		return nil, err
	}
	pred := opts.Predictor.(*simkit.VidurParityPredictor)
	reqs := vidurfmt.Requests(rows)
	// Vidur orders arrivals by (time, id); the stream must come in that order.
	order := make([]int, len(reqs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(reqs[a].ArrivalS, reqs[b].ArrivalS) })
	streamPos := make([]int, len(reqs))
	interArrival := make([]float64, len(reqs))
	for pos, row := range order {
		streamPos[row] = pos
		interArrival[row] = math.NaN()
		if pos > 0 {
			interArrival[row] = reqs[row].ArrivalS - reqs[order[pos-1]].ArrivalS
		}
	}

	run := &ParityRun{Records: make([]validation.Record, len(reqs))}
	if sink == nil {
		run.Metrics = make([]vidurfmt.RequestMetrics, 0, len(reqs))
		sink = func(m vidurfmt.RequestMetrics) error {
			run.Metrics = append(run.Metrics, m)
			return nil
		}
	}
	next := 0
	stream := func() (scenarios.Request, bool) {
		if next == len(order) {
			return scenarios.Request{}, false
		}
		next++
		return reqs[order[next-1]], true
	}
	emit := func(rec validation.Record) error {
		row, err := strconv.Atoi(rec.ID)
		if err != nil || row < 0 || row >= len(reqs) {
			return fmt.Errorf("vidur parity: record id %q is not a trace row", rec.ID)
		}
		r, times, ok := pred.Request(streamPos[row])
		if !ok {
			return fmt.Errorf("vidur parity: request %s completed without running", rec.ID)
		}
		run.Records[row] = rec
		preemption := r.CompletedS - r.ScheduledAtS - times.ExecutionS
		if times.HasPreemption {
			preemption = times.PreemptionS
		}
		return sink(vidurfmt.MetricsFromOutcome(vidurfmt.RequestOutcome{
			ID: row, ArrivedAt: rows[row].ArrivedAt,
			ArrivalPrefill: rows[row].Prefill, ArrivalDecode: rows[row].Decode,
			Prefill: r.Prompt, Decode: r.Decode,
			ScheduledAt: r.ScheduledAtS, PrefillCompletedAt: r.PrefillCompletedS, CompletedAt: r.CompletedS,
			Completed:  r.Completed,
			ExecutionS: times.ExecutionS, ModelExecutionS: times.ModelExecutionS,
			PreemptionS:   preemption,
			Restarts:      r.Restarts,
			InterArrivalS: interArrival[row],
		}))
	}
	run.Totals, err = simkit.SimulateStream(opts, stream, emit, keepTokenTimes)
	if err != nil {
		return nil, err
	}
	return run, nil
}
