package simkit

import (
	"errors"
	"fmt"
)

// Predictor predicts the time of one step (one pipeline stage of one batch).
type Predictor interface {
	Predict(b Batch) (StepTime, error)
}

// profilePredictor predicts from a profile bundle by deterministic piecewise-linear
// interpolation over the profiled grid. It records its extrapolations, so one
// predictor serves one simulation at a time.
type profilePredictor struct {
	layersPerStage float64
	lastStage      int
	tp             int
	bytesPerToken  float64 // hidden × element size: one token's activations
	lmHead, cpuOn  bool

	perLayer                       *table1 // Σ per-layer mlp.csv ops by num_tokens
	kvSave                         *table1
	prefill, decode                *table2
	emb, finalNorm, lmHeadT, sampl *table1
	cpu, launch                    *table1
	cpu2, launch2                  *table2
	allReduce, sendRecv            *table1
	lk                             lookup
}

// perLayerOps are the mlp.csv operations of one transformer layer, with how often each
// runs per layer: the model has two residual adds, and the profile times one.
type layerOp struct {
	op    string
	times float64
}

var perLayerOps = []layerOp{
	{"input_layernorm", 1}, {"attn_pre_proj", 1}, {"attn_rope", 1}, {"attn_post_proj", 1},
	{"mlp_up_proj", 1}, {"mlp_act", 1}, {"mlp_down_proj", 1}, {"add", 2},
}

// NewProfilePredictor builds the predictor of profile p for the model and settings in
// o. Per step, in ms from the profile, converted to seconds:
//
//	layer  = Σ per-layer mlp.csv ops at the batch's total tokens T (add twice;
//	         post_attention_layernorm when the model has it; attn_qk_norm if profiled)
//	       + kv_cache_save(T) if profiled
//	       + Σ over prefill chunks attn_prefill(chunk, context before the chunk)
//	       + attn_decode(number of decodes, mean decode context)
//	       + 2 × all_reduce(T × hidden × dtype bytes) when tp > 1 (StepTime.CommS)
//	kernel = layer × layers/pp
//	       + on the first stage emb(T), if profiled and the model runs its LM head
//	       + on the last stage final_norm(T) + lm_head(B) + sampler(B) when it does,
//	         with B the number of sequences in the batch (one logit row each)
//	       + send_recv(T × hidden × dtype bytes) on every stage but the last (CommS too)
//	cpu    = CPU time at B (or at (B, T) for a 2-D table) when o.CPUOverhead, else 0
//	launch = launch_median likewise, 0 when not profiled
//	total  = cpu + max(kernel, launch)
//
// It refuses a template or fallback profile, one for another model, tp or (where
// o.Settings names one) attention backend, and a profile that lacks a table the
// options need.
func NewProfilePredictor(p *Profile, o Options) (Predictor, error) {
	if p == nil {
		return nil, errors.New("simkit: no profile")
	}
	if err := p.checkUsableFor(o); err != nil {
		return nil, err
	}
	tp, pp := max(o.Settings.TP, 1), max(o.Settings.PP, 1)
	if tp != p.Provenance.TP {
		return nil, fmt.Errorf("profile %s: tp %d differs from settings.tp %d", p.Dir, p.Provenance.TP, tp)
	}
	if o.Model.Layers%pp != 0 {
		return nil, fmt.Errorf("model.layers %d is not divisible by settings.pp %d", o.Model.Layers, pp)
	}
	pr := &profilePredictor{
		layersPerStage: float64(o.Model.Layers / pp),
		lastStage:      pp - 1,
		tp:             tp,
		bytesPerToken:  float64(o.Model.Hidden * dtypeBytes(o.Model.DType)),
		lmHead:         o.Model.LMHead,
		cpuOn:          o.CPUOverhead,
		kvSave:         p.kvSave,
		prefill:        p.prefill,
		decode:         p.decode,
		lk:             lookup{allow: o.Extrapolate, seen: map[string]*outOfGrid{}},
	}
	ops := perLayerOps
	if o.Model.PostAttnNorm {
		ops = append(ops[:len(ops):len(ops)], layerOp{"post_attention_layernorm", 1})
	}
	if p.mlp["attn_qk_norm"] != nil {
		ops = append(ops[:len(ops):len(ops)], layerOp{"attn_qk_norm", 1})
	}
	var err error
	if pr.perLayer, err = p.sumOps(ops); err != nil {
		return nil, err
	}
	if pr.lmHead {
		for _, op := range []string{"final_norm", "lm_head", "sampler"} {
			if p.mlp[op] == nil {
				return nil, fmt.Errorf("profile %s: mlp.csv lacks %s, needed because model.lm_head is true",
					p.Dir, medianCol(op))
			}
		}
		pr.emb, pr.finalNorm, pr.lmHeadT, pr.sampl = p.mlp["emb"], p.mlp["final_norm"], p.mlp["lm_head"], p.mlp["sampler"]
	}
	if pr.cpuOn {
		if !p.HasCPU() {
			return nil, fmt.Errorf("profile %s has no cpu_overheads.csv; CPU-overhead modelling "+
				"(Options.CPUOverhead) needs it", p.Dir)
		}
		pr.cpu, pr.launch, pr.cpu2, pr.launch2 = p.cpu, p.launch, p.cpu2, p.launch2
	}
	if tp > 1 {
		if p.allReduce == nil {
			return nil, fmt.Errorf("profile %s has no all_reduce.csv, needed for tp %d", p.Dir, tp)
		}
		pr.allReduce = p.allReduce
	}
	if pp > 1 {
		if p.sendRecv == nil {
			return nil, fmt.Errorf("profile %s has no send_recv.csv, needed for pp %d", p.Dir, pp)
		}
		pr.sendRecv = p.sendRecv
	}
	return pr, nil
}

