package vidurfmt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// SchedulerConfig is the replica scheduler part of a run's configuration. Fields a
// scheduler does not have are 0.
type SchedulerConfig struct {
	Name                    string  // sarathi, vllm, orca, faster_transformer, lightllm
	BatchSizeCap            int     // batch_size_cap
	BlockSize               int     // block_size
	WatermarkBlocksFraction float64 // watermark_blocks_fraction
	NumBlocks               int     // num_blocks; 0 where null (the memory planner decides)
	ChunkSize               int     // sarathi's chunk_size
	MaxTokensInBatch        int     // vllm's and lightllm's max_tokens_in_batch
	MaxWaitingIters         int     // lightllm's max_waiting_iters
}

// PredictorConfig is the execution-time predictor part of a run's configuration.
type PredictorConfig struct {
	Name                             string // random_forrest or linear_regression
	KVCachePredictionGranularity     int
	PredictionMaxPrefillChunkSize    int
	PredictionMaxBatchSize           int
	PredictionMaxTokensPerRequest    int
	AttentionDecodeBatchingOverhead  float64 // attention_decode_batching_overhead_fraction
	AttentionPrefillBatchingOverhead float64 // attention_prefill_batching_overhead_fraction
	NCCLCPULaunchOverheadMS          float64
	NCCLCPUSkewOverheadPerDeviceMS   float64
	SkipCPUOverheadModeling          bool
}

// RunConfig is what simval needs of a Vidur run's config.json (SimulationConfig).
type RunConfig struct {
	Seed        int
	TimeLimitS  float64 // 0 = none
	NumReplicas int

	ModelName            string
	Model                ModelConfig
	MemoryMarginFraction float64
	PP, TP               int
	Device               string
	NetworkDevice        string
	DeviceTotalMemoryGB  float64
	DevicesPerNode       int

	GlobalScheduler string // round_robin, random, lor
	Scheduler       SchedulerConfig

	RequestGenerator string // trace_replay or synthetic
	TraceFile        string // as written in the file, relative to Vidur's working folder
	Trace            TraceReplay

	Predictor PredictorConfig
}

// ReadRunConfigFile reads a run's config.json.
func ReadRunConfigFile(path string) (RunConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return RunConfig{}, err
	}
	return ParseRunConfig(bytes.NewReader(b), path)
}

// ParseRunConfig reads a run's config.json. Fields simval does not use are ignored;
// a field it uses that is missing or of the wrong type is an error naming its path.
func ParseRunConfig(r io.Reader, name string) (RunConfig, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return RunConfig{}, fmt.Errorf("%s: %w", name, err)
	}
	g := &jsonGetter{name: name, root: root}
	var c RunConfig
	const cl, rc, rs = "cluster_config.", "cluster_config.replica_config.", "cluster_config.replica_scheduler_config."
	c.Seed = g.int("seed")
	c.TimeLimitS = g.float("time_limit")
	c.NumReplicas = g.int(cl + "num_replicas")
	c.ModelName = g.str(rc + "model_name")
	c.MemoryMarginFraction = g.float(rc + "memory_margin_fraction")
	c.PP = g.int(rc + "num_pipeline_stages")
	c.TP = g.int(rc + "tensor_parallel_size")
	c.Device = g.str(rc + "device")
	c.NetworkDevice = g.str(rc + "network_device")
	c.DeviceTotalMemoryGB = g.float(rc + "device_config.total_memory_gb")
	c.DevicesPerNode = g.int(rc + "node_config.num_devices_per_node")
	c.Model = g.model(rc + "model_config")
	c.GlobalScheduler = g.str(cl + "global_scheduler_config.name")

	s := &c.Scheduler
	s.Name = g.str(rs + "name")
	s.BatchSizeCap = g.int(rs + "batch_size_cap")
	s.BlockSize = g.int(rs + "block_size")
	s.WatermarkBlocksFraction = g.float(rs + "watermark_blocks_fraction")
	s.NumBlocks = g.intOrNull(rs + "num_blocks")
	switch s.Name {
	case "sarathi":
		s.ChunkSize = g.int(rs + "chunk_size")
	case "vllm":
		s.MaxTokensInBatch = g.int(rs + "max_tokens_in_batch")
	case "lightllm":
		s.MaxTokensInBatch = g.int(rs + "max_tokens_in_batch")
		s.MaxWaitingIters = g.int(rs + "max_waiting_iters")
	}

	const rg = "request_generator_config."
	c.RequestGenerator = g.str(rg + "name")
	if c.RequestGenerator == "trace_replay" {
		c.TraceFile = g.str(rg + "trace_file")
		c.Trace = TraceReplay{
			PrefillScale: g.float(rg + "prefill_scale_factor"),
			DecodeScale:  g.float(rg + "decode_scale_factor"),
			TimeScale:    g.float(rg + "time_scale_factor"),
			MaxTokens:    g.int(rg + "max_tokens"),
		}
	}

	const ep = "execution_time_predictor_config."
	c.Predictor = PredictorConfig{
		Name:                             g.str(ep + "name"),
		KVCachePredictionGranularity:     g.int(ep + "kv_cache_prediction_granularity"),
		PredictionMaxPrefillChunkSize:    g.int(ep + "prediction_max_prefill_chunk_size"),
		PredictionMaxBatchSize:           g.int(ep + "prediction_max_batch_size"),
		PredictionMaxTokensPerRequest:    g.int(ep + "prediction_max_tokens_per_request"),
		AttentionDecodeBatchingOverhead:  g.float(ep + "attention_decode_batching_overhead_fraction"),
		AttentionPrefillBatchingOverhead: g.float(ep + "attention_prefill_batching_overhead_fraction"),
		NCCLCPULaunchOverheadMS:          g.float(ep + "nccl_cpu_launch_overhead_ms"),
		NCCLCPUSkewOverheadPerDeviceMS:   g.float(ep + "nccl_cpu_skew_overhead_per_device_ms"),
		SkipCPUOverheadModeling:          g.bool(ep + "skip_cpu_overhead_modeling"),
	}
	if g.err != nil {
		return RunConfig{}, g.err
	}
	if err := c.Model.Validate(c.TP, c.PP); err != nil {
		return RunConfig{}, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// jsonGetter reads dotted paths out of decoded JSON, keeping the first error.
type jsonGetter struct {
	name string
	root map[string]any
	err  error
}

func (g *jsonGetter) fail(path, format string, args ...any) {
	if g.err == nil {
		g.err = fmt.Errorf("%s: %s: %s", g.name, path, fmt.Sprintf(format, args...))
	}
}

// get returns the value at path, or nil and an error when it is absent.
func (g *jsonGetter) get(path string) (any, bool) {
	var cur any = g.root
	for _, key := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			g.fail(path, "missing (%q is not an object)", key)
			return nil, false
		}
		if cur, ok = m[key]; !ok {
			g.fail(path, "missing")
			return nil, false
		}
	}
	return cur, true
}

