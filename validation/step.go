package validation

// Step is one engine iteration (one batch), real or simulated: the record type of a
// step trace, as Record is of a run. Times are seconds since the repetition's t0, on
// the engine clock; warm-up steps come before t0 and have negative StartS.
//
// Shape fields are the engine's own: for transformers continuous batching (hfcb)
// QPad, KVPad and SeqKPad are the step's CUDA-graph key (query tokens padded to 64,
// cached tokens read padded to 16384, the longest key length padded to a power of two
// of at least 1024); zero where the engine pads nothing or the side does not know.
type Step struct {
	Index     int     `json:"index"`
	StartS    float64 `json:"start_s"`
	DurationS float64 `json:"duration_s"`
	// Warmup marks a step of the warm-up before the repetition (not timed).
	Warmup bool `json:"warmup,omitempty"`
	// Items are the requests in the batch; empty where the side did not report them.
	Items []StepItem `json:"items,omitempty"`
	// QTokens and KVRead are the unpadded query tokens and cached tokens read.
	QTokens int `json:"q_tokens,omitempty"`
	KVRead  int `json:"kv_read,omitempty"`
	QPad    int `json:"q_pad,omitempty"`
	KVPad   int `json:"kv_pad,omitempty"`
	SeqKPad int `json:"seqk_pad,omitempty"`
	// Captured says the step captured a new CUDA graph (or compiled) instead of
	// replaying one; Graphs is the size of the engine's graph cache after the step.
	Captured bool `json:"captured,omitempty"`
	Graphs   int  `json:"graphs,omitempty"`
	// Phases splits a real step's wall time into the engine's own phases (ms, and
	// counts), where the driver measured them (hfcb --step-phases); diagnostic data,
	// not judged.
	Phases map[string]float64 `json:"phases,omitempty"`
	// CommS is the part of DurationS spent in collectives between GPUs (tensor-parallel
	// all-reduces, pipeline send/recv): the simulator's prediction, or a real side's
	// measurement where it has one; 0 on one GPU or where unknown.
	CommS float64 `json:"comm_s,omitempty"`
}

// StepItem is one request's share of a step: its prefill query tokens (0 for a
// decode), whether it decodes one token, and its cached tokens before the step.
type StepItem struct {
	ID      string `json:"id"`
	Prefill int    `json:"prefill,omitempty"`
	Decode  int    `json:"decode,omitempty"`
	Past    int    `json:"past,omitempty"`
}

// StepKind classifies a step for per-kind timing errors.
type StepKind string

const (
	StepDecode  StepKind = "decode-only"
	StepPrefill StepKind = "prefill-only"
	StepMixed   StepKind = "mixed"
	StepCapture StepKind = "capture"
)

// Kind is the step's kind: capture when it captured a graph, else by its items.
func (s Step) Kind() StepKind {
	if s.Captured {
		return StepCapture
	}
	var pre, dec bool
	for _, it := range s.Items {
		pre = pre || it.Prefill > 0
		dec = dec || it.Decode > 0
	}
	switch {
	case pre && dec:
		return StepMixed
	case pre:
		return StepPrefill
	default:
		return StepDecode
	}
}

// StepKinds lists the kinds in report order.
var StepKinds = []StepKind{StepDecode, StepPrefill, StepMixed, StepCapture}