// sumOps combines per-layer ops into one table. The ops come from the same mlp.csv
// rows, so they share their num_tokens points, and the interpolant of the sum is the
// sum of the interpolants: one look-up per step instead of one per op.
func (p *Profile) sumOps(ops []layerOp) (*table1, error) {
	var sum *table1
	for _, o := range ops {
		t := p.mlp[o.op]
		if t == nil {
			return nil, fmt.Errorf("profile %s: mlp.csv lacks %s", p.Dir, medianCol(o.op))
		}
		if sum == nil {
			sum = &table1{name: "mlp.csv", key: "num_tokens", xs: t.xs, ys: make([]float64, len(t.ys))}
		}
		for i, y := range t.ys {
			sum.ys[i] += o.times * y
		}
	}
	return sum, nil
}

func (pr *profilePredictor) Predict(b Batch) (StepTime, error) {
	if len(b.Items) == 0 {
		return StepTime{}, errors.New("empty batch")
	}
	lk := &pr.lk
	tokens, decodes, context := 0, 0, 0
	for _, it := range b.Items {
		tokens += it.Tokens
		if it.Req.PrefillComplete {
			decodes++
			context += it.Req.Processed
		}
	}
	t, bs := float64(tokens), float64(len(b.Items))
	layer, err := pr.perLayer.at(t, lk)
	if err != nil {
		return StepTime{}, err
	}
	for _, it := range b.Items {
		if it.Req.PrefillComplete {
			continue
		}
		v, err := pr.prefill.at(float64(it.Tokens), float64(it.Req.Processed), lk)
		if err != nil {
			return StepTime{}, err
		}
		layer += v
	}
	var v float64
	add := func(tab *table1, x, times float64) {
		if err == nil && tab != nil {
			v, err = tab.at(x, lk)
			layer += times * v
		}
	}
	add(pr.kvSave, t, 1)
	if decodes > 0 && err == nil {
		v, err = pr.decode.at(float64(decodes), float64(context)/float64(decodes), lk)
		layer += v
	}
	comm := 0.0 // per layer, then per stage
	if pr.allReduce != nil && err == nil {
		v, err = pr.allReduce.at(t*pr.bytesPerToken, lk)
		comm = 2 * v
	}
	kernel := (layer + comm) * pr.layersPerStage
	comm *= pr.layersPerStage
	layer = 0
	if pr.lmHead && b.Stage == 0 {
		add(pr.emb, t, 1)
	}
	if pr.lmHead && b.Stage == pr.lastStage {
		add(pr.finalNorm, t, 1)
		add(pr.lmHeadT, bs, 1)
		add(pr.sampl, bs, 1)
	}
	if b.Stage < pr.lastStage && pr.sendRecv != nil && err == nil {
		v, err = pr.sendRecv.at(t*pr.bytesPerToken, lk)
		layer += v
		comm += v
	}
	kernel += layer
	cpu, launch := 0.0, 0.0
	if pr.cpuOn && err == nil {
		if pr.cpu2 != nil {
			cpu, err = pr.cpu2.at(bs, t, lk)
			if pr.launch2 != nil && err == nil {
				launch, err = pr.launch2.at(bs, t, lk)
			}
		} else {
			cpu, err = pr.cpu.at(bs, lk)
			if pr.launch != nil && err == nil {
				launch, err = pr.launch.at(bs, lk)
			}
		}
	}
	if err != nil {
		return StepTime{}, err
	}
	total := cpu + max(kernel, launch)
	return StepTime{KernelS: kernel * 1e-3, CommS: comm * 1e-3, CPUS: (total - kernel) * 1e-3, TotalS: total * 1e-3}, nil
}

// Warnings lists the look-ups extrapolated so far, one line per table.
func (pr *profilePredictor) Warnings() []string { return pr.lk.warnings() }

// checkUsableFor refuses a profile that may not predict for o: a template or
// fallback source, another model, or another attention backend (when o names one).
func (p *Profile) checkUsableFor(o Options) error {
	if err := p.checkSource(); err != nil {
		return err
	}
	if err := p.checkModel(o.Model); err != nil {
		return err
	}
	if o.Settings.AttentionBackend != "" {
		return p.checkBackend(o.Settings.AttentionBackend)
	}
	return nil
}
