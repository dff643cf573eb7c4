package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/realkit/benchfmt"
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/suite"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

type simFlags struct {
	target, scenario, trace, format, global string
	engineState, warmupFrom, warmup         string
	set                                     []string
	noCPU, extrapolate                      bool
	replicas, repetition                    int
	seed                                    uint64
	vidur                                   vidurParityFlags
}

func newSimCmd() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim --target T (--scenario S | --trace FILE) | sim --vidur-config C --vidur-predictions DIR --trace FILE",
		Short: "simulate a catalog scenario or a trace file on a target, or replay a Vidur run in parity mode",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("vidur-config") || cmd.Flags().Changed("vidur-predictions") {
				for _, name := range vidurParityConflicts {
					if cmd.Flags().Changed(name) {
						return fmt.Errorf("--%s does not apply in parity mode (--vidur-config): the Vidur run's config.json sets it", name)
					}
				}
				return runVidurParity(cmd.OutOrStdout(), f.vidur, f.trace)
			}
			if f.target == "" {
				return fmt.Errorf("required flag(s) \"target\" not set")
			}
			return runSim(cmd, f)
		},
	}
	cmd.Flags().StringVar(&f.target, "target", "", "the target, by `name` (simval targets lists them)")
	cmd.Flags().StringVar(&f.scenario, "scenario", "", "a catalog scenario, by `name` (simval scenarios lists them)")
	cmd.Flags().StringVar(&f.trace, "trace", "", "trace file: Vidur CSV (.csv) or JSON lines (.jsonl)")
	cmd.Flags().StringVar(&f.format, "format", "table", "output format: table, json, vidur-csv or vllm-bench (vLLM's bench-serve result JSON)")
	cmd.Flags().BoolVar(&f.noCPU, "no-cpu-overhead", false, "kernel-only prediction (no CPU overhead per step)")
	cmd.Flags().BoolVar(&f.extrapolate, "extrapolate", false, "allow look-ups outside the profiled grid (reported as warnings)")
	cmd.Flags().IntVar(&f.replicas, "replicas", 1, "identical replicas of the target behind a global scheduler (capacity what-ifs)")
	cmd.Flags().StringVar(&f.global, "global-scheduler", "round_robin", "round_robin, lor (least outstanding requests: waiting plus running) or random")
	cmd.Flags().Uint64Var(&f.seed, "seed", 0, "seed of the random global scheduler")
	cmd.Flags().StringArrayVar(&f.set, "set", nil, "override a target setting for a what-if, key=value (repeatable): "+
		strings.Join(validation.SettableSettings, ", "))
	cmd.Flags().StringVar(&f.engineState, "engine-state", "", "engine state at the first request: warm (every graph captured), "+
		"cold (a fresh engine process), restart (a fresh process whose compiled kernels are cached) or after-warmup (the graphs "+
		"a recorded warm-up captured: --warmup-from); default: the scenario's engine_state, warm for a trace")
	cmd.Flags().StringVar(&f.warmupFrom, "warmup-from", "", "after-warmup: a recorded run (simval real output) whose first "+
		"repetition's warm-up step trace gives the captured graphs")
	cmd.Flags().StringVar(&f.warmup, "warmup", "", "predict the engine as `simval real --warmup W` leaves it: a fresh process that ran "+
		"the driver's warm-up policy W (none, shapes or replay), simulated, before the first pass")
	cmd.Flags().IntVar(&f.repetition, "repetition", 0, "predict pass K of the trace in one engine process (simval real's "+
		"repetition K): the warm-up (--warmup, default replay as in simval real) and passes 1..K-1 ran before it, simulated")
	cmd.MarkFlagsMutuallyExclusive("warmup", "engine-state")
	cmd.MarkFlagsMutuallyExclusive("repetition", "engine-state")
	cmd.MarkFlagsMutuallyExclusive("warmup", "warmup-from")
	cmd.MarkFlagsMutuallyExclusive("repetition", "warmup-from")
	cmd.Flags().StringVar(&f.vidur.config, "vidur-config", "", "parity mode: a Vidur run's config.json; writes Vidur's "+
		"request_metrics.csv for --trace (with --vidur-predictions)")
	cmd.Flags().StringVar(&f.vidur.predictions, "vidur-predictions", "", "parity mode: the folder of that run's cached "+
		"prediction tables (<op>_<hash>_predictions.csv, from Vidur's cache folder)")
	cmd.MarkFlagsMutuallyExclusive("scenario", "trace")
	cmd.MarkFlagsOneRequired("scenario", "trace")
	return cmd
}

