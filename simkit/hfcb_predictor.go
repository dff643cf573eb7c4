package simkit

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
)

// The engine's CUDA-graph padding intervals (transformers 5.17 defaults): a step's query
// tokens are padded to a multiple of 64, its cached tokens read to a multiple of 16384
// (16384 when there are none).
const (
	HFCBQPadInterval  = 64
	HFCBKVPadInterval = 64 * 256
)

// hfcbPerLayerOps are the mlp.csv operations of one Qwen3 layer as the engine runs them.
var hfcbPerLayerOps = []layerOp{
	{"input_layernorm", 1}, {"attn_pre_proj", 1}, {"attn_qk_norm", 1}, {"attn_rope", 1},
	{"attn_post_proj", 1}, {"post_attention_layernorm", 1}, {"mlp_up_proj", 1}, {"mlp_act", 1},
	{"mlp_down_proj", 1}, {"add", 2},
}

// hfcbPredictor predicts a step of transformers' continuous batching from an hfcb
// profile bundle (realkit/drivers/profile_hfcb.py). Per step, in ms from the profile:
//
//	Q      = Σ query tokens padded to 64 (at most the token budget)
//	KV     = Σ cached tokens of the batch's requests, padded to 16384 (at most the cache)
//	R      = min(Q, max requests per batch): the LM-head rows
//	kernel = layers × (Σ per-layer ops at Q, add twice, + attention(Q, KV))
//	       + emb(Q) + final_norm(Q) + lm_head(R) + sampler(R)     (when the model runs its LM head)
//	       + comm
//	comm   = layers × 2 × all_reduce(Q × hidden × dtype bytes)   (tp > 1: the o_proj and down_proj
//	         all-reduces of transformers' TP plan, on the padded activations; StepTime.CommS)
//	cpu    = D(b) + X(n − b) + s × Σ cached tokens                 (when Options.CPUOverhead)
//	launch = the same scheme over launch_median, when profiled
//	total  = cpu + max(kernel, launch)
//
// with attention from attention.csv's prefill rows (prefill_chunk_size = Q,
// kv_cache_size = KV), b the requests and n the unpadded query tokens of the step, D the
// decode-only rows of cpu_overheads.csv (num_tokens = batch_size) interpolated in b,
// X(m) = row(1, 1+m) − D(1) from its batch-size-1 rows, and s its cpu_per_kv_token_ms.
type hfcbPredictor struct {
	layers          float64
	budget, maxReqs int
	numPages        int // 0: no cap on KV
	lmHead, cpuOn   bool
	bytesPerToken   float64 // hidden × dtype bytes: one token's activations

	perLayer                     *table1
	attn                         *table2
	emb, finalNorm, lmH, sampler *table1
	cpuD, cpuX                   *table1
	launchD, launchX             *table1
	kvSlope                      float64
	captures                     *hfcbCaptures // graph_capture.csv; nil if the bundle has none
	allReduce                    *table1       // all_reduce.csv by bytes; nil at tp 1
	idlePoll                     float64       // idle_poll.csv's period (s); 0 at tp 1
	lk                           lookup
	notes                        []string
}

// LoadHFCBPredictor loads the profile bundle in dir of fsys and builds the hfcb
// predictor from it.
func LoadHFCBPredictor(fsys fs.FS, dir string, o Options) (Predictor, *Profile, error) {
	p, err := LoadProfile(fsys, dir)
	if err != nil {
		return nil, nil, err
	}
	return hfcbFromBundle(fsys, p, o)
}

// hfcbFromBundle builds the hfcb predictor from a loaded profile plus the bundle's files
// the generic loader does not read: cpu_overheads.csv's cpu_per_kv_token_ms and
// graph_capture.csv.
func hfcbFromBundle(fsys fs.FS, p *Profile, o Options) (Predictor, *Profile, error) {
	slope, err := readHFCBKVSlope(fsys, path.Join(p.Dir, "cpu_overheads.csv"))
	if err != nil {
		return nil, nil, err
	}
	captures, err := readHFCBCaptures(fsys, path.Join(p.Dir, "graph_capture.csv"))
	if err != nil {
		return nil, nil, err
	}
	var unaligned *table2
	t, err := openOptional(fsys, path.Join(p.Dir, hfcbUnalignedMaskFile))
	if err != nil {
		return nil, nil, err
	}
	if t != nil {
		if unaligned, _, _, err = p.attentionTables(t); err != nil {
			return nil, nil, err
		}
	}
	pr, err := NewHFCBPredictor(p, o, slope)
	if err != nil {
		return nil, nil, err
	}
	tp := max(o.Settings.TP, 1)
	poll, err := readHFCBIdlePoll(fsys, path.Join(p.Dir, hfcbIdlePollFile), tp)
	if err != nil {
		return nil, nil, err
	}
	if tp > 1 && poll == 0 {
		return nil, nil, fmt.Errorf("profile %s has no %s, needed for tp %d: an idle tensor-parallel engine "+
			"admits requests at its ranks' idle poll (realkit/drivers/hfcb_tp_bundle.py measures it)",
			p.Dir, hfcbIdlePollFile, tp)
	}
	h := pr.(*hfcbPredictor)
	h.captures, h.idlePoll = captures, poll
	h.useMaskAlignment(unaligned)
	return pr, p, nil
}

