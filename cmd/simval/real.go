package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/targets"
)

type realFlags struct {
	engine, scenario, trace, target, out, python, model, warmup, baseURL, apiModel string
	repetitions                                                                    int
	freshProcess, restart                                                          bool
	readyTimeout                                                                   time.Duration
	driverArgs                                                                     []string
}

func newRealCmd() *cobra.Command {
	var f realFlags
	cmd := &cobra.Command{
		Use:   "real --engine hfcb|sarathi|openai (--scenario S | --trace FILE) --target T --out FILE",
		Short: "replay a scenario on a real engine and record a baseline (GPU runner)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runReal(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.engine, "engine", "", "hfcb, sarathi or openai")
	fl.StringVar(&f.scenario, "scenario", "", "catalog scenario")
	fl.StringVar(&f.trace, "trace", "", "trace file (.csv or .jsonl)")
	fl.StringVar(&f.target, "target", "", "target the baseline is for")
	fl.StringVar(&f.out, "out", "", "baseline file to write")
	fl.IntVar(&f.repetitions, "repetitions", 5, "replays of the trace in one engine process")
	fl.StringVar(&f.python, "python", "", "Python interpreter for the driver (default: $SIMVAL_PYTHON or python3)")
	fl.StringVar(&f.model, "model", "", "local model folder (default: random weights from the target's configuration)")
	fl.StringVar(&f.warmup, "warmup", "replay", "warm-up policy: replay, shapes or none")
	fl.BoolVar(&f.freshProcess, "fresh-process", false, "start a fresh engine process for every repetition (cold starts: use with --warmup none)")
	fl.BoolVar(&f.restart, "restart", false, "restart the engine for every repetition, from one directory after one discarded "+
		"process, so its compiled kernels are cached (restarts: use with --warmup none)")
	fl.DurationVar(&f.readyTimeout, "ready-timeout", 20*time.Minute, "time allowed for loading and warm-up")
	fl.StringVar(&f.baseURL, "base-url", "", "openai: server base URL, e.g. http://127.0.0.1:8000")
	fl.StringVar(&f.apiModel, "api-model", "", "openai: model name the server serves")
	fl.StringArrayVar(&f.driverArgs, "driver-arg", nil, "extra flag for the engine driver (repeatable), e.g. --driver-arg=--no-cuda-graph")
	for _, n := range []string{"engine", "target", "out"} {
		_ = cmd.MarkFlagRequired(n)
	}
	cmd.MarkFlagsMutuallyExclusive("scenario", "trace")
	cmd.MarkFlagsMutuallyExclusive("fresh-process", "restart")
	cmd.MarkFlagsOneRequired("scenario", "trace")
	return cmd
}

func runReal(cmd *cobra.Command, f realFlags) error {
	tgt, err := targets.Lookup(f.target)
	if err != nil {
		return err
	}
	reqs, name, err := workload(f.scenario, f.trace, tgt.Name)
	if err != nil {
		return err
	}
	if err := tgt.CheckRequests(reqs); err != nil {
		return fmt.Errorf("target %s: %w", tgt.Name, err)
	}
	stderr := cmd.ErrOrStderr()
	var run *realkit.Run
	reps := max(1, f.repetitions)
	if f.engine == "openai" {
		reps = 1 // the client replays the trace once
		if f.baseURL == "" || f.apiModel == "" {
			return fmt.Errorf("--engine openai needs --base-url and --api-model")
		}
		client := &realkit.OpenAIClient{BaseURL: f.baseURL, Model: f.apiModel}
		run, err = client.Replay(cmd.Context(), reqs)
		if run != nil {
			run.Meta.Settings = tgt.Settings // a server does not report its resolved settings
		}
	} else {
		var spec realkit.DriverSpec
		if spec, err = driverSpec(f, tgt); err != nil {
			return err
		}
		bar := newBar(len(reqs)*f.repetitions, stderr)
		runner := realkit.RunDriver
		switch {
		case f.freshProcess:
			runner = realkit.RunFreshProcesses
		case f.restart:
			runner = realkit.RunRestarts
		}
		run, err = runner(cmd.Context(), spec, reqs, realkit.RunOptions{
			Repetitions: f.repetitions, Warmup: f.warmup, Steps: true, ReadyTimeout: f.readyTimeout, Stderr: stderrIfNoBar(bar, stderr),
			Progress: func(ev realkit.Event) {
				if bar != nil && ev.Kind == "request" {
					_ = bar.Add(1)
				}
			},
		})
	}
	var de *realkit.DriverError
	if errors.As(err, &de) && de.Usage != "" {
		err = fmt.Errorf("%w\nfix: simval real passes engine flags with --model DIR and --driver-arg=--flag=value", err)
	}
	finished := 0
	if run != nil {
		for _, rep := range run.Repetitions {
			finished += len(rep.Records)
		}
	}
	if finished == 0 {
		return err // nothing finished: no file, complete or partial
	}
	// A run that died keeps every request it finished, in a file that cannot be
	// mistaken for a complete baseline.
	out := f.out
	if err != nil {
		out = strings.TrimSuffix(f.out, ".json") + ".partial.json"
	}
	b := realkit.NewBaseline(tgt.Name, name, run, time.Now())
	var buf bytes.Buffer
	if werr := realkit.WriteBaseline(&buf, b); werr != nil {
		return fmt.Errorf("%w (and the run: %v)", werr, err)
	}
	if werr := os.WriteFile(out, buf.Bytes(), 0o644); werr != nil {
		return werr
	}
	if err != nil {
		fmt.Fprintf(stderr, "wrote %s: a partial run, %d of %d requests finished (%d repetitions begun); "+
			"not a baseline: the run failed\n", out, finished, len(reqs)*reps, len(run.Repetitions))
	} else {
		fmt.Fprintf(stderr, "wrote %s (%d repetitions)\n", out, len(run.Repetitions))
	}
	return err
}

// driverSpec is the driver launch for target tgt (realkit.DeploymentSpec), with the
// user's driver flags; --model DIR replaces the target's random-weight model.
func driverSpec(f realFlags, tgt *targets.Target) (realkit.DriverSpec, error) {
	spec, err := realkit.DeploymentSpec(f.engine, tgt.Settings.TP, tgt.Model)
	if err != nil {
		return spec, fmt.Errorf("target %s: %w", tgt.Name, err)
	}
	if f.model != "" {
		spec.Args = []string{"--model", f.model}
	}
	spec.Python, spec.Args = f.python, append(slices.Clone(f.driverArgs), spec.Args...)
	return spec, nil
}

// newBar shows a progress bar on a terminal only; it writes to stderr, never stdout.
func newBar(total int, w interface{ Write([]byte) (int, error) }) *progressbar.ProgressBar {
	if !term.IsTerminal(int(os.Stderr.Fd())) || os.Getenv("CI") != "" {
		return nil
	}
	return progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("requests"),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
}

func stderrIfNoBar(bar *progressbar.ProgressBar, w interface{ Write([]byte) (int, error) }) interface {
	Write([]byte) (int, error)
} {
	if bar != nil {
		return nil
	}
	return w
}

func newProfileCmd() *cobra.Command {
	var spec realkit.ProfileSpec
	var check bool
	cmd := &cobra.Command{
		Use:   "profile --engine hfcb --target T (--out DIR | --check [--out DIR])",
		Short: "profile a real engine into a profile bundle, or check the target's profile for drift (GPU runner)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tgt, err := targets.Lookup(spec.Target)
			if err != nil {
				return err
			}
			spec.Stdout, spec.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			if !check {
				if spec.OutDir == "" {
					return fmt.Errorf("--out is required (or --check)")
				}
				return realkit.Profile(cmd.Context(), spec)
			}
			if tgt.Profile == "" {
				return fmt.Errorf("--check: target %s has no profile bundle", tgt.Name)
			}
			dir, err := os.MkdirTemp("", "simval-check-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			if err := os.CopyFS(dir, mustSub(tgt.FS(), path.Join(tgt.Dir(), tgt.Profile))); err != nil {
				return fmt.Errorf("--check: copying the target's profile: %w", err)
			}
			spec.CheckBundle = dir
			return realkit.Profile(cmd.Context(), spec)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&spec.Engine, "engine", "hfcb", "engine to profile (hfcb)")
	fl.StringVar(&spec.Target, "target", "", "target the profile is for")
	fl.StringVar(&spec.OutDir, "out", "", "bundle folder to write (with --check: where check.json goes)")
	fl.BoolVar(&spec.Quick, "quick", false, "coarse grid for a smoke run (never commit it)")
	fl.BoolVar(&spec.FreshOnly, "fresh-only", false, "re-measure only fresh engine processes into the bundle in --out (its graph_capture.csv)")
	fl.BoolVar(&check, "check", false, "re-measure a few anchor shapes (under a minute) and report their drift against the target's committed profile")
	fl.StringVar(&spec.Python, "python", "", "Python interpreter (default: $SIMVAL_PYTHON or python3)")
	_ = cmd.MarkFlagRequired("target")
	cmd.AddCommand(newProfileExportCmd())
	return cmd
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // only for an invalid path, which dir is not
	}
	return sub
}
