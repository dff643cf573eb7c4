package simkit

import (
	"github.com/simval/simval/validation"
)

// ModelSpec is the model as the simulator needs it. Head dimension, KV heads, tied
// embeddings and the LM head are explicit: Qwen3-0.6B's head dimension is 128, not
// hidden/heads = 64 as Vidur assumes.
type ModelSpec struct {
	Name           string `json:"name" yaml:"name"`
	Layers         int    `json:"layers" yaml:"layers"`
	Hidden         int    `json:"hidden" yaml:"hidden"`
	QHeads         int    `json:"q_heads" yaml:"q_heads"`
	KVHeads        int    `json:"kv_heads" yaml:"kv_heads"`
	HeadDim        int    `json:"head_dim" yaml:"head_dim"`
	Intermediate   int    `json:"intermediate" yaml:"intermediate"`
	Vocab          int    `json:"vocab" yaml:"vocab"`
	TiedEmbeddings bool   `json:"tied_embeddings" yaml:"tied_embeddings"`
	GatedMLP       bool   `json:"gated_mlp" yaml:"gated_mlp"`
	PostAttnNorm   bool   `json:"post_attn_norm" yaml:"post_attn_norm"`
	// LMHead says whether the LM head (and sampler) run every step; true for every real
	// engine, false only in Vidur parity mode.
	LMHead bool   `json:"lm_head" yaml:"lm_head"`
	DType  string `json:"dtype" yaml:"dtype"`
	// MaxContext is the longest prompt + output the model takes, in tokens (its
	// config.json's max_position_embeddings); 0 when not known. A target states it; a
	// profile's provenance need not (it is not compared).
	MaxContext int `json:"max_context,omitempty" yaml:"max_context,omitempty"`
}

// Options configure one simulation.
type Options struct {
	Model    ModelSpec
	Settings validation.EngineSettings
	Profile  *Profile
	// Predictor, when set, predicts step times instead of one built from Profile
	// (Vidur parity mode, tests).
	Predictor Predictor
	// CPUOverhead models the engine's CPU-side cost per step (scheduling, input
	// preparation, dispatch, sampling, output handling). On by default; switching it off
	// gives the kernel-only prediction that misses CPU-bound engines.
	CPUOverhead bool
	// Extrapolate allows look-ups outside the profiled grid; each one is reported in
	// Result.Warnings. Without it such a look-up is an error naming the key.
	Extrapolate bool

	// Replicas is the number of identical replicas (0 means 1) behind the global
	// scheduler GlobalScheduler: "round_robin" (the default), "lor" or "random".
	Replicas        int
	GlobalScheduler string
	// Seed seeds the random global scheduler (one PCG stream per purpose).
	Seed uint64
	// LORQueueOnly makes "lor" count only each replica's waiting requests, as Vidur's
	// num_pending_requests does (parity mode); by default it counts waiting plus running.
	LORQueueOnly bool
	// GPUMemoryGB and MaxRequestTokens feed Vidur's memory planner, used only when
	// Settings.NumBlocks is 0. GPUMemoryGB 0 means: look the profile's GPU up among
	// known GPUs; MaxRequestTokens 0 means Vidur's 4096.
	GPUMemoryGB      float64
	MaxRequestTokens int

	// EngineState is what each replica's engine process has captured before the
	// first request: warm ("" too), cold or after-warmup. Cold and after-warmup need a
	// predictor that models graph capture (GraphModel); after-warmup also needs
	// WarmGraphs, the graph keys the warm-up captured.
	EngineState EngineState
	WarmGraphs  []GraphKey
	// FirstUse places the engine process of a cold (or after-warm-up) simulation in the
	// measured spread of a fresh process's first-use costs; the zero value is the median.
	FirstUse FirstUse
	// Idle is each replica's engine state before t = 0 where it admits requests at an
	// idle poll (an hfcb TP engine): when it went idle, where its polls count from, and
	// whether a wake-up is pending; nil: unknown, the first request waits half a poll.
	Idle *IdleState
	// StepTrace asks Simulate for Result.Steps, one per batch.
	StepTrace bool
}

// StepTime is one predicted step (iteration) of a replica, or of one pipeline stage.
type StepTime struct {
	KernelS float64 // GPU kernel time of the step
	// CommS is the part of KernelS spent in collectives between GPUs: tensor-parallel
	// all-reduces and pipeline send/recv, from the profile's network tables (0 on one GPU).
	CommS float64
	CPUS  float64 // CPU time not hidden under kernels: TotalS − KernelS − CaptureS
	// CaptureS is the extra time of a step that captured a new CUDA graph (0 otherwise).
	CaptureS float64
	TotalS   float64 // the step's wall time
}

// Result is what a simulation returns: one record per request in input order, plus
// totals that let reports split the prediction into kernel and CPU shares.
type Result struct {
	Records []validation.Record
	// Steps counts batches; KernelS, CPUS and BusyS sum over every stage execution of
	// every batch (with pipeline parallelism a batch runs once per stage).
	Steps    int
	KernelS  float64 // Σ step kernel time
	CPUS     float64 // Σ step CPU time
	CaptureS float64 // Σ step graph-capture time
	Captures int     // steps that captured a graph
	BusyS    float64 // Σ step wall time
	// StepTrace holds one entry per batch (stage 0) when Options.StepTrace is set.
	StepTrace []validation.Step
	Warnings  []string
}

// Totals is what a streaming simulation returns besides its records.
type Totals struct {
	Requests int
	Steps    int
	KernelS  float64
	CPUS     float64
	CaptureS float64
	Captures int
	BusyS    float64
	// EndS is the simulated time of the last completion.
	EndS     float64
	Warnings []string

	steps []validation.Step // Simulate's step trace
}
