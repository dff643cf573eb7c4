package simkit

import (
	"fmt"
	"math"
	"strings"
)

// DefaultMaxRequestTokens is Vidur's max_tokens, the per-request token bound its memory
// planner sizes the KV cache for.
const DefaultMaxRequestTokens = 4096

// memoryMarginFraction is Vidur's memory_margin_fraction.
const memoryMarginFraction = 0.1

// MemoryPlan is the outcome of Vidur's memory planner.
type MemoryPlan struct {
	GPUMemoryGB      float64
	MaxRequestTokens int
	// MaxBatchSize is how many max-length requests fit (Vidur's get_max_batch_size).
	MaxBatchSize int
	// NumBlocks = (MaxRequestTokens / blockSize) × MaxBatchSize × PP.
	NumBlocks int
}

// PlanMemory is Vidur's memory planner (reference §5) with the model's explicit head
// dimension instead of hidden/heads: weights of the attention and MLP projections of
// one pipeline stage (no embedding, LM head or norms) and a KV cache sized for
// max-length requests over all layers, in 90% of the GPU's memory. It is a fallback
// for when the engine's resolved block count is unknown.
func PlanMemory(m ModelSpec, tp, pp int, gpuMemoryGB float64, maxRequestTokens, blockSize int) (MemoryPlan, error) {
	if maxRequestTokens <= 0 {
		maxRequestTokens = DefaultMaxRequestTokens
	}
	plan := MemoryPlan{GPUMemoryGB: gpuMemoryGB, MaxRequestTokens: maxRequestTokens}
	switch {
	case gpuMemoryGB <= 0:
		return plan, fmt.Errorf("GPU memory is unknown (set Options.GPUMemoryGB)")
	case m.HeadDim <= 0:
		return plan, fmt.Errorf("model.head_dim is %d; the planner needs the explicit head dimension", m.HeadDim)
	case m.Layers <= 0 || m.Hidden <= 0 || m.QHeads <= 0 || m.KVHeads <= 0 || m.Intermediate <= 0:
		return plan, fmt.Errorf("model %q lacks layers, hidden, q_heads, kv_heads or intermediate", m.Name)
	case tp < 1 || pp < 1 || blockSize < 1:
		return plan, fmt.Errorf("tp %d, pp %d and block size %d must be at least 1", tp, pp, blockSize)
	case m.QHeads%tp != 0:
		return plan, fmt.Errorf("model.q_heads %d is not divisible by tp %d", m.QHeads, tp)
	case m.Layers%pp != 0:
		return plan, fmt.Errorf("model.layers %d is not divisible by pp %d", m.Layers, pp)
	case m.Hidden%tp != 0:
		return plan, fmt.Errorf("model.hidden %d is not divisible by tp %d", m.Hidden, tp)
	}
	e, hd, f := int64(m.Hidden), int64(m.HeadDim), int64(m.Intermediate)
	qw := int64(m.QHeads / tp)
	kvw := int64((m.KVHeads + tp - 1) / tp)
	mlpMats := int64(2)
	if m.GatedMLP {
		mlpMats = 3
	}
	perLayer := e*hd*(qw+2*kvw) + e*hd*qw + mlpMats*e*f/int64(tp)
	perDevice := perLayer * int64(m.Layers/pp)
	bytes := int64(dtypeBytes(m.DType))
	kvPerRequest := bytes * 2 * hd * kvw * int64(maxRequestTokens) * int64(m.Layers)
	available := gpuMemoryGB * (1 << 30) * (1 - memoryMarginFraction)
	n := math.Floor((available - float64(bytes*perDevice)) / float64(kvPerRequest))
	if n < 1 {
		return plan, fmt.Errorf("not even one %d-token request fits in %.0f GB", maxRequestTokens, gpuMemoryGB)
	}
	plan.MaxBatchSize = int(n)
	plan.NumBlocks = maxRequestTokens / blockSize * plan.MaxBatchSize * pp
	return plan, nil
}

// dtypeBytes is the size of one element of the named dtype (2 when unknown, as Vidur
// assumes).
func dtypeBytes(dtype string) int {
	switch strings.ToLower(dtype) {
	case "float32", "fp32", "float":
		return 4
	case "fp8", "float8", "float8_e4m3fn", "int8":
		return 1
	default:
		return 2
	}
}

// KnownGPUMemoryGB is the memory of GPUs the planner knows (Vidur's SKUs plus the
// H200), matched case-insensitively against a GPU name such as "NVIDIA H200".
func KnownGPUMemoryGB(gpu string) (float64, bool) {
	g := strings.ToLower(gpu)
	for _, sku := range []struct {
		name string
		gb   float64
	}{{"h200", 141}, {"h100", 80}, {"a100", 80}, {"a40", 45}} {
		if strings.Contains(g, sku.name) {
			return sku.gb, true
		}
	}
	return 0, false
}
