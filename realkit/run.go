package realkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/simval/simval/validation"
)

// DriverSpec says which embedded engine driver to run and how.
type DriverSpec struct {
	// Engine selects drivers/<Engine>_driver.py: "hfcb", "sarathi" or "fake".
	Engine string
	// Args go to the driver after the common flags: engine flags such as
	// "--model", DIR or "--no-cuda-graph" (see each driver's --help).
	Args []string
	// Python is the interpreter; empty means FindPython().
	Python string
	// Env is added to the driver's environment, as KEY=VALUE.
	Env []string
	// TP above 1 launches the driver as TP ranks of one tensor-parallel group under
	// `python -m torch.distributed.run` (LaunchArgv) and passes it --tp; rank 0 speaks
	// the protocol. 0 or 1 runs one process.
	TP int
}

// DeploymentSpec is the driver launch that reproduces a target's deployment: tp ranks
// under torchrun (DriverSpec.TP), and for hfcb the target's model built with random
// weights (--model-spec: model, the target's simkit.ModelSpec, as JSON). simval real and
// the live GPU tests launch a target's engine this way.
func DeploymentSpec(engine string, tp int, model any) (DriverSpec, error) {
	spec := DriverSpec{Engine: engine, TP: tp}
	if engine == "hfcb" {
		js, err := json.Marshal(model)
		if err != nil {
			return spec, fmt.Errorf("model: %w", err)
		}
		spec.Args = append(spec.Args, "--model-spec", string(js))
	}
	return spec, nil
}

// RunOptions control one driver run. The zero value is usable.
type RunOptions struct {
	// Repetitions replays the trace this many times in one process (default 1).
	Repetitions int
	// Rewarm warms up again before every repetition, not only the first.
	Rewarm bool
	// Warmup is the driver's warm-up policy: "replay" (the default: shape waves, then
	// the whole trace once, untimed), "shapes" or "none" (drivers/warmup.py).
	Warmup string
	// Steps asks the driver for per-step lines, where its engine can give them.
	Steps bool
	// Seed seeds random weights and prompt token ids.
	Seed int64
	// ReadyTimeout bounds loading plus warm-up, until the ready line (default 20 min).
	ReadyTimeout time.Duration
	// Timeout bounds the whole run; zero leaves it to ctx.
	Timeout time.Duration
	// KillGrace is how long the driver may take to exit after SIGTERM before its
	// process group is killed (default 30 s).
	KillGrace time.Duration
	// Stderr, if set, receives a live copy of the driver's stderr.
	Stderr io.Writer
	// Progress, if set, is called for each accepted ready, meta, request and summary
	// line, from the goroutine that reads the driver's stdout.
	Progress func(Event)

	// dir, if set, is an existing directory the driver runs from (and that is kept),
	// instead of a fresh temporary one (RunRestarts).
	dir string

	// afterFunc starts the ready timer: it calls f after d unless the returned stop is
	// called first (time.AfterFunc when nil; tests fire it on an event instead).
	afterFunc func(d time.Duration, f func()) (stop func() bool)
}

// Run is what one driver process (or one OpenAI client replay) recorded.
type Run struct {
	Meta  Meta
	Ready Ready
	// Repetitions holds one entry per repetition begun; the last one is partial when
	// the run died.
	Repetitions []Repetition
	// Warnings are the driver's non-fatal error lines and odd finish reasons.
	Warnings []string
	// Command is the driver command line, relative to its working directory.
	Command string
}

// Repetition is one replay of the trace.
type Repetition struct {
	Index int `json:"index"`
	// Records are the finished requests, in trace order.
	Records []validation.Record `json:"records"`
	// SubmittedS[i] is when Records[i] was actually submitted, seconds since t0.
	SubmittedS []float64 `json:"submitted_s"`
	Lateness   Lateness  `json:"lateness"`
	Steps      []Step    `json:"steps,omitempty"`
	// Summary is nil when the driver stopped before the end of this repetition.
	Summary *Summary `json:"summary,omitempty"`
}

var (
	// ErrNotReady: the driver did not print its ready line within RunOptions.ReadyTimeout.
	ErrNotReady = errors.New("driver not ready in time")
	// ErrIncomplete: the driver exited cleanly without finishing every request.
	ErrIncomplete = errors.New("driver exited without finishing every request")
)

// DriverError says where a driver run stopped. The *Run returned beside it keeps
// every request that finished before.
type DriverError struct {
	Engine   string
	Stage    string // "loading or warming up", "before its meta line" or "in repetition k of n"
	Finished int    // finished requests over all repetitions
	Total    int    // trace requests × repetitions
	// LastLineNo and LastLine are the last stdout line seen (1-based; 0 if none).
	LastLineNo int
	LastLine   string
	// DriverMessage is the driver's fatal error line, if it wrote one.
	DriverMessage string
	StderrTail    string
	// Usage is the driver's complaint about its arguments (argparse's "error:" line)
	// when it refused them before starting; "" otherwise.
	Usage string
	Err   error
}

