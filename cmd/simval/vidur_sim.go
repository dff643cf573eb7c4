package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"

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
func runVidurParity(w io.Writer, f vidurParityFlags, trace string) error {
	if f.config == "" || f.predictions == "" {
		return errors.New("parity mode needs both --vidur-config (a Vidur run's config.json) and " +
			"--vidur-predictions (the folder of its <op>_<hash>_predictions.csv tables)")
	}
	if trace == "" {
		return errors.New("parity mode needs --trace, a Vidur trace_replay CSV (arrived_at,num_prefill_tokens,num_decode_tokens)")
	}
	cfg, err := vidurfmt.ReadRunConfigFile(f.config)
	if err != nil {
		return err
	}
	preds, err := vidurfmt.LoadPredictions(f.predictions)
	if err != nil {
		return err
	}
	rows, err := vidurfmt.ReadTraceFile(trace, cfg.Trace)
	if err != nil {
		return err
	}
	run, err := vidur.RunParity(cfg, preds, rows, false)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", f.config, trace, err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := vidurfmt.WriteRequestMetrics(bw, run.Metrics); err != nil {
		return err
	}
	return bw.Flush()
}
