package simkit

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"

	"github.com/simval/simval/validation"
)

// hfcbCaptures is an hfcb bundle's graph_capture.csv: the measured extra wall time of
// steps that captured a new CUDA graph, over the warm prediction of the same step.
//
// A capture runs the step's forward eagerly and records it into a graph: host-side work
// (kernel launches twice, graph instantiation, cuDNN building an attention plan for the
// new shape) that does not grow with the step's padded size at these sizes (the
// profiled samples scatter 40–190 ms with no trend in Q), so a step kind's capture cost
// is the median of its samples. A fresh engine process also pays first-use costs: at its
// first step (library handles, the first attention kernel variant's compilation), and
// at its first capture that needs the other cuDNN SDPA kernel variant (its compilation:
// 0.7–1.3 s in the eager forward, measured with the driver's --step-phases); those are
// the first and variant rows' quantiles at the process's place in their spread
// (CaptureEvent.At; the medians for a median process).
type hfcbCaptures struct {
	byKind                  map[string]float64 // decode, prefill, mixed → median ms, of the profiler's engine
	freshByKind             map[string]float64 // the same, of processes the replay driver served
	first, variant, restart []float64          // sorted ms; empty when the bundle has no such row
}

// hfcbCaptureKinds are the kinds graph_capture.csv may hold.
var hfcbCaptureKinds = []string{"first", "variant", "restart", "fresh_decode", "fresh_prefill", "fresh_mixed",
	"decode", "prefill", "mixed"}

// readHFCBCaptures reads graph_capture.csv; nil when the bundle has none.
func readHFCBCaptures(fsys fs.FS, file string) (*hfcbCaptures, error) {
	t, err := openOptional(fsys, file)
	if err != nil || t == nil {
		return nil, err
	}
	if err := t.require("kind", "q_pad", "capture_ms"); err != nil {
		return nil, err
	}
	samples := map[string][]float64{} // kind → capture_ms; no trend in q_pad, so pooled
	for row := range t.rows {
		kind := t.str(row, "kind")
		if !slices.Contains(hfcbCaptureKinds, kind) {
			return nil, t.cellErr(row, "kind", "%q is not one of %v", kind, hfcbCaptureKinds)
		}
		if _, err := t.num(row, "q_pad"); err != nil {
			return nil, err
		}
		ms, err := t.num(row, "capture_ms")
		if err != nil {
			return nil, err
		}
		if math.IsNaN(ms) || math.IsInf(ms, 0) {
			return nil, t.cellErr(row, "capture_ms", "%g is not a finite time", ms)
		}
		samples[kind] = append(samples[kind], ms)
	}
	for _, xs := range samples {
		slices.Sort(xs)
	}
	c := &hfcbCaptures{byKind: map[string]float64{}, freshByKind: map[string]float64{},
		first: samples["first"], variant: samples["variant"], restart: samples["restart"]}
	for _, kind := range []string{"decode", "prefill", "mixed"} {
		if xs := samples[kind]; len(xs) > 0 {
			c.byKind[kind] = validation.Quantile(xs, 0.5)
		}
		if xs := samples["fresh_"+kind]; len(xs) > 0 {
			c.freshByKind[kind] = validation.Quantile(xs, 0.5)
		}
	}
	if len(c.byKind) == 0 {
		return nil, fmt.Errorf("%s: no decode, prefill or mixed row: cannot predict a graph capture", t.path)
	}
	return c, nil
}

// stepKind is decode (every item decodes), prefill (none does) or mixed.
func stepKind(b Batch) string {
	dec := 0
	for _, it := range b.Items {
		if it.Req.PrefillComplete {
			dec++
		}
	}
	switch dec {
	case len(b.Items):
		return "decode"
	case 0:
		return "prefill"
	}
	return "mixed"
}

