package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/spf13/cobra"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit/vidurfmt"
	"github.com/simval/simval/suite"
)

// extraCommands are the commands that need realkit (real runs, profiling).
func extraCommands() []*cobra.Command {
	return []*cobra.Command{newRealCmd(), newProfileCmd(), newImportCmd(), newVidurCmd()}
}

// writeVidurCSV writes Vidur's request_metrics.csv for a default-mode simulation, rows
// in completion order and ids by input position. Per-request execution, model and
// preemption sums are Vidur-internal accounting the records do not carry: those
// columns are left empty (as pandas writes NaN) rather than invented; every time
// column derived from arrival, scheduling, first token and completion is filled.
func writeVidurCSV(w io.Writer, reqs []scenarios.Request, out *suite.Outcome) error {
	type row struct {
		m   vidurfmt.RequestMetrics
		end float64
	}
	rows := make([]row, 0, len(out.Records))
	for i, r := range out.Records {
		sched := r.ArrivalS
		if r.FirstScheduledS != nil {
			sched = *r.FirstScheduledS
		}
		inter := math.NaN()
		if i > 0 {
			inter = r.ArrivalS - out.Records[i-1].ArrivalS
		}
		m := vidurfmt.MetricsFromOutcome(vidurfmt.RequestOutcome{
			ID: i, ArrivedAt: r.ArrivalS,
			ArrivalPrefill: r.PromptTokens, ArrivalDecode: r.OutputTokens,
			Prefill: r.PromptTokens, Decode: r.OutputTokens,
			ScheduledAt: sched, PrefillCompletedAt: r.FirstTokenS, CompletedAt: r.CompletionS,
			Completed: true, Restarts: r.Restarts, InterArrivalS: inter,
		})
		for _, c := range []int{vidurfmt.ColExecution, vidurfmt.ColExecutionNormalized, vidurfmt.ColModelExecution,
			vidurfmt.ColModelExecutionNormalized, vidurfmt.ColPreemption, vidurfmt.ColExecutionPlusPreemption,
			vidurfmt.ColExecutionPlusPreemptionNormalized} {
			m.Times[c] = math.NaN()
		}
		rows = append(rows, row{m, r.CompletionS})
	}
	slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.end, b.end) })
	ms := make([]vidurfmt.RequestMetrics, len(rows))
	for i, r := range rows {
		ms[i] = r.m
	}
	if len(reqs) != len(ms) {
		return fmt.Errorf("vidur-csv: %d records for %d requests", len(ms), len(reqs))
	}
	return vidurfmt.WriteRequestMetrics(w, ms)
}
