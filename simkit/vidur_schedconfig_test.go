package simkit

import (
	"testing"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVidurSchedulerSettings covers how the vLLM, Orca, FasterTransformer and
// LightLLM schedulers take their settings: Vidur's defaults with a warning for
// unknown (0) ones, and errors for what Vidur asserts or cannot express.
func TestVidurSchedulerSettings(t *testing.T) {
	one := []scenarios.Request{{ID: "a", ArrivalS: 0, PromptTokens: 4, OutputTokens: 2}}
	long := []scenarios.Request{{ID: "a", ArrivalS: 0, PromptTokens: 15, OutputTokens: 5}}
	tests := []struct {
		name      string
		settings  validation.EngineSettings
		reqs      []scenarios.Request
		maxTokens int
		wantErr   string
		wantWarn  []string
	}{
		{
			name:     "vllm defaults",
			settings: validation.EngineSettings{Scheduler: "vllm"},
			reqs:     one,
			wantWarn: []string{
				"vllm: settings.token_budget is 0; using Vidur's max_tokens_in_batch 4096",
				"vllm: settings.max_seqs is 0; using Vidur's batch_size_cap 128",
				"vllm: settings.block_size is 0; using Vidur's block_size 16",
				"vllm: settings.num_blocks is 0; using 41472 blocks from Vidur's memory planner",
			},
		},
		{
			name:     "lightllm defaults to block size 1",
			settings: validation.EngineSettings{Scheduler: "lightllm", TokenBudget: 64, MaxSeqs: 8, NumBlocks: 100},
			reqs:     one,
			wantWarn: []string{"lightllm: settings.block_size is 0; using 1, the only block size LightLLM supports"},
		},
		{
			name:     "orca warns about a request longer than its reservation",
			settings: validation.EngineSettings{Scheduler: "orca", MaxSeqs: 4, BlockSize: 4, NumBlocks: 16},
			reqs:     long, maxTokens: 16,
			wantWarn: []string{`orca: request "a" needs 20 tokens, more than its reservation of 4 blocks × 4`},
		},
		{
			name:     "lightllm refuses pipeline parallelism",
			settings: validation.EngineSettings{Scheduler: "lightllm", BlockSize: 1, NumBlocks: 100, PP: 2},
			reqs:     one, wantErr: "lightllm does not support pipeline parallelism",
		},
		{
			name:     "lightllm refuses paged blocks",
			settings: validation.EngineSettings{Scheduler: "lightllm", BlockSize: 16, NumBlocks: 100},
			reqs:     one, wantErr: "lightllm needs block_size 1",
		},
		{
			name:     "lightllm sub-policy is max_waiting_iters",
			settings: validation.EngineSettings{Scheduler: "lightllm:often", BlockSize: 1, NumBlocks: 100},
			reqs:     one, wantErr: "the sub-policy is max_waiting_iters",
		},
		{
			name:     "negative settings",
			settings: validation.EngineSettings{Scheduler: "orca", MaxSeqs: -1, BlockSize: 4, NumBlocks: 16},
			reqs:     one, wantErr: "settings.max_seqs -1 must not be negative",
		},
		{
			name:     "fastertransformer needs room for one reservation",
			settings: validation.EngineSettings{Scheduler: "fastertransformer", MaxSeqs: 4, BlockSize: 4, NumBlocks: 3},
			reqs:     one, maxTokens: 16, wantErr: "3 blocks cannot hold one request's reservation of 4 blocks",
		},
		{
			name:     "vllm stalls on a prompt that can never fit",
			settings: validation.EngineSettings{Scheduler: "vllm", TokenBudget: 64, MaxSeqs: 4, BlockSize: 4, NumBlocks: 2},
			reqs:     long, wantErr: "simulation stalled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Model: qwen3(), Settings: tt.settings, Predictor: &batchRecorder{},
				GPUMemoryGB: 80, MaxRequestTokens: tt.maxTokens}
			res, err := Simulate(opts, tt.reqs)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			for _, w := range tt.wantWarn {
				found := false
				for _, got := range res.Warnings {
					if len(got) >= len(w) && got[:len(w)] == w {
						found = true
					}
				}
				assert.True(t, found, "missing warning %q in %q", w, res.Warnings)
			}
		})
	}
}
