package simkit

import (
	"errors"
	"fmt"
	"math"

	"github.com/simval/simval/simkit/vidurfmt"
)

// VidurParityConfig holds what Vidur's execution-time predictor reads besides its
// prediction tables (reference §4 and §6): the model and parallelism, the look-up
// rules' constants, and whether CPU overhead is modelled.
type VidurParityConfig struct {
	Layers       int  // num_layers
	TP, PP       int  // tensor_parallel_size, num_pipeline_stages
	PostAttnNorm bool // post_attn_norm: adds post_attention_layernorm
	// GQA is num_q_heads > num_kv_heads; only then do the batching overheads apply.
	GQA                     bool
	KVGranularity           int     // kv_cache_prediction_granularity (64)
	DecodeBatchingOverhead  float64 // attention_decode_batching_overhead_fraction (0.1)
	PrefillBatchingOverhead float64 // attention_prefill_batching_overhead_fraction (0.1)
	NCCLLaunchMS            float64 // nccl_cpu_launch_overhead_ms (0.02)
	NCCLSkewPerDeviceMS     float64 // nccl_cpu_skew_overhead_per_device_ms (0)
	// CPUOverhead is !skip_cpu_overhead_modeling: add the five CPU terms at batch size.
	CPUOverhead bool
}

// VidurParityPredictor predicts step times exactly as Vidur's sklearn predictor does
// from its cached prediction tables: every look-up is exact (a missing key is an
// error where Vidur raises KeyError), times are float64 milliseconds combined in
// Vidur's order and converted to seconds at the end, so that a simulation reproduces
// Vidur's event times. Per step and stage, with T = Σ tokens and T8 = ceil8(T):
//
//	tp_comm = tp > 1 ? all_reduce[T8] + nccl_launch + nccl_skew·tp^1.25 : 0
//	attn    = pre_proj[T8] + post_proj[T8] + rope[T8] + kv_cache_save[T] + decode + prefill
//	        + tp_comm + input_layernorm[T8]
//	mlp     = up_proj[T8] + down_proj[T8] + act[T8] + tp_comm + post_attention_layernorm[T8]
//	model   = ((attn + mlp + add[T8]) · layers/pp + (last stage ? 0 : send_recv[T8])) · 1e-3
//	cpu     = schedule + sampler_e2e + prepare_inputs_e2e + process_model_outputs + ray_comm_time,
//	          each at the batch size, when CPU overhead is on
//	total   = model + cpu · 1e-3
//
// decode = attn_decode[(b, ceil_g(⌊mean processed⌋))]·(1 + f·[b > 1]) over the b
// requests past their prefill; prefill = attn_prefill[(Σ ceil_g(processed_i),
// round(√Σ chunk_i²)²)]·(1 + f·[prefills > 1]).
//
// It also keeps, per request, Vidur's Σ execution time, Σ model time and (with one
// pipeline stage) Σ preemption gaps, and the request itself, for request_metrics.csv
// (see Request).
type VidurParityPredictor struct {
	c              VidurParityConfig
	layersPerStage float64
	tok            map[string]*vidurfmt.Table1D
	pre, post      *vidurfmt.Table1D
	rope, kvSave   *vidurfmt.Table1D
	up, down, act  *vidurfmt.Table1D
	inLN, postLN   *vidurfmt.Table1D
	add            *vidurfmt.Table1D
	allReduce      *vidurfmt.Table1D
	sendRecv       *vidurfmt.Table1D
	cpu            [5]*vidurfmt.Table1D
	decode         *vidurfmt.Table2D
	prefill        *vidurfmt.Table2D

	reqs []vidurRequestState
}

// VidurRequestTimes is what Vidur sums per request over the stages it ran in.
type VidurRequestTimes struct {
	ExecutionS      float64 // Σ stage total time (CPU included)
	ModelExecutionS float64 // Σ stage model time
	// PreemptionS is Σ gaps from one of its stage ends to its next stage start, kept
	// only with one pipeline stage (then a stage starts when its batch is scheduled,
	// which the predictor can see); HasPreemption says whether it was kept.
	PreemptionS   float64
	HasPreemption bool
}

type vidurRequestState struct {
	req *SimRequest
	VidurRequestTimes
}

