package validation

// Record is the one per-request record that flows from both sides: the simulator
// (simkit) and a real engine run (realkit). Times are seconds on one clock whose
// origin is the start of the workload (the first arrival is usually 0).
//
// Summaries are always recomputed from Records by this package; neither side's own
// percentiles are trusted.
type Record struct {
	ID           string  `json:"id"`
	ArrivalS     float64 `json:"arrival_s"`
	PromptTokens int     `json:"prompt_tokens"`
	OutputTokens int     `json:"output_tokens"`
	// FirstTokenS is t1, the time the first output token exists.
	FirstTokenS float64 `json:"first_token_s"`
	// TokenTimesS holds t1 … tD, one per output token, non-decreasing.
	TokenTimesS []float64 `json:"token_times_s"`
	// CompletionS is c = tD.
	CompletionS float64 `json:"completion_s"`
	// FirstScheduledS is when the request first entered a batch, where known.
	FirstScheduledS *float64 `json:"first_scheduled_s,omitempty"`
	// Restarts counts preemptions by restart, where known.
	Restarts int `json:"restarts,omitempty"`
}

// EngineSettings are the scheduler and execution knobs that must agree between the
// real side (as the engine resolved them) and the simulated side before a comparison
// means anything. Zero values mean "not known" and are reported, not silently matched.
type EngineSettings struct {
	// Scheduler names the batching policy: "sarathi", "vllm", "orca",
	// "fastertransformer", "lightllm" or "hfcb" (transformers continuous batching),
	// optionally with a sub-policy after a colon ("hfcb:fifo").
	Scheduler string `json:"scheduler" yaml:"scheduler"`
	// TokenBudget is the per-step token budget (Sarathi's chunk size, hfcb's
	// max_batch_tokens, vLLM's max_tokens_in_batch).
	TokenBudget int `json:"token_budget" yaml:"token_budget"`
	// MaxSeqs caps the number of requests in one batch (batch_size_cap, max_num_seqs,
	// max_requests_per_batch).
	MaxSeqs   int `json:"max_seqs" yaml:"max_seqs"`
	BlockSize int `json:"block_size" yaml:"block_size"`
	// NumBlocks is the KV-cache block count the engine resolved.
	NumBlocks        int    `json:"num_blocks" yaml:"num_blocks"`
	TP               int    `json:"tp" yaml:"tp"`
	PP               int    `json:"pp" yaml:"pp"`
	AttentionBackend string `json:"attention_backend" yaml:"attention_backend"`
	DType            string `json:"dtype" yaml:"dtype"`
	CUDAGraphs       bool   `json:"cuda_graphs" yaml:"cuda_graphs"`
	// Model is the model configuration's name, e.g. "Qwen/Qwen3-0.6B".
	Model string `json:"model" yaml:"model"`
}