func (e *DriverError) Error() string {
	if e.Usage != "" {
		return fmt.Sprintf("realkit: the %s driver refused its arguments: %s (%v; its flags: python3 drivers/%s_driver.py --help)",
			e.Engine, e.Usage, e.Err, e.Engine)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "realkit: %s driver stopped %s after %d of %d requests finished: %v", e.Engine, e.Stage,
		e.Finished, e.Total, e.Err)
	if e.DriverMessage != "" {
		fmt.Fprintf(&b, "; driver said: %s", e.DriverMessage)
	}
	if e.LastLineNo > 0 {
		fmt.Fprintf(&b, "; last stdout line %d: %s", e.LastLineNo, e.LastLine)
	} else {
		b.WriteString("; no stdout line seen")
	}
	if tail := strings.TrimSpace(e.StderrTail); tail != "" {
		fmt.Fprintf(&b, "\nstderr tail:\n%s", lastLines(tail, 20))
	}
	return b.String()
}

func (e *DriverError) Unwrap() error { return e.Err }

func (o RunOptions) withDefaults() RunOptions {
	if o.Repetitions == 0 {
		o.Repetitions = 1
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 20 * time.Minute
	}
	if o.KillGrace == 0 {
		o.KillGrace = 30 * time.Second
	}
	return o
}

// driverArgs are the flags every driver takes (replay.py's add_common_args).
func (o RunOptions) driverArgs(trace string) []string {
	args := []string{"--trace", trace, "--repetitions", strconv.Itoa(o.Repetitions),
		"--seed", strconv.FormatInt(o.Seed, 10)}
	if o.Rewarm {
		args = append(args, "--rewarm")
	}
	if o.Warmup != "" {
		args = append(args, "--warmup", o.Warmup)
	}
	if o.Steps {
		args = append(args, "--steps")
	}
	return args
}

// lastLines returns at most n trailing lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// commandString renders argv for provenance, quoting only where needed.
func commandString(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$|&;<>()*?[]#~`") {
			a = strconv.Quote(a)
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// prepare writes the drivers and the trace into a fresh directory and returns the
// directory and the driver command (relative to it).
func prepare(spec DriverSpec, trace []byte, opts RunOptions) (dir string, argv []string, err error) {
	python := spec.Python
	if python == "" {
		if python, err = FindPython(); err != nil {
			return "", nil, err
		}
	}
	if dir = opts.dir; dir == "" {
		if dir, err = os.MkdirTemp("", "simval-"+spec.Engine+"-*"); err != nil {
			return "", nil, fmt.Errorf("realkit: %w", err)
		}
	}
	if _, err = WriteDrivers(dir, spec.Engine); err == nil {
		err = os.WriteFile(filepath.Join(dir, "trace.jsonl"), trace, 0o644)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("realkit: preparing the driver: %w", err)
	}
	args := opts.driverArgs("trace.jsonl")
	if spec.TP > 1 {
		args = append(args, "--tp", strconv.Itoa(spec.TP))
	}
	return dir, LaunchArgv(python, filepath.Join("drivers", spec.Engine+"_driver.py"), spec.TP, append(args, spec.Args...)), nil
}

// GraphMixingEnv is set for tensor-parallel launches: transformers' continuous batching
// wants NCCL graph mixing off before the process group exists (CUDA graphs with NCCL).
const GraphMixingEnv = "NCCL_GRAPH_MIXING_SUPPORT=0"

// LaunchArgv is the command line of a driver script: `python -u SCRIPT ARGS` for one
// process, or, for tp > 1, `python -u -m torch.distributed.run --standalone
// --nproc-per-node TP SCRIPT ARGS`: torchrun starts TP ranks on this host with RANK,
// LOCAL_RANK and WORLD_SIZE set and their stdout shared (only rank 0 writes protocol
// lines); --standalone gives the group a local rendezvous on a free port.
func LaunchArgv(python, script string, tp int, args []string) []string {
	argv := []string{python, "-u"}
	if tp > 1 {
		argv = append(argv, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", strconv.Itoa(tp))
	}
	argv = append(argv, script)
	return append(argv, args...)
}

// launchEnv is the environment a driver launch adds: spec.Env, plus GraphMixingEnv for
// a tensor-parallel launch unless spec.Env sets that variable itself.
func launchEnv(spec DriverSpec) []string {
	env := slices.Clone(spec.Env)
	name, _, _ := strings.Cut(GraphMixingEnv, "=")
	if spec.TP > 1 && !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, name+"=") }) {
		env = append(env, GraphMixingEnv)
	}
	return env
}

// newDriverCmd builds the driver's command: its own process group, SIGTERM to the
// group on cancellation, then SIGKILL after the grace.
func newDriverCmd(ctx context.Context, dir string, argv, env []string, grace time.Duration) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "PYTHONUNBUFFERED=1"), env...)
	inOwnProcessGroup(cmd)
	cmd.Cancel = func() error { return terminateGroup(cmd) }
	cmd.WaitDelay = grace
	return cmd
}