// NewVidurParityPredictor checks that p holds every table the configuration needs.
func NewVidurParityPredictor(p *vidurfmt.Predictions, c VidurParityConfig) (*VidurParityPredictor, error) {
	switch {
	case p == nil:
		return nil, errors.New("vidur parity: no prediction tables")
	case c.Layers < 1 || c.TP < 1 || c.PP < 1 || c.Layers%c.PP != 0:
		return nil, fmt.Errorf("vidur parity: layers %d, tp %d, pp %d: need all ≥ 1 and pp dividing layers", c.Layers, c.TP, c.PP)
	case c.KVGranularity < 1:
		return nil, fmt.Errorf("vidur parity: kv_cache_prediction_granularity %d must be ≥ 1", c.KVGranularity)
	}
	pr := &VidurParityPredictor{c: c, layersPerStage: float64(c.Layers / c.PP), tok: p.Token}
	var missing []string
	need := func(op string, from map[string]*vidurfmt.Table1D) *vidurfmt.Table1D {
		t := from[op]
		if t == nil {
			missing = append(missing, op)
		}
		return t
	}
	pr.pre, pr.post = need(vidurfmt.OpAttnPreProj, p.Token), need(vidurfmt.OpAttnPostProj, p.Token)
	pr.rope, pr.kvSave = need(vidurfmt.OpAttnRope, p.Token), need(vidurfmt.OpAttnKVCacheSave, p.Token)
	pr.up, pr.down = need(vidurfmt.OpMLPUpProj, p.Token), need(vidurfmt.OpMLPDownProj, p.Token)
	pr.act, pr.inLN = need(vidurfmt.OpMLPAct, p.Token), need(vidurfmt.OpInputLayernorm, p.Token)
	pr.add = need(vidurfmt.OpAdd, p.Token)
	if c.PostAttnNorm {
		pr.postLN = need(vidurfmt.OpPostAttentionLayernorm, p.Token)
	}
	if c.TP > 1 {
		pr.allReduce = need(vidurfmt.OpAllReduce, p.Token)
	}
	if c.PP > 1 {
		pr.sendRecv = need(vidurfmt.OpSendRecv, p.Token)
	}
	if c.CPUOverhead {
		for i, op := range vidurfmt.CPUOps {
			pr.cpu[i] = need(op, p.CPU)
		}
	}
	if pr.decode = p.AttnDecode; pr.decode == nil {
		missing = append(missing, vidurfmt.OpAttnDecode)
	}
	if pr.prefill = p.AttnPrefill; pr.prefill == nil {
		missing = append(missing, vidurfmt.OpAttnPrefill)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("vidur parity: %s lacks prediction tables %v", p.Dir, missing)
	}
	return pr, nil
}

// keyError is Vidur's KeyError: the prediction grid has no such key.
func keyError(op string, key ...int) error {
	return fmt.Errorf("vidur parity: %s has no prediction for %v (Vidur raises KeyError here; "+
		"widen its prediction_max_* settings)", op, key)
}

func at1(t *vidurfmt.Table1D, key int) (float64, error) {
	v, ok := t.At(key)
	if !ok {
		return 0, keyError(t.Op, key)
	}
	return v, nil
}

// ceilTo rounds n up to a multiple of g.
func ceilTo(n, g int) int { return (n + g - 1) / g * g }

