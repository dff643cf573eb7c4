package simkit

import "fmt"

// EngineState is what an engine process has captured (CUDA graphs) or compiled before
// the workload's first request arrives.
type EngineState string

const (
	// StateWarm: every step shape the workload meets is already captured; no step
	// pays a capture. The default, and what every prediction assumed before engine
	// state was modelled.
	StateWarm EngineState = "warm"
	// StateCold: a freshly started engine process; nothing captured. Its first steps
	// also pay the process's first-use costs.
	StateCold EngineState = "cold"
	// StateAfterWarmup: the graphs a warm-up captured (Options.WarmGraphs) and no others.
	StateAfterWarmup EngineState = "after-warmup"
	// StateRestart: a freshly started engine process on a machine where the same engine
	// ran before from the same place: nothing captured, but the CUDA driver's JIT cache
	// (~/.nv/ComputeCache) holds the attention kernels it compiled, so the process pays
	// a smaller first step and no kernel-variant compilation.
	StateRestart EngineState = "restart"
)

// ParseEngineState reads an engine state; "" is StateWarm.
func ParseEngineState(s string) (EngineState, error) {
	switch EngineState(s) {
	case "", StateWarm:
		return StateWarm, nil
	case StateCold, StateAfterWarmup, StateRestart:
		return EngineState(s), nil
	}
	return "", fmt.Errorf("engine state %q is not one of warm, cold, restart, after-warmup", s)
}

// GraphKey is the key under which an engine keeps one captured CUDA graph. For
// transformers 5.17 continuous batching (input_outputs.py, _get_graph_key on the varlen
// path) it is (query tokens padded to 64, cached tokens read padded to 16384, longest
// key length padded to a power of two of at least 1024), each capped by the engine.
type GraphKey struct {
	Q, KV, SeqK int
}

func (k GraphKey) String() string { return fmt.Sprintf("(%d, %d, %d)", k.Q, k.KV, k.SeqK) }

// StepShape is a step as an engine that pads it sees it: its graph key and its
// unpadded query tokens and cached tokens read.
type StepShape struct {
	Key     GraphKey
	QTokens int
	KVRead  int
}

// GraphModel is implemented by predictors of engines that capture a CUDA graph the
// first time a step meets a new key, and replay it afterwards.
type GraphModel interface {
	// StepShape is the step's shape; when past is not nil (len(b.Items)), it also
	// receives each item's cached tokens before the step.
	StepShape(b Batch, past []int) StepShape
	// KernelVariant names the lazily compiled kernel variant a step with key k needs
	// (one compilation per engine process and variant).
	KernelVariant(k GraphKey) string
	// CaptureS is the extra wall time (seconds) of step b over its warm prediction when
	// it captures a new graph.
	CaptureS(b Batch, ev CaptureEvent) (float64, error)
}

// FirstUse is where, in the measured spread of a fresh engine process's first-use costs
// (its first step; its first step of each further kernel variant), one simulated
// process falls: a quantile in (0, 1); 0 means the median.
//
// One quantile places all of a process's first-use costs. They are compilation (cuDNN's
// runtime-compiled SDPA kernels), one thread's CPU work: its CPU time equals its wall time
// and no steal is seen (dev/first-use-speed), and a process slow at its first step is
// slow at its variant too (first and variant costs correlate at r = 0.96 over 14
// calibration processes, 0.75 and 0.83 within one machine). From process to process they
// vary (0.9–2.0 s for a first step on the H200) with nothing outside the process that
// predicts them: a compilation probe run just before a process did not (r between −0.7
// and +0.2). So a prediction for pooled fresh processes simulates several (suite's
// realizations), each at its own quantile.
type FirstUse float64

// CaptureEvent is what one capture is to its engine process.
type CaptureEvent struct {
	// At is where the process falls in the spread of first-use costs.
	At FirstUse
	// Ordinal counts the captures the process made before this one (0: its first step).
	Ordinal int
	// NewVariant: the step needs a kernel variant no earlier step of the process
	// compiled (true for the first step too), and the process found none compiled.
	NewVariant bool
	// WarmKernels: the process found its kernels compiled (a restart).
	WarmKernels bool
}

// graphCache is one engine process's captured graph keys and compiled kernel variants.
// It never evicts: the engine keeps its graphs in a plain dict (CudaGraphBuffer).
type graphCache struct {
	all         bool // warm: every key counts as captured
	warmKernels bool // restart: every kernel variant counts as compiled
	keys        map[GraphKey]bool
	variants    map[string]bool
	captures    int // captures made, the warm-up's included
}

// newGraphCache is a replica's graph cache in the state o asks for. A predictor
// without a capture model (an engine that captures its graphs at start-up, as
// Sarathi-Serve does, or one that has none) predicts every state as warm, and warn
// says so.
func newGraphCache(o Options, gm GraphModel, warn func(string)) (*graphCache, error) {
	state, err := ParseEngineState(string(o.EngineState))
	if err != nil {
		return nil, err
	}
	if state != StateWarm && gm == nil {
		warn(fmt.Sprintf("engine state %s: the predictor models no lazy CUDA-graph capture; predicted as a warm engine", state))
		return &graphCache{all: true}, nil
	}
	if state == StateWarm {
		if len(o.WarmGraphs) > 0 {
			return nil, fmt.Errorf("engine state warm takes no warm-up graph keys (got %d): use after-warmup",
				len(o.WarmGraphs))
		}
		return &graphCache{all: true}, nil
	}
	c := &graphCache{keys: map[GraphKey]bool{}, variants: map[string]bool{}}
	switch state {
	case StateCold, StateRestart:
		if len(o.WarmGraphs) > 0 {
			return nil, fmt.Errorf("engine state %s takes no warm-up graph keys (got %d)", state, len(o.WarmGraphs))
		}
		c.warmKernels = state == StateRestart
	case StateAfterWarmup:
		if len(o.WarmGraphs) == 0 {
			return nil, fmt.Errorf("engine state after-warmup needs the graph keys the warm-up captured " +
				"(Options.WarmGraphs, from a recorded warm-up trace)")
		}
		for _, k := range o.WarmGraphs {
			c.capture(k, gm.KernelVariant(k))
		}
	}
	return c, nil
}

// capture reports whether key (whose step needs kernel variant) is a new capture and
// what it is to the process, and marks both captured.
func (c *graphCache) capture(key GraphKey, variant string) (captured bool, ev CaptureEvent) {
	if c.all || c.keys[key] {
		return false, CaptureEvent{}
	}
	c.keys[key] = true
	ev = CaptureEvent{Ordinal: c.captures, NewVariant: !c.warmKernels && !c.variants[variant],
		WarmKernels: c.warmKernels}
	c.variants[variant] = true
	c.captures++
	return true, ev
}

// size is the number of graphs captured (0 for a warm cache, whose size is unknown).
func (c *graphCache) size() int { return len(c.keys) }
