package vidur

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit/vidurfmt"
	"github.com/simval/simval/validation"
)

// Environment variables naming a Vidur install.
const (
	EnvPython = "SIMVAL_VIDUR_PYTHON" // the interpreter that has Vidur's dependencies
	EnvDir    = "SIMVAL_VIDUR_DIR"    // Vidur's source folder (holds vidur/ and data/)
)

// Install is an installed Vidur: an interpreter and the source folder Vidur runs in
// (its data/profiling paths and predictor cache are relative to it).
type Install struct {
	Python string
	Dir    string
}

// ErrNoInstall says why no Vidur install is available; tests skip with it.
var ErrNoInstall = errors.New("no Vidur install")

// FindInstall returns the install named by the arguments, or where they are empty by
// SIMVAL_VIDUR_PYTHON and SIMVAL_VIDUR_DIR. It checks that the interpreter runs and
// that the folder holds vidur/main.py; the error wraps ErrNoInstall with the reason.
func FindInstall(python, dir string) (Install, error) {
	if python == "" {
		python = os.Getenv(EnvPython)
	}
	if dir == "" {
		dir = os.Getenv(EnvDir)
	}
	if python == "" || dir == "" {
		return Install{}, fmt.Errorf("%w: set %s (interpreter) and %s (Vidur's source folder)", ErrNoInstall, EnvPython, EnvDir)
	}
	path, err := exec.LookPath(python)
	if err != nil {
		return Install{}, fmt.Errorf("%w: interpreter %q: %v", ErrNoInstall, python, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "vidur", "main.py")); err != nil {
		return Install{}, fmt.Errorf("%w: %s is not Vidur's source folder: %v", ErrNoInstall, dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Install{}, fmt.Errorf("%w: %v", ErrNoInstall, err)
	}
	return Install{Python: path, Dir: abs}, nil
}

// Scenario is what Vidur is asked to simulate: a workload replayed from a trace and
// the deployment in Vidur's own names.
type Scenario struct {
	Requests []scenarios.Request
	// Model is Vidur's model name (e.g. "meta-llama/Meta-Llama-3-8B"); Device and
	// NetworkDevice its SKUs ("a100", "a100_pairwise_nvlink").
	Model, Device, NetworkDevice string
	// Settings: Scheduler (sarathi, vllm, orca, fastertransformer, lightllm[:iters]),
	// TokenBudget, MaxSeqs, BlockSize, NumBlocks, TP, PP; zero means Vidur's default.
	Settings validation.EngineSettings
	Replicas int // 0 means 1
	// MaxTokens is trace_replay's max_tokens (0: Vidur's 4096). A request longer than
	// it is refused, since Vidur would silently shorten its prompt.
	MaxTokens int
	// CPUOverhead turns on Vidur's CPU-overhead modelling (off by default in Vidur;
	// it needs a cpu_overheads.csv, which Vidur does not ship).
	CPUOverhead bool
	// ExtraArgs are passed to vidur.main after simval's flags.
	ExtraArgs []string
}

// vidurScheduler maps simval's scheduler name to Vidur's type and flag prefix.
func vidurScheduler(name string) (typ, prefix string, waiting int, err error) {
	base, sub, _ := strings.Cut(name, ":")
	switch base {
	case "sarathi", "vllm", "orca":
		typ = base
	case "fastertransformer":
		typ = "faster_transformer"
	case "lightllm":
		typ = "lightllm"
		if sub != "" {
			if waiting, err = strconv.Atoi(sub); err != nil || waiting < 1 {
				return "", "", 0, fmt.Errorf("scheduler %q: the sub-policy is max_waiting_iters", name)
			}
		}
	default:
		return "", "", 0, fmt.Errorf("scheduler %q has no Vidur counterpart (sarathi, vllm, orca, fastertransformer, lightllm)", name)
	}
	// Vidur's flags are --<snake_case(config class)>_<field>: SarathiSchedulerConfig →
	// sarathi_scheduler_config_, FasterTransformerSchedulerConfig →
	// faster_transformer_scheduler_config_.
	return typ, typ + "_scheduler_config_", waiting, nil
}

// Args returns the vidur.main command-line flags (reference §8) that replay
// traceFile under s and write outputs under outDir.
func (s Scenario) Args(traceFile, outDir string) ([]string, error) {
	typ, prefix, waiting, err := vidurScheduler(s.Settings.Scheduler)
	if err != nil {
		return nil, err
	}
	if s.Model == "" || s.Device == "" || s.NetworkDevice == "" {
		return nil, errors.New("vidur scenario: model, device and network device are required")
	}
	args := []string{"-m", "vidur.main",
		"--replica_config_model_name", s.Model,
		"--replica_config_device", s.Device,
		"--replica_config_network_device", s.NetworkDevice,
		"--replica_config_tensor_parallel_size", strconv.Itoa(max(s.Settings.TP, 1)),
		"--replica_config_num_pipeline_stages", strconv.Itoa(max(s.Settings.PP, 1)),
		"--cluster_config_num_replicas", strconv.Itoa(max(s.Replicas, 1)),
		"--replica_scheduler_config_type", typ,
		"--request_generator_config_type", "trace_replay",
		"--trace_request_generator_config_trace_file", traceFile,
		"--metrics_config_output_dir", outDir,
		"--no-metrics_config_enable_chrome_trace",
		"--no-metrics_config_store_plots",
	}
	flag := func(name string, v int) {
		if v > 0 {
			args = append(args, "--"+prefix+name, strconv.Itoa(v))
		}
	}
	flag("batch_size_cap", s.Settings.MaxSeqs)
	flag("block_size", s.Settings.BlockSize)
	flag("num_blocks", s.Settings.NumBlocks)
	switch typ {
	case "sarathi":
		flag("chunk_size", s.Settings.TokenBudget)
	case "vllm", "lightllm":
		flag("max_tokens_in_batch", s.Settings.TokenBudget)
	}
	flag("max_waiting_iters", waiting)
	if s.MaxTokens > 0 {
		args = append(args, "--trace_request_generator_config_max_tokens", strconv.Itoa(s.MaxTokens))
	}
	cpu := "--no-random_forrest_execution_time_predictor_config_skip_cpu_overhead_modeling"
	if !s.CPUOverhead {
		cpu = "--random_forrest_execution_time_predictor_config_skip_cpu_overhead_modeling"
	}
	args = append(args, cpu)
	return append(args, s.ExtraArgs...), nil
}

// Run is one finished Vidur run.
type Run struct {
	Records []validation.Record       // in the order of Scenario.Requests
	Metrics []vidurfmt.RequestMetrics // Vidur's rows, in completion order
	OutDir  string                    // where Vidur wrote its outputs
	Wall    time.Duration
}

// Run writes the workload as a trace in workDir, runs `python -m vidur.main` in the
// install's folder, and reads request_metrics.csv back. Records carry each request's
// first-token and completion times as Vidur reports them; the token times between
// are evenly spaced (Vidur reports no per-token times). ctx cancels the run: the
// whole process group is terminated.
func (in Install) Run(ctx context.Context, s Scenario, workDir string) (*Run, error) {
	maxTokens := s.MaxTokens
	if maxTokens == 0 {
		maxTokens = vidurfmt.DefaultTraceReplay().MaxTokens
	}
	for _, r := range s.Requests {
		if r.PromptTokens+r.OutputTokens > maxTokens {
			return nil, fmt.Errorf("request %q: %d prompt + %d output tokens exceed Vidur's max_tokens %d, so Vidur would shorten its prompt",
				r.ID, r.PromptTokens, r.OutputTokens, maxTokens)
		}
	}
	trace := filepath.Join(workDir, "trace.csv")
	outDir := filepath.Join(workDir, "vidur_output")
	var buf bytes.Buffer
	if err := vidurfmt.WriteTrace(&buf, s.Requests); err != nil {
		return nil, err
	}
	if err := os.WriteFile(trace, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	args, err := s.Args(trace, outDir)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, in.Python, args...)
	cmd.Dir = in.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	var logs tailBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("vidur (%s %s) failed: %w\n%s", in.Python, strings.Join(args, " "), err, logs.String())
	}
	wall := time.Since(start)
	metricsFile, err := findMetrics(outDir)
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, logs.String())
	}
	rows, err := vidurfmt.ReadRequestMetricsFile(metricsFile)
	if err != nil {
		return nil, err
	}
	recs, err := RecordsFromMetrics(rows, s.Requests)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", metricsFile, err)
	}
	return &Run{Records: recs, Metrics: rows, OutDir: filepath.Dir(metricsFile), Wall: wall}, nil
}

// findMetrics finds request_metrics.csv in the one timestamped folder Vidur creates
// under outDir.
func findMetrics(outDir string) (string, error) {
	matches, err := filepath.Glob(filepath.Join(outDir, "*", "request_metrics.csv"))
	if err != nil {
		return "", err
	}
	if len(matches) != 1 {
		return "", fmt.Errorf("vidur wrote %d request_metrics.csv under %s, want 1", len(matches), outDir)
	}
	return matches[0], nil
}

// tailBuffer keeps the last 16 KiB of a process's output for error messages.
type tailBuffer struct{ b []byte }

const tailLimit = 16 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailLimit {
		t.b = append(t.b[:0], t.b[len(t.b)-tailLimit:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