// hfcbPow2 is the engine's pad_to_pow2: the next power of two of at least n and lo,
// capped at limit when limit > 0.
func hfcbPow2(n, lo, limit int) int {
	p := 1
	for p < max(n, lo, 1) {
		p <<= 1
	}
	if limit > 0 {
		p = min(p, limit)
	}
	return p
}

// HFCBMinSeqKPad is the smallest padded key length of a graph key (pad_to_pow2's
// min_value in get_model_kwargs).
const HFCBMinSeqKPad = 1024

// StepShape is the step's graph key as the engine computes it, with its unpadded query
// tokens and cached tokens read.
func (pr *hfcbPredictor) StepShape(b Batch, past []int) StepShape {
	tokens, cached, seqk := 0, 0, 0
	for i, it := range b.Items {
		c := hfcbCachedLen(it.Req)
		tokens += it.Tokens
		cached += c
		seqk = max(seqk, c+it.Tokens)
		if past != nil {
			past[i] = c
		}
	}
	return StepShape{
		Key: GraphKey{
			Q:    hfcbPad(tokens, HFCBQPadInterval, pr.budget),
			KV:   hfcbPad(cached, HFCBKVPadInterval, pr.numPages),
			SeqK: hfcbPow2(seqk, HFCBMinSeqKPad, pr.numPages),
		},
		QTokens: tokens,
		KVRead:  cached,
	}
}

var errNoCaptureTable = errors.New("the profile has no graph_capture.csv: graph captures cannot be predicted " +
	"(re-profile with simval profile, or simulate a warm engine)")

// KernelVariant is the cuDNN SDPA kernel variant the step with key k runs: the engine's
// attention (paged|sdpa on sm90, torch 2.11) is cuDNN's runtime-compiled fused kernel,
// compiled once per process and variant; in every recorded fresh process the variants
// split on whether the padded query length is a multiple of 128 (simkit/HFCB.md).
func (pr *hfcbPredictor) KernelVariant(k GraphKey) string {
	if k.Q%128 == 0 {
		return "sdpa q%128=0"
	}
	return "sdpa q%128=64"
}

// CaptureS is the capture cost of step b, a capture of its engine process as ev says.
func (pr *hfcbPredictor) CaptureS(b Batch, ev CaptureEvent) (float64, error) {
	c := pr.captures
	if c == nil {
		return 0, errNoCaptureTable
	}
	switch {
	case ev.Ordinal == 0 && ev.WarmKernels:
		if len(c.restart) == 0 {
			return 0, errors.New("graph_capture.csv has no restart rows: cannot predict a restarted engine's first step " +
				"(re-derive the profile with restarted processes: rederive_hfcb.py --restart-runs)")
		}
		return firstUseQuantile(c.restart, float64(ev.At)) * 1e-3, nil
	case ev.Ordinal == 0 && len(c.first) > 0:
		return firstUseQuantile(c.first, float64(ev.At)) * 1e-3, nil
	case ev.NewVariant && len(c.variant) > 0:
		return firstUseQuantile(c.variant, float64(ev.At)) * 1e-3, nil
	}
	// Later captures cost what they cost in processes the replay driver serves (the
	// fresh_* rows), whatever state the process started from: on the development
	// lukewarm runs (dev/lukewarm/) captures after a warm-up, at keys both sides met, cost
	// 25-40 ms more than the profiler's own engine's rows, as the fresh_* rows do. Those
	// serve only a profile without fresh_* rows of the step's kind.
	kind := stepKind(b)
	if ms, ok := c.freshByKind[kind]; ok {
		return ms * 1e-3, nil
	}
	ms, ok := c.byKind[kind]
	if !ok {
		return 0, fmt.Errorf("graph_capture.csv has no %s rows: cannot predict the capture of a %s step", kind, kind)
	}
	return ms * 1e-3, nil
}

// firstUseQuantile is the q-quantile of sorted (the median for q 0).
func firstUseQuantile(sorted []float64, q float64) float64 {
	if q <= 0 || q >= 1 {
		q = 0.5
	}
	return validation.Quantile(sorted, q)
}