func (g *jsonGetter) str(path string) string {
	v, ok := g.get(path)
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		g.fail(path, "want a string, got %v", v)
	}
	return s
}

func (g *jsonGetter) float(path string) float64 {
	v, ok := g.get(path)
	if !ok {
		return 0
	}
	n, ok := v.(json.Number)
	if !ok {
		g.fail(path, "want a number, got %v", v)
		return 0
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) {
		g.fail(path, "want a finite number, got %s", n)
	}
	return f
}

func (g *jsonGetter) int(path string) int {
	v, ok := g.get(path)
	if !ok {
		return 0
	}
	return g.toInt(path, v)
}

func (g *jsonGetter) toInt(path string, v any) int {
	n, ok := v.(json.Number)
	if !ok {
		g.fail(path, "want an integer, got %v", v)
		return 0
	}
	i, err := n.Int64()
	if err != nil || i > math.MaxInt32 || i < math.MinInt32 {
		g.fail(path, "want an integer, got %s", n)
	}
	return int(i)
}

// intOrNull gives 0 for JSON null.
func (g *jsonGetter) intOrNull(path string) int {
	v, ok := g.get(path)
	if !ok || v == nil {
		return 0
	}
	return g.toInt(path, v)
}

func (g *jsonGetter) bool(path string) bool {
	v, ok := g.get(path)
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		g.fail(path, "want true or false, got %v", v)
	}
	return b
}

// model reads replica_config.model_config, whose activation and norm are Vidur's
// enum numbers, and completes it with the built-in entry's HeadDim and
// TiedEmbeddings where the name is known.
func (g *jsonGetter) model(p string) ModelConfig {
	m := ModelConfig{
		Name:                  g.str(p + ".name"),
		NumLayers:             g.int(p + ".num_layers"),
		NumQHeads:             g.int(p + ".num_q_heads"),
		NumKVHeads:            g.int(p + ".num_kv_heads"),
		EmbeddingDim:          g.int(p + ".embedding_dim"),
		MLPHiddenDim:          g.int(p + ".mlp_hidden_dim"),
		MaxPositionEmbeddings: g.int(p + ".max_position_embeddings"),
		UseGatedMLP:           g.bool(p + ".use_gated_mlp"),
		UseBias:               g.bool(p + ".use_bias"),
		UseQKVBias:            g.bool(p + ".use_qkv_bias"),
		PostAttnNorm:          g.bool(p + ".post_attn_norm"),
		VocabSize:             g.int(p + ".vocab_size"),
		IsNeoxStyle:           g.bool(p + ".is_neox_style"),
		PartialRotaryFactor:   g.float(p + ".partial_rotary_factor"),
		NoTensorParallel:      g.bool(p + ".no_tensor_parallel"),
	}
	if v, ok := g.get(p + ".rope_theta"); ok && v != nil {
		m.RopeTheta = g.float(p + ".rope_theta")
	}
	m.Activation = g.enum(p+".activation", []string{"gelu", "silu"})
	m.Norm = g.enum(p+".norm", []string{"layer_norm", "rms_norm"})
	if known, err := LookupModel(m.Name); err == nil {
		m.HeadDim, m.TiedEmbeddings = known.HeadDim, known.TiedEmbeddings
	}
	return m
}

// enum reads one of Vidur's IntEnums (stored as its number) as its lower-case name.
func (g *jsonGetter) enum(path string, names []string) string {
	i := g.int(path)
	if i < 0 || i >= len(names) {
		g.fail(path, "unknown value %d (want 0..%d)", i, len(names)-1)
		return ""
	}
	return names[i]
}