// hfcbUnalignedMaskFile is an hfcb bundle's attention table measured with an attention
// mask whose rows are not 16-byte aligned (profile_hfcb.py --unaligned-mask-only).
const hfcbUnalignedMaskFile = "attention_unaligned_mask.csv"

// useMaskAlignment picks the attention table the engine's mask layout calls for. The
// engine's varlen attention mask is a view of a bf16 [max_batch_tokens, num_pages +
// max_batch_tokens] buffer; when that row length is not a multiple of 8 elements (16
// bytes) — as when num_blocks is fixed and the engine infers max_batch_tokens from free
// memory, e.g. 6144 + 145379 — cuDNN's SDPA runs 30–50% slower per layer at the same
// shape (measured on the H200, 2026-12-01: hfcb_mask_stride_probe.py and the bundle's
// attention_unaligned_mask.csv).
func (pr *hfcbPredictor) useMaskAlignment(unaligned *table2) {
	if pr.numPages == 0 {
		return
	}
	stride := pr.numPages + pr.budget
	if stride%8 == 0 {
		return
	}
	if unaligned == nil {
		pr.notes = append(pr.notes, fmt.Sprintf("hfcb predictor: the attention mask's row length %d (num_pages %d + "+
			"max_batch_tokens %d) is not a multiple of 8, which makes the engine's attention 30–50%% slower, but the "+
			"profile has no %s: attention is predicted as if aligned (too fast)", stride, pr.numPages, pr.budget,
			hfcbUnalignedMaskFile))
		return
	}
	pr.attn = unaligned
	pr.notes = append(pr.notes, fmt.Sprintf("hfcb predictor: the attention mask's row length %d (num_pages %d + "+
		"max_batch_tokens %d) is not a multiple of 8: attention from %s", stride, pr.numPages, pr.budget,
		hfcbUnalignedMaskFile))
}

// LoadPredictor loads the profile bundle in dir of fsys (once) together with the
// predictor the engine it was measured on needs. A bundle from transformers continuous
// batching (provenance engine "hfcb") gets the hfcb predictor, which models that
// engine's padded, packed steps and its graph captures; any other bundle gets the
// profile predictor.
func LoadPredictor(fsys fs.FS, dir string, o Options) (Predictor, *Profile, error) {
	p, err := LoadProfile(fsys, dir)
	if err != nil {
		return nil, nil, err
	}
	if p.Provenance.Engine != "hfcb" {
		o.Profile = p
		pr, err := NewProfilePredictor(p, o)
		if err != nil {
			return nil, nil, err
		}
		return pr, p, nil
	}
	return hfcbFromBundle(fsys, p, o)
}

// readHFCBKVSlope reads cpu_per_kv_token_ms, which must be the same on every row; it is
// 0 when the file or the column is absent.
func readHFCBKVSlope(fsys fs.FS, file string) (float64, error) {
	t, err := openOptional(fsys, file)
	if err != nil || t == nil || !t.has("cpu_per_kv_token_ms") {
		return 0, err
	}
	slope := math.NaN()
	for row := range t.rows {
		v, err := t.num(row, "cpu_per_kv_token_ms")
		if err != nil {
			return 0, err
		}
		if !math.IsNaN(slope) && v != slope {
			return 0, t.cellErr(row, "cpu_per_kv_token_ms", "%g differs from the first row's %g", v, slope)
		}
		slope = v
	}
	if math.IsNaN(slope) {
		return 0, nil
	}
	return slope, nil
}

