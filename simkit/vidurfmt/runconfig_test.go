package vidurfmt

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/internal/paritykit"
)

// minimalConfig is a config.json with only the fields simval reads (Vidur writes
// many more, which are ignored), for a vllm run of a made-up model.
const minimalConfig = `{
 "seed": 7, "time_limit": 0,
 "cluster_config": {
  "num_replicas": 2,
  "replica_config": {
   "model_name": "org/tiny", "memory_margin_fraction": 0.1, "num_pipeline_stages": 1,
   "tensor_parallel_size": 2, "device": "a100", "network_device": "a100_pairwise_nvlink",
   "model_config": {"num_layers": 4, "num_q_heads": 8, "num_kv_heads": 2, "embedding_dim": 512,
    "mlp_hidden_dim": 1024, "max_position_embeddings": 4096, "use_gated_mlp": true, "use_bias": false,
    "use_qkv_bias": false, "activation": 1, "norm": 0, "post_attn_norm": false, "vocab_size": 1000,
    "is_neox_style": true, "rope_theta": null, "partial_rotary_factor": 1.0, "no_tensor_parallel": false,
    "name": "org/tiny"},
   "device_config": {"fp16_tflops": 312, "total_memory_gb": 80, "name": "a100"},
   "node_config": {"num_devices_per_node": 4, "name": "a100_pairwise_nvlink"}
  },
  "global_scheduler_config": {"name": "lor"},
  "replica_scheduler_config": {"batch_size_cap": 64, "block_size": 16, "watermark_blocks_fraction": 0.01,
   "num_blocks": 500, "max_tokens_in_batch": 2048, "name": "vllm"}
 },
 "request_generator_config": {"seed": 42, "trace_file": "t.csv", "prefill_scale_factor": 1.0,
  "decode_scale_factor": 0.5, "time_scale_factor": 2.0, "max_tokens": 2048, "name": "trace_replay"},
 "execution_time_predictor_config": {"kv_cache_prediction_granularity": 64,
  "prediction_max_prefill_chunk_size": 4096, "prediction_max_batch_size": 128,
  "prediction_max_tokens_per_request": 4096, "attention_decode_batching_overhead_fraction": 0.1,
  "attention_prefill_batching_overhead_fraction": 0.1, "nccl_cpu_launch_overhead_ms": 0.02,
  "nccl_cpu_skew_overhead_per_device_ms": 0.0, "skip_cpu_overhead_modeling": false, "name": "linear_regression"}
}`

func TestParseRunConfig(t *testing.T) {
	c, err := ParseRunConfig(strings.NewReader(minimalConfig), "config.json")
	require.NoError(t, err)
	assert.Equal(t, 7, c.Seed)
	assert.Equal(t, 2, c.NumReplicas)
	assert.Equal(t, [2]int{2, 1}, [2]int{c.TP, c.PP})
	assert.Equal(t, 80.0, c.DeviceTotalMemoryGB)
	assert.Equal(t, 4, c.DevicesPerNode)
	assert.Equal(t, "lor", c.GlobalScheduler)
	assert.Equal(t, SchedulerConfig{Name: "vllm", BatchSizeCap: 64, BlockSize: 16, WatermarkBlocksFraction: 0.01,
		NumBlocks: 500, MaxTokensInBatch: 2048}, c.Scheduler)
	assert.Equal(t, TraceReplay{PrefillScale: 1, DecodeScale: 0.5, TimeScale: 2, MaxTokens: 2048}, c.Trace)
	assert.Equal(t, "t.csv", c.TraceFile)
	assert.Equal(t, "silu", c.Model.Activation)
	assert.Equal(t, "layer_norm", c.Model.Norm)
	assert.Equal(t, 4, c.Model.NumLayers)
	assert.False(t, c.Predictor.SkipCPUOverheadModeling)
	assert.Equal(t, "linear_regression", c.Predictor.Name)
}

func TestParseRunConfigErrors(t *testing.T) {
	tests := []struct{ name, from, to, want string }{
		{"missing field", `"tensor_parallel_size": 2,`, ``, "config.json: cluster_config.replica_config.tensor_parallel_size: missing"},
		{"wrong type", `"block_size": 16`, `"block_size": "16"`, "cluster_config.replica_scheduler_config.block_size: want an integer"},
		{"fractional integer", `"num_replicas": 2`, `"num_replicas": 2.5`, "cluster_config.num_replicas: want an integer, got 2.5"},
		{"unknown enum", `"activation": 1`, `"activation": 7`, "model_config.activation: unknown value 7"},
		{"scheduler field", `"max_tokens_in_batch": 2048,`, ``, "replica_scheduler_config.max_tokens_in_batch: missing"},
		{"model shape", `"num_q_heads": 8`, `"num_q_heads": 7`, "model org/tiny: 7 query heads do not divide by tp 2"},
		{"not JSON", `"seed": 7`, `"seed" 7`, "config.json: invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(minimalConfig, tt.from, tt.to, 1)
			require.NotEqual(t, minimalConfig, src)
			_, err := ParseRunConfig(strings.NewReader(src), "config.json")
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// TestRunConfigOfParityKit reads the real config.json files, whose num_blocks is
// null (the memory planner decides).
func TestRunConfigOfParityKit(t *testing.T) {
	kit := paritykit.Dir(t)
	for _, run := range []string{"small8-sarathi", "small8-vllm", "conv2000-sarathi"} {
		c, err := ReadRunConfigFile(filepath.Join(kit, "runs", run, "config.json"))
		require.NoError(t, err, run)
		assert.Equal(t, "codellama/CodeLlama-34b-Instruct-hf", c.ModelName)
		assert.Equal(t, 0, c.Scheduler.NumBlocks, "null num_blocks")
		assert.Equal(t, 128, c.Scheduler.BatchSizeCap)
		assert.True(t, c.Predictor.SkipCPUOverheadModeling)
		assert.Equal(t, DefaultTraceReplay(), c.Trace)
	}
}

// TestTraceOfParityKit: the parity kit's README says trace_replay shortens 143 of the
// 2,000 prompts of conv2000-sarathi to fit max_tokens 4096.
func TestTraceOfParityKit(t *testing.T) {
	kit := paritykit.Dir(t)
	rows, err := ReadTraceFile(filepath.Join(kit, "runs", "conv2000-sarathi", "trace.csv"), DefaultTraceReplay())
	require.NoError(t, err)
	require.Len(t, rows, 2000)
	trimmed := 0
	for _, r := range rows {
		if r.Trimmed > 0 {
			trimmed++
			assert.Equal(t, 4096, r.Prefill+r.Decode)
		}
	}
	assert.Equal(t, 143, trimmed)
}
