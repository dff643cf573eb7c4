package validation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func hfcb() EngineSettings {
	return EngineSettings{
		Scheduler: "hfcb:fifo", TokenBudget: 8192, MaxSeqs: 16, BlockSize: 256, NumBlocks: 1000,
		TP: 1, PP: 1, AttentionBackend: "paged|sdpa", DType: "bf16", CUDAGraphs: true, Model: "Qwen/Qwen3-0.6B",
	}
}

func TestAlignSettings(t *testing.T) {
	tests := []struct {
		name string
		edit func(real, sim *EngineSettings)
		want []Mismatch
	}{
		{"aligned", func(_, _ *EngineSettings) {}, nil},
		{"chunk size differs", func(_, s *EngineSettings) { s.TokenBudget = 512 },
			[]Mismatch{{"token_budget", "8192", "512"}}},
		{"unknown on sim side", func(_, s *EngineSettings) { s.NumBlocks = 0 },
			[]Mismatch{{"num_blocks", "1000", "unknown"}}},
		{"unknown on both sides is not a match", func(r, s *EngineSettings) { r.PP, s.PP = 0, 0 },
			[]Mismatch{{"pp", "unknown", "unknown"}}},
		{"cuda graphs", func(_, s *EngineSettings) { s.CUDAGraphs = false },
			[]Mismatch{{"cuda_graphs", "true", "false"}}},
		{"several, in field order", func(r, s *EngineSettings) {
			s.Model, s.Scheduler, r.TP, s.AttentionBackend, s.DType = "Qwen/Qwen3-8B", "sarathi", 2, "", "fp16"
		}, []Mismatch{
			{"scheduler", "hfcb:fifo", "sarathi"},
			{"tp", "2", "1"},
			{"attention_backend", "paged|sdpa", "unknown"},
			{"dtype", "bf16", "fp16"},
			{"model", "Qwen/Qwen3-0.6B", "Qwen/Qwen3-8B"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			real, sim := hfcb(), hfcb()
			tt.edit(&real, &sim)
			assert.Equal(t, tt.want, AlignSettings(real, sim))
		})
	}
}

func TestAlignSettingsZeroValues(t *testing.T) {
	got := AlignSettings(EngineSettings{}, EngineSettings{})
	var fields []string
	for _, m := range got {
		fields = append(fields, m.Field)
	}
	// Everything but cuda_graphs, whose bool cannot say "unknown".
	assert.Equal(t, []string{"scheduler", "token_budget", "max_seqs", "block_size", "num_blocks",
		"tp", "pp", "attention_backend", "dtype", "model"}, fields)
}

func TestCheckSettings(t *testing.T) {
	require.NoError(t, CheckSettings(hfcb(), hfcb()))
	sim := hfcb()
	sim.BlockSize, sim.MaxSeqs = 16, 0
	err := CheckSettings(hfcb(), sim)
	var mis *ErrMisaligned
	require.ErrorAs(t, err, &mis)
	assert.Len(t, mis.Mismatches, 2)
	assert.EqualError(t, err, "engine settings misaligned (2): max_seqs: real 16, sim unknown; block_size: real 256, sim 16")
}