// NewHFCBPredictor builds the hfcb predictor from profile p for the model and settings in
// o, with cpuPerKVTokenMS the CPU cost per cached token read (ms). Unknown settings take
// the engine's defaults (token budget 8192, 1024 requests per batch, no cap on the cache),
// noted in Warnings.
func NewHFCBPredictor(p *Profile, o Options, cpuPerKVTokenMS float64) (Predictor, error) {
	if p == nil {
		return nil, errors.New("simkit: hfcb predictor: no profile")
	}
	if err := p.checkUsableFor(o); err != nil {
		return nil, err
	}
	tp := max(o.Settings.TP, 1)
	if max(o.Settings.PP, 1) != 1 {
		return nil, fmt.Errorf("hfcb predictor: pp %d: transformers' continuous batching has no pipeline stages "+
			"to model", o.Settings.PP)
	}
	if tp != p.Provenance.TP {
		return nil, fmt.Errorf("hfcb predictor: profile %s has tp %d, settings.tp is %d", p.Dir, p.Provenance.TP, tp)
	}
	if tp > 1 && p.allReduce == nil {
		return nil, fmt.Errorf("hfcb predictor: profile %s has no all_reduce.csv, needed for tp %d", p.Dir, tp)
	}
	if !(cpuPerKVTokenMS >= 0) || math.IsInf(cpuPerKVTokenMS, 0) {
		return nil, fmt.Errorf("hfcb predictor: cpu_per_kv_token_ms %g is not a finite non-negative time", cpuPerKVTokenMS)
	}
	pr := &hfcbPredictor{
		layers:  float64(o.Model.Layers),
		budget:  o.Settings.TokenBudget,
		maxReqs: o.Settings.MaxSeqs,
		lmHead:  o.Model.LMHead,
		cpuOn:   o.CPUOverhead,
		attn:    p.prefill,
		kvSlope: cpuPerKVTokenMS,
		lk:      lookup{allow: o.Extrapolate, seen: map[string]*outOfGrid{}},
	}
	if tp > 1 {
		pr.allReduce, pr.bytesPerToken = p.allReduce, float64(o.Model.Hidden*dtypeBytes(o.Model.DType))
	}
	pr.applyDefaults(o)
	var err error
	if pr.perLayer, err = p.sumOps(hfcbPerLayerOps); err != nil {
		return nil, err
	}
	if pr.lmHead {
		for _, op := range []string{"emb", "final_norm", "lm_head", "sampler"} {
			if p.mlp[op] == nil {
				return nil, fmt.Errorf("profile %s: mlp.csv lacks %s, needed because model.lm_head is true",
					p.Dir, medianCol(op))
			}
		}
		pr.emb, pr.finalNorm, pr.lmH, pr.sampler = p.mlp["emb"], p.mlp["final_norm"], p.mlp["lm_head"], p.mlp["sampler"]
	}
	if pr.cpuOn {
		if p.cpu2 == nil {
			return nil, fmt.Errorf("profile %s: the hfcb predictor needs cpu_overheads.csv with a num_tokens column "+
				"for CPU-overhead modelling (Options.CPUOverhead)", p.Dir)
		}
		if pr.cpuD, pr.cpuX, err = hfcbSeparable(p.cpu2); err != nil {
			return nil, fmt.Errorf("profile %s: %w", p.Dir, err)
		}
		if p.launch2 != nil {
			if pr.launchD, pr.launchX, err = hfcbSeparable(p.launch2); err != nil {
				return nil, fmt.Errorf("profile %s: %w", p.Dir, err)
			}
		}
	}
	return pr, nil
}

func (pr *hfcbPredictor) applyDefaults(o Options) {
	if pr.budget == 0 {
		pr.budget = HFCBDefaultTokenBudget
		pr.notes = append(pr.notes, fmt.Sprintf("hfcb predictor: settings.token_budget is 0; padding queries "+
			"up to max_batch_tokens %d", pr.budget))
	}
	if pr.maxReqs == 0 {
		pr.maxReqs = HFCBDefaultMaxSeqs
		pr.notes = append(pr.notes, fmt.Sprintf("hfcb predictor: settings.max_seqs is 0; LM-head rows capped at %d",
			pr.maxReqs))
	}
	pr.maxReqs = min(pr.maxReqs, pr.budget)
	bs := o.Settings.BlockSize
	if bs == 0 {
		bs = HFCBDefaultBlockSize
	}
	pr.numPages = o.Settings.NumBlocks * bs
	if pr.numPages == 0 {
		pr.notes = append(pr.notes, "hfcb predictor: settings.num_blocks is 0; cached-token padding is not capped")
	}
}

