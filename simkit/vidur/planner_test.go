package vidur_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/simkit/vidur"
	"github.com/simval/simval/simkit/vidurfmt"
)

// TestPlanMemory checks Vidur's memory planner on figures worked out by hand
// (reference §5 and §10).
func TestPlanMemory(t *testing.T) {
	tests := []struct {
		model     string
		tp        int
		wantBatch int
		wantBlock int
	}{
		// CodeLlama-34b, TP 2: params/layer 8192·128·(32+8) + 8192·128·32 + 3·8192·22016/2
		// = 346,030,080; ×48 layers ×2 bytes = 33,218,887,680 B. KV/request
		// 2·2·128·4·4096·48 = 402,653,184 B. (80 GiB·0.9 − weights) // KV = 109;
		// blocks 4096/16 × 109 = 27,904.
		{"codellama/CodeLlama-34b-Instruct-hf", 2, 109, 27904},
		// Qwen3-0.6B as Vidur sees it (head dim 1024/16 = 64): 326 requests, 83,456 blocks.
		{"Qwen/Qwen3-0.6B", 1, 326, 83456},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			m, err := vidurfmt.LookupModel(tt.model)
			require.NoError(t, err)
			cfg := vidurfmt.RunConfig{Model: m, TP: tt.tp, PP: 1, DeviceTotalMemoryGB: 80, MemoryMarginFraction: 0.1,
				Scheduler: vidurfmt.SchedulerConfig{BlockSize: 16}, Trace: vidurfmt.DefaultTraceReplay()}
			plan, err := vidur.PlanMemory(cfg)
			require.NoError(t, err)
			assert.Equal(t, tt.wantBatch, plan.MaxBatchSize)
			assert.Equal(t, tt.wantBlock, plan.NumBlocks)
		})
	}
	m, err := vidurfmt.LookupModel("codellama/CodeLlama-34b-Instruct-hf")
	require.NoError(t, err)
	_, err = vidur.PlanMemory(vidurfmt.RunConfig{Model: m, TP: 1, PP: 1, DeviceTotalMemoryGB: 45, MemoryMarginFraction: 0.1,
		Scheduler: vidurfmt.SchedulerConfig{BlockSize: 16}, Trace: vidurfmt.DefaultTraceReplay()})
	assert.ErrorContains(t, err, "not enough memory to store even a single request")
}
