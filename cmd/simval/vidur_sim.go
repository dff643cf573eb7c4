package main

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/simval/simval/simkit/vidur"
	"github.com/simval/simval/simkit/vidurfmt"
)

// vidurParityFlags are sim's parity-mode flags: a Vidur run's config.json and its
// predictor's cached prediction tables, replayed on a trace.
type vidurParityFlags struct {
	config, predictions string
}

// vidurParityConflicts are the sim flags parity mode has no use for: the run's
// config.json says everything they would.
var vidurParityConflicts = []string{"target", "scenario", "set", "replicas", "global-scheduler", "seed",
	"no-cpu-overhead", "extrapolate", "engine-state", "warmup-from", "format"}

// runVidurParity is `simval sim --vidur-config C --vidur-predictions DIR --trace F`:
// Vidur's own run configuration replayed in parity mode, written as Vidur's
// request_metrics.csv (completion order, byte for byte what Vidur writes).
//
// It uses both cores of a small machine: the prediction tables load while the config
// and the trace are read, and rows are formatted and written by a second goroutine
// while the simulation runs (BenchmarkSimVidurParitySplitwiseConv).
func runVidurParity(w io.Writer, f vidurParityFlags, trace string) error {
	if f.config == "" || f.predictions == "" {
		return errors.New("parity mode needs both --vidur-config (a Vidur run's config.json) and " +
			"--vidur-predictions (the folder of its <op>_<hash>_predictions.csv tables)")
	}
	if trace == "" {
		return errors.New("parity mode needs --trace, a Vidur trace_replay CSV (arrived_at,num_prefill_tokens,num_decode_tokens)")
	}
	var preds *vidurfmt.Predictions
	var predsErr error
	var wg sync.WaitGroup
	wg.Go(func() { preds, predsErr = vidurfmt.LoadPredictions(f.predictions) })
	cfg, err := vidurfmt.ReadRunConfigFile(f.config)
	var rows []vidurfmt.TraceRow
	if err == nil {
		rows, err = vidurfmt.ReadTraceFile(trace, cfg.Trace)
	}
	wg.Wait()
	if err = errors.Join(err, predsErr); err != nil {
		return err
	}

	// The simulation hands finished rows over in batches; the writer formats them.
	const batch = 512
	batches := make(chan []vidurfmt.RequestMetrics, 8)
	var writeErr error
	wg.Go(func() {
		buf := vidurfmt.AppendRequestMetricsHeader(make([]byte, 0, 256<<10))
		for ms := range batches {
			for _, m := range ms {
				buf = vidurfmt.AppendRequestMetrics(buf, m)
			}
			if len(buf) >= 192<<10 && writeErr == nil {
				_, writeErr = w.Write(buf)
				buf = buf[:0]
			}
		}
		if writeErr == nil {
			_, writeErr = w.Write(buf)
		}
	})
	pending := make([]vidurfmt.RequestMetrics, 0, batch)
	_, err = vidur.StreamParity(cfg, preds, rows, func(m vidurfmt.RequestMetrics) error {
		if pending = append(pending, m); len(pending) == batch {
			batches <- pending
			pending = make([]vidurfmt.RequestMetrics, 0, batch)
		}
		return nil
	})
	if err == nil {
		batches <- pending
	}
	close(batches)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("%s on %s: %w", f.config, trace, err)
	}
	return writeErr
}