// hfcbSeparable splits a (batch_size, num_tokens) table into D(b), from its rows with
// num_tokens = batch_size, and X(m) = value(1, 1+m) − D(1), from its rows with
// batch_size 1. Other rows (mixed steps) are the profiler's evidence, not used here.
func hfcbSeparable(t *table2) (d, x *table1, err error) {
	var dp, xp []point
	d1, haveD1 := 0.0, false
	for i, b := range t.xs {
		for j, n := range t.ys {
			v := t.val(i, j)
			if math.IsNaN(v) {
				continue
			}
			if n == b {
				dp = append(dp, point{x: b, v: v})
				if b == 1 {
					d1, haveD1 = v, true
				}
			}
			if b == 1 {
				xp = append(xp, point{x: n - 1, v: v})
			}
		}
	}
	if !haveD1 {
		return nil, nil, fmt.Errorf("%s: needs a decode row with batch_size 1 and num_tokens 1", t.name)
	}
	for k := range xp {
		xp[k].v -= d1
	}
	return newTable1(t.name+" decode rows", "batch_size", dp),
		newTable1(t.name+" batch_size-1 rows", "num_tokens - batch_size", xp), nil
}

// hfcbPad is the engine's pad_to_interval: the next multiple of interval (interval itself
// for 0), capped at limit when limit > 0.
func hfcbPad(n, interval, limit int) int {
	p := interval
	if n > 0 {
		p = (n + interval - 1) / interval * interval
	}
	if limit > 0 {
		p = min(p, limit)
	}
	return p
}

// hfcbShape is the padded shape of one step as the engine runs it.
type hfcbShape struct {
	Q, KV, Rows int // padded query tokens, padded cached tokens read, LM-head rows
}

func (pr *hfcbPredictor) shape(b Batch) (s hfcbShape, tokens, cached int) {
	for _, it := range b.Items {
		tokens += it.Tokens
		cached += hfcbCachedLen(it.Req)
	}
	s.Q = hfcbPad(tokens, HFCBQPadInterval, pr.budget)
	s.KV = hfcbPad(cached, HFCBKVPadInterval, pr.numPages)
	s.Rows = min(s.Q, pr.maxReqs)
	return s, tokens, cached
}

func (pr *hfcbPredictor) Predict(b Batch) (StepTime, error) {
	if len(b.Items) == 0 {
		return StepTime{}, errors.New("empty batch")
	}
	lk := &pr.lk
	s, tokens, cached := pr.shape(b)
	q, rows := float64(s.Q), float64(s.Rows)
	layer, err := pr.perLayer.at(q, lk)
	if err != nil {
		return StepTime{}, err
	}
	attn, err := pr.attn.at(q, float64(s.KV), lk)
	if err != nil {
		return StepTime{}, err
	}
	kernel := (layer + attn) * pr.layers
	if pr.lmHead {
		for _, op := range []struct {
			t *table1
			x float64
		}{{pr.emb, q}, {pr.finalNorm, q}, {pr.lmH, rows}, {pr.sampler, rows}} {
			v, err := op.t.at(op.x, lk)
			if err != nil {
				return StepTime{}, err
			}
			kernel += v
		}
	}
	comm := 0.0
	if pr.allReduce != nil {
		v, err := pr.allReduce.at(q*pr.bytesPerToken, lk)
		if err != nil {
			return StepTime{}, err
		}
		comm = 2 * v * pr.layers
		kernel += comm
	}
	cpu, launch := 0.0, 0.0
	if pr.cpuOn {
		bs, m := float64(len(b.Items)), float64(tokens-len(b.Items))
		if cpu, err = pr.separable(pr.cpuD, pr.cpuX, bs, m); err != nil {
			return StepTime{}, err
		}
		cpu += pr.kvSlope * float64(cached)
		if pr.launchD != nil {
			if launch, err = pr.separable(pr.launchD, pr.launchX, bs, m); err != nil {
				return StepTime{}, err
			}
		}
	}
	total := cpu + max(kernel, launch)
	return StepTime{KernelS: kernel * 1e-3, CommS: comm * 1e-3, CPUS: (total - kernel) * 1e-3, TotalS: total * 1e-3}, nil
}

func (pr *hfcbPredictor) separable(d, x *table1, b, m float64) (float64, error) {
	dv, err := d.at(b, &pr.lk)
	if err != nil {
		return 0, err
	}
	xv, err := x.at(m, &pr.lk)
	if err != nil {
		return 0, err
	}
	return max(0, dv+xv), nil
}

// Warnings lists defaulted settings and the look-ups extrapolated so far.
func (pr *hfcbPredictor) Warnings() []string {
	return append(append([]string(nil), pr.notes...), pr.lk.warnings()...)
}