// simJSON is `simval sim --format json`: a contract scripts rely on.
type simJSON struct {
	Target   string                `json:"target"`
	Scenario string                `json:"scenario,omitempty"`
	Trace    string                `json:"trace,omitempty"`
	Requests []validation.Record   `json:"requests"`
	Summary  validation.RunSummary `json:"summary"`
	// FirstUse, for fresh engine processes (cold, restart): a cheap, the median and a
	// costly process, and the processes pooled; Requests and Summary are the median one's.
	FirstUse *suite.FirstUseSpread `json:"first_use,omitempty"`
	Warnings []string              `json:"warnings,omitempty"`
}

func runSim(cmd *cobra.Command, f simFlags) error {
	if f.replicas < 1 {
		return fmt.Errorf("--replicas %d: want at least 1 (the target itself is one replica)", f.replicas)
	}
	tgt, err := targets.Lookup(f.target)
	if err != nil {
		return err
	}
	reqs, _, err := workload(f.scenario, f.trace, tgt.Name)
	if err != nil {
		return err
	}
	if len(f.set) > 0 {
		what := *tgt
		for _, kv := range f.set {
			key, value, ok := strings.Cut(kv, "=")
			if !ok {
				return fmt.Errorf("--set %q: want key=value", kv)
			}
			if err := what.Settings.Set(key, value); err != nil {
				return fmt.Errorf("--set: %w", err)
			}
		}
		tgt = &what
	}
	stateName := f.engineState
	if stateName == "" && f.scenario != "" {
		// A catalog scenario is simulated in the state it judges unless told otherwise.
		sc, err := scenarios.Lookup(f.scenario)
		if err != nil {
			return err
		}
		if stateName = sc.State(); stateName == scenarios.EngineAfterWarmup {
			stateName = "" // needs --warmup-from: simulated warm unless that is given
		}
	}
	state, err := simkit.ParseEngineState(stateName)
	if err != nil {
		return fmt.Errorf("--engine-state: %w", err)
	}
	sys := suite.Simulator{NoCPUOverhead: f.noCPU, Extrapolate: f.extrapolate,
		Replicas: f.replicas, GlobalScheduler: f.global, Seed: f.seed, EngineState: state}
	switch {
	case state == simkit.StateAfterWarmup && f.warmupFrom == "":
		return fmt.Errorf("--engine-state after-warmup needs --warmup-from, a recorded run with its warm-up's step trace")
	case state != simkit.StateAfterWarmup && f.warmupFrom != "":
		return fmt.Errorf("--warmup-from goes with --engine-state after-warmup")
	case f.warmupFrom != "":
		b, err := realkit.ReadBaselineFile(f.warmupFrom)
		if err != nil {
			return err
		}
		if sys.WarmGraphs = suite.WarmupGraphKeys(b.Repetitions[0].Steps); len(sys.WarmGraphs) == 0 {
			return fmt.Errorf("--warmup-from %s: its first repetition has no warm-up steps with graph keys "+
				"(recorded with --warmup none, or before step traces were kept)", f.warmupFrom)
		}
	}
	if cmd.Flags().Changed("warmup") || cmd.Flags().Changed("repetition") {
		h := suite.History{Warmup: f.warmup, Repetition: f.repetition}
		if !cmd.Flags().Changed("warmup") {
			h.Warmup = suite.WarmupReplay // simval real's default
		}
		if !cmd.Flags().Changed("repetition") {
			h.Repetition = 1
		}
		if h.Repetition < 1 {
			return fmt.Errorf("--repetition %d: passes count from 1", h.Repetition)
		}
		if !slices.Contains(suite.WarmupPolicies, h.Warmup) {
			return fmt.Errorf("--warmup %q: want one of %s", h.Warmup, strings.Join(suite.WarmupPolicies, ", "))
		}
		if sys, err = sys.AfterHistory(cmd.Context(), tgt, reqs, h); err != nil {
			return outsideGrid(err)
		}
	}
	out, err := sys.Run(cmd.Context(), tgt, reqs)
	if err != nil {
		return outsideGrid(err)
	}
	var spread *suite.FirstUseSpread
	if f.format == "table" || f.format == "json" { // the other formats carry one run's requests
		if spread, err = sys.FirstUseSpread(cmd.Context(), tgt, reqs); err != nil {
			return err
		}
	}
	w := cmd.OutOrStdout()
	for _, warn := range out.Warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", warn)
	}
	switch f.format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(simJSON{
			Target: tgt.Name, Scenario: f.scenario, Trace: f.trace,
			Requests: out.Records, Summary: validation.SummarizeRun(out.Records), FirstUse: spread,
			Warnings: out.Warnings,
		})
	case "table":
		if err := writeSummaryTable(w, tgt.Name, out); err != nil {
			return err
		}
		return writeFirstUseSpread(w, spread)
	case "vidur-csv":
		return writeVidurCSV(w, reqs, out)
	case "vllm-bench":
		return benchfmt.WriteVLLMBench(w, out.Records, benchfmt.VLLMInfo{Backend: "simval-sim", Label: tgt.Name,
			ModelID: tgt.Settings.Model})
	default:
		return fmt.Errorf("--format: unknown format %q (table, json, vidur-csv or vllm-bench)", f.format)
	}
}

