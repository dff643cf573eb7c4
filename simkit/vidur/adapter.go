package vidur

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit/vidurfmt"
	"github.com/simval/simval/validation"
)

// VidurCommit is the microsoft/vidur commit simval runs and its parity mode
// reproduces.
const VidurCommit = "7d47513"

// Launcher runs Vidur's simulator (vidur.main) as a process; realkit.VidurInstall is
// the real one. It owns every file and process: it writes the trace where Vidur can
// read it, adds the flags that name files (the trace, the output and cache folders)
// to args, runs Vidur, and returns what it wrote. This package stays pure: it decides
// the flags and reads the outputs.
type Launcher interface {
	Launch(ctx context.Context, args []string, trace []byte) (*LaunchOutput, error)
}

// LaunchOutput is what one Vidur run wrote.
type LaunchOutput struct {
	RequestMetrics []byte // request_metrics.csv
	Config         []byte // the config.json Vidur wrote: its whole resolved configuration
	// CacheKeys are the predictor cache entries the run used, op → hash: its
	// prediction tables are <cache>/<op>_<hash>_predictions.csv.
	CacheKeys map[string]string
	Wall      time.Duration
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

// Args returns the vidur.main command-line flags (reference §8) that replay a trace
// under s: model, device, parallelism, scheduler and its settings, trace_replay's
// max_tokens, the predictor's grid (sized to the settings, so that no look-up falls
// outside it) and CPU overhead; chrome trace and plots off. The flags naming files
// (trace, output and cache folders) are the Launcher's.
func (s Scenario) Args() ([]string, error) {
	typ, prefix, waiting, err := vidurScheduler(s.Settings.Scheduler)
	if err != nil {
		return nil, err
	}
	if s.Model == "" || s.Device == "" || s.NetworkDevice == "" {
		return nil, errors.New("vidur scenario: model, device and network device are required")
	}
	args := []string{
		"--replica_config_model_name", s.Model,
		"--replica_config_device", s.Device,
		"--replica_config_network_device", s.NetworkDevice,
		"--replica_config_tensor_parallel_size", strconv.Itoa(max(s.Settings.TP, 1)),
		"--replica_config_num_pipeline_stages", strconv.Itoa(max(s.Settings.PP, 1)),
		"--cluster_config_num_replicas", strconv.Itoa(max(s.Replicas, 1)),
		"--replica_scheduler_config_type", typ,
		"--request_generator_config_type", "trace_replay",
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
	const predictor = "--random_forrest_execution_time_predictor_config_"
	if s.MaxTokens > 0 {
		args = append(args, "--trace_request_generator_config_max_tokens", strconv.Itoa(s.MaxTokens),
			predictor+"prediction_max_tokens_per_request", strconv.Itoa(s.MaxTokens))
	}
	if typ == "sarathi" && s.Settings.TokenBudget > 0 {
		args = append(args, predictor+"prediction_max_prefill_chunk_size", strconv.Itoa(s.Settings.TokenBudget))
	}
	if s.Settings.MaxSeqs > 0 {
		args = append(args, predictor+"prediction_max_batch_size", strconv.Itoa(s.Settings.MaxSeqs))
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
	Output  *LaunchOutput
}

// Simulate runs Vidur through l on the scenario's workload, replayed as a trace, and
// reads request_metrics.csv back. Records carry each request's first-token and
// completion times as Vidur reports them; the token times between are evenly spaced
// (Vidur reports no per-token times). A request longer than max_tokens is refused,
// since Vidur would silently shorten its prompt.
func Simulate(ctx context.Context, l Launcher, s Scenario) (*Run, error) {
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
	var trace bytes.Buffer
	if err := vidurfmt.WriteTrace(&trace, s.Requests); err != nil {
		return nil, err
	}
	args, err := s.Args()
	if err != nil {
		return nil, err
	}
	out, err := l.Launch(ctx, args, trace.Bytes())
	if err != nil {
		return nil, err
	}
	rows, err := vidurfmt.ReadRequestMetrics(bytes.NewReader(out.RequestMetrics), "request_metrics.csv")
	if err != nil {
		return nil, err
	}
	recs, err := RecordsFromMetrics(rows, s.Requests)
	if err != nil {
		return nil, fmt.Errorf("request_metrics.csv: %w", err)
	}
	return &Run{Records: recs, Metrics: rows, Output: out}, nil
}
