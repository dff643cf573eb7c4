package vidur

import (
	"fmt"
	"math"

	"github.com/simval/simval/simkit/vidurfmt"
)

// MemoryPlan is Vidur's memory planner's answer (vidur/scheduler/utils/memory_planner.py).
type MemoryPlan struct {
	MaxBatchSize int // get_max_batch_size
	NumBlocks    int // max_blocks_per_sequence × max_batch_size × pp
}

// PlanMemory reproduces Vidur's planner exactly, including its choices simval's
// default mode does not make (reference §5): head dimension embedding/q_heads, weights
// of one stage's attention and MLP projections only, a KV cache over all layers sized
// for max-length requests, fp16, Python's float floor division.
func PlanMemory(cfg vidurfmt.RunConfig) (MemoryPlan, error) {
	m, tp, pp := cfg.Model, cfg.TP, cfg.PP
	if err := m.Validate(tp, pp); err != nil {
		return MemoryPlan{}, err
	}
	if cfg.Scheduler.BlockSize < 1 || cfg.Trace.MaxTokens < 1 {
		return MemoryPlan{}, fmt.Errorf("memory planner: block_size %d and max_tokens %d must be ≥ 1",
			cfg.Scheduler.BlockSize, cfg.Trace.MaxTokens)
	}
	e, hd, f := int64(m.EmbeddingDim), int64(m.VidurHeadDim()), int64(m.MLPHiddenDim)
	qw, kvw := int64(m.NumQHeads/tp), int64((m.NumKVHeads+tp-1)/tp)
	mats := int64(2)
	if m.UseGatedMLP {
		mats = 3
	}
	perLayer := e*hd*(qw+2*kvw) + e*hd*qw + mats*e*f/int64(tp)
	paramBytes := 2 * perLayer * int64(m.NumLayers/pp)
	kvPerRequest := 2 * 2 * hd * kvw * int64(cfg.Trace.MaxTokens) * int64(m.NumLayers)
	available := float64(cfg.DeviceTotalMemoryGB * (1 << 30) * (1 - cfg.MemoryMarginFraction)) // rounded: no fused multiply-add
	n := pyFloorDiv(available-float64(paramBytes), float64(kvPerRequest))
	if !(n > 0) {
		return MemoryPlan{}, fmt.Errorf("memory planner: not enough memory to store even a single request "+
			"(%g GB, margin %g, %d-token requests)", cfg.DeviceTotalMemoryGB, cfg.MemoryMarginFraction, cfg.Trace.MaxTokens)
	}
	perSeq := cfg.Trace.MaxTokens / cfg.Scheduler.BlockSize
	return MemoryPlan{MaxBatchSize: int(n), NumBlocks: perSeq * int(n) * pp}, nil
}

// pyFloorDiv is Python's float a // b for b > 0 (floor of the exact quotient).
func pyFloorDiv(a, b float64) float64 {
	mod := math.Mod(a, b)
	div := (a - mod) / b
	if mod != 0 && mod < 0 {
		div--
	}
	fl := math.Floor(div)
	if div-fl > 0.5 {
		fl++
	}
	return fl
}