// outsideGrid adds the fix to a look-up outside the profiled grid.
func outsideGrid(err error) error {
	if errors.Is(err, simkit.ErrOutsideGrid) {
		return fmt.Errorf("%w\nfix: rerun with --extrapolate to extrapolate linearly beyond the profiled grid "+
			"(each look-up outside it is reported as a warning), or profile the target over a larger grid", err)
	}
	return err
}

func writeSummaryTable(w io.Writer, target string, out *suite.Outcome) error {
	s := validation.SummarizeRun(out.Records)
	fmt.Fprintf(w, "target %s: %d requests, %d steps", target, len(out.Records), out.Steps)
	if b := out.Breakdown; b != nil && b.BusyS > 0 {
		fmt.Fprintf(w, ", busy %.3f s (kernel %.0f%%, CPU %.0f%%", b.BusyS, 100*b.KernelS/b.BusyS, 100*b.CPUS/b.BusyS)
		if b.Captures > 0 {
			fmt.Fprintf(w, ", %d graph captures %.0f%%", b.Captures, 100*b.CaptureS/b.BusyS)
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "metric\tcount\tmean ms\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
	for _, m := range []struct {
		name string
		s    validation.Summary
	}{{"ttft", s.TTFT}, {"itl", s.ITL}, {"tpot", s.TPOT}, {"e2e", s.E2E}, {"sched_delay", s.SchedDelay}} {
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t\n", m.name, m.s.Count,
			1e3*m.s.Mean, 1e3*m.s.P50, 1e3*m.s.P90, 1e3*m.s.P99, 1e3*m.s.Max)
	}
	return tw.Flush()
}

// writeFirstUseSpread prints what fresh engine processes serve, if the prediction is of
// one.
func writeFirstUseSpread(w io.Writer, s *suite.FirstUseSpread) error {
	if s == nil {
		return nil
	}
	fmt.Fprintln(w, "\nfresh engine processes: the first-use costs (kernel compilation, one thread's CPU work) are drawn anew")
	fmt.Fprintln(w, "in every process, so one cold replica's first pass is a band; the table above is the median process.")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "process\tcaptures ms\tttft mean ms\tttft p50 ms\te2e mean ms\te2e p50 ms\t")
	row := func(name, captures string, r validation.RunSummary) {
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t\n", name, captures,
			1e3*r.TTFT.Mean, 1e3*r.TTFT.P50, 1e3*r.E2E.Mean, 1e3*r.E2E.P50)
	}
	for _, b := range s.Bands {
		row(fmt.Sprintf("%.0fth percentile of first-use costs", 100*b.Quantile), fmt.Sprintf("%.3f", 1e3*b.CaptureS), b.Summary)
	}
	row(fmt.Sprintf("%d processes pooled (the expectation)", s.Processes), "", s.Pooled)
	return tw.Flush()
}

// workload is the requests of a catalog scenario as generated for target, or of a
// trace file, and the name a baseline records them under.
func workload(scenario, trace, target string) ([]scenarios.Request, string, error) {
	if scenario == "" {
		reqs, err := scenarios.ReadTrace(trace)
		return reqs, "trace:" + trace, err
	}
	sc, err := scenarios.Lookup(scenario)
	if err != nil {
		return nil, "", err
	}
	if err := suite.CheckOverrides(sc); err != nil {
		return nil, "", err
	}
	reqs, err := sc.Requests(target)
	return reqs, scenario, err
}