// Predict is Vidur's get_execution_time for b at stage b.Stage.
func (pr *VidurParityPredictor) Predict(b Batch) (StepTime, error) {
	if len(b.Items) == 0 {
		return StepTime{}, errors.New("vidur parity: empty batch")
	}
	g := pr.c.KVGranularity
	tokens, decodes, decodeSum, prefills, kvSum, chunkSq := 0, 0, 0, 0, 0, 0
	for _, it := range b.Items {
		tokens += it.Tokens
		if it.Req.PrefillComplete {
			decodes++
			decodeSum += it.Req.Processed
		} else {
			prefills++
			kvSum += ceilTo(it.Req.Processed, g)
			chunkSq += it.Tokens * it.Tokens
		}
	}
	t8 := ceilTo(tokens, 8)
	var err error
	get := func(t *vidurfmt.Table1D, key int) float64 {
		if err != nil || t == nil {
			return 0
		}
		var v float64
		v, err = at1(t, key)
		return v
	}
	// Look-ups in the order Vidur's get_execution_time makes them, so that the first
	// missing key is the one Vidur would report.
	ppComm := 0.0
	if b.Stage < pr.c.PP-1 {
		ppComm = get(pr.sendRecv, t8)
	}
	tpComm := 0.0
	if pr.c.TP > 1 {
		tpComm = get(pr.allReduce, t8) + pr.c.NCCLLaunchMS + float64(pr.c.NCCLSkewPerDeviceMS*math.Pow(float64(pr.c.TP), 1.25))
	}
	rope, kvSave := get(pr.rope, t8), get(pr.kvSave, tokens)
	if err != nil {
		return StepTime{}, err
	}
	decode := 0.0
	if decodes > 0 {
		// int(np.mean(kv)) of non-negative integers is their floor mean.
		kv := ceilTo(decodeSum/decodes, g)
		v, ok := pr.decode.At(decodes, kv)
		if !ok {
			return StepTime{}, keyError(pr.decode.Op, decodes, kv)
		}
		decode = v * (1 + float64(pr.overhead(pr.c.DecodeBatchingOverhead)*indicator(decodes > 1)))
	}
	prefill := 0.0
	if prefills > 0 {
		c := math.RoundToEven(math.Sqrt(float64(chunkSq)))
		key := int(c) * int(c)
		v, ok := pr.prefill.At(kvSum, key)
		if !ok {
			return StepTime{}, keyError(pr.prefill.Op, kvSum, key)
		}
		prefill = v * (1 + float64(pr.overhead(pr.c.PrefillBatchingOverhead)*indicator(prefills > 1)))
	}
	pre, post := get(pr.pre, t8), get(pr.post, t8)
	up, down, act := get(pr.up, t8), get(pr.down, t8), get(pr.act, t8)
	inLN, postLN, add := get(pr.inLN, t8), get(pr.postLN, t8), get(pr.add, t8)
	attn := pre + post + rope + kvSave + decode + prefill + tpComm + inLN
	mlp := up + down + act + tpComm + postLN
	block := attn + mlp + add
	cpu := 0.0
	if pr.c.CPUOverhead {
		bs := len(b.Items)
		cpu = get(pr.cpu[0], bs) + get(pr.cpu[1], bs) + get(pr.cpu[2], bs) + get(pr.cpu[3], bs) + get(pr.cpu[4], bs)
	}
	if err != nil {
		return StepTime{}, err
	}
	// float64(…) around each product rounds it before the sum, as Python does: Go may
	// otherwise fuse a multiply-add (it does on arm64) and change the last bit.
	model := (float64(block*pr.layersPerStage) + ppComm) * 1e-3
	cpuS := float64(cpu * 1e-3)
	total := model + cpuS
	for _, it := range b.Items {
		st := pr.state(it.Req)
		if pr.c.PP == 1 {
			// Vidur's on_batch_stage_schedule: the gap since the last stage end, the
			// first stage excepted (its latest_stage_completed_at is still 0).
			st.HasPreemption = true
			if r := it.Req; r.LatestIterationCompletedS == 0 {
				st.PreemptionS = 0
			} else {
				st.PreemptionS += r.LatestIterationScheduledS - r.LatestIterationCompletedS
			}
		}
		st.ExecutionS += total
		st.ModelExecutionS += model
	}
	return StepTime{KernelS: model, CPUS: cpuS, TotalS: total}, nil
}

// overhead is f where the model uses grouped-query attention, else 0 (Vidur applies
// the batching overheads to GQA models only).
func (pr *VidurParityPredictor) overhead(f float64) float64 {
	if pr.c.GQA {
		return f
	}
	return 0
}

func indicator(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (pr *VidurParityPredictor) state(r *SimRequest) *vidurRequestState {
	for len(pr.reqs) <= r.Index {
		pr.reqs = append(pr.reqs, vidurRequestState{})
	}
	st := &pr.reqs[r.Index]
	st.req = r
	return st
}

// Request returns the simulator's state of the request at workload position index
// and Vidur's per-request time sums, or false when no batch has held it yet. The
// state is live: read it when the request completes (e.g. from SimulateStream's emit).
func (pr *VidurParityPredictor) Request(index int) (*SimRequest, VidurRequestTimes, bool) {
	if index < 0 || index >= len(pr.reqs) || pr.reqs[index].req == nil {
		return nil, VidurRequestTimes{}, false
	}
	st := pr.reqs[index]
	return st.req, st.VidurRequestTimes, true
}
