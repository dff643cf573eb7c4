package vidur

import (
	"fmt"

	"github.com/simval/simval/simkit"
	"github.com/simval/simval/simkit/vidurfmt"
	"github.com/simval/simval/validation"
)

// vidurWatermark is the watermark_blocks_fraction simkit's paged schedulers use.
const vidurWatermark = 0.01

// SchedulerName maps Vidur's replica scheduler type to simkit's registered name,
// with LightLLM's max_waiting_iters as its sub-policy.
func SchedulerName(s vidurfmt.SchedulerConfig) (string, error) {
	switch s.Name {
	case "sarathi", "vllm", "orca":
		return s.Name, nil
	case "faster_transformer":
		return "fastertransformer", nil
	case "lightllm":
		return fmt.Sprintf("lightllm:%d", s.MaxWaitingIters), nil
	}
	return "", fmt.Errorf("replica_scheduler_config.name %q is not one of sarathi, vllm, orca, faster_transformer, lightllm", s.Name)
}

// ModelSpec is the model as Vidur sees it: head dimension embedding/q_heads, no LM
// head, fp16.
func ModelSpec(m vidurfmt.ModelConfig) simkit.ModelSpec {
	return simkit.ModelSpec{
		Name: m.Name, Layers: m.NumLayers, Hidden: m.EmbeddingDim, QHeads: m.NumQHeads, KVHeads: m.NumKVHeads,
		HeadDim: m.VidurHeadDim(), Intermediate: m.MLPHiddenDim, Vocab: m.VocabSize,
		TiedEmbeddings: m.TiedEmbeddings, GatedMLP: m.UseGatedMLP, PostAttnNorm: m.PostAttnNorm,
		LMHead: false, DType: "fp16",
	}
}

// ParityOptions returns the simkit options under which a simulation reproduces the
// Vidur run configured by cfg, predicting from preds (that run's cached prediction
// tables): Vidur's model view, its scheduler and settings (num_blocks from its memory
// planner when the configuration leaves it null), its look-up predictor, CPU overhead
// only if the run modelled it, its replicas and global scheduler.
//
// Configurations simkit cannot reproduce are refused with the field named: a
// time_limit (Vidur silently drops unfinished requests), the random global scheduler
// (Python's Mersenne Twister), a watermark other than 0.01, and for Orca and
// FasterTransformer a memory margin other than 0.1.
func ParityOptions(cfg vidurfmt.RunConfig, preds *vidurfmt.Predictions) (simkit.Options, error) {
	var o simkit.Options
	sched, err := SchedulerName(cfg.Scheduler)
	if err != nil {
		return o, err
	}
	switch {
	case cfg.TimeLimitS != 0:
		return o, fmt.Errorf("time_limit %g: parity mode runs every request to completion", cfg.TimeLimitS)
	case cfg.GlobalScheduler == simkit.GlobalRandom && cfg.NumReplicas > 1:
		return o, fmt.Errorf("global_scheduler_config.name random: Vidur draws from Python's random module, which simkit does not reproduce")
	case (cfg.Scheduler.Name == "sarathi" || cfg.Scheduler.Name == "vllm") && cfg.Scheduler.WatermarkBlocksFraction != vidurWatermark:
		return o, fmt.Errorf("replica_scheduler_config.watermark_blocks_fraction %g: simkit's schedulers keep Vidur's default %g",
			cfg.Scheduler.WatermarkBlocksFraction, vidurWatermark)
	case (cfg.Scheduler.Name == "orca" || cfg.Scheduler.Name == "faster_transformer") && cfg.MemoryMarginFraction != 0.1:
		return o, fmt.Errorf("replica_config.memory_margin_fraction %g: simkit's planner for %s keeps Vidur's default 0.1",
			cfg.MemoryMarginFraction, cfg.Scheduler.Name)
	case cfg.NumReplicas < 1:
		return o, fmt.Errorf("cluster_config.num_replicas %d must be ≥ 1", cfg.NumReplicas)
	}
	numBlocks := cfg.Scheduler.NumBlocks
	if numBlocks == 0 {
		plan, err := PlanMemory(cfg)
		if err != nil {
			return o, err
		}
		numBlocks = plan.NumBlocks
	}
	budget := cfg.Scheduler.MaxTokensInBatch
	if cfg.Scheduler.Name == "sarathi" {
		budget = cfg.Scheduler.ChunkSize
	}
	pred, err := simkit.NewVidurParityPredictor(preds, simkit.VidurParityConfig{
		Layers: cfg.Model.NumLayers, TP: cfg.TP, PP: cfg.PP,
		PostAttnNorm:            cfg.Model.PostAttnNorm,
		GQA:                     cfg.Model.NumQHeads > cfg.Model.NumKVHeads,
		KVGranularity:           cfg.Predictor.KVCachePredictionGranularity,
		DecodeBatchingOverhead:  cfg.Predictor.AttentionDecodeBatchingOverhead,
		PrefillBatchingOverhead: cfg.Predictor.AttentionPrefillBatchingOverhead,
		NCCLLaunchMS:            cfg.Predictor.NCCLCPULaunchOverheadMS,
		NCCLSkewPerDeviceMS:     cfg.Predictor.NCCLCPUSkewOverheadPerDeviceMS,
		CPUOverhead:             !cfg.Predictor.SkipCPUOverheadModeling,
	})
	if err != nil {
		return o, err
	}
	return simkit.Options{
		Model: ModelSpec(cfg.Model),
		Settings: validation.EngineSettings{
			Scheduler: sched, TokenBudget: budget, MaxSeqs: cfg.Scheduler.BatchSizeCap,
			BlockSize: cfg.Scheduler.BlockSize, NumBlocks: numBlocks, TP: cfg.TP, PP: cfg.PP,
			DType: "fp16", Model: cfg.ModelName,
		},
		Predictor:        pred,
		CPUOverhead:      !cfg.Predictor.SkipCPUOverheadModeling,
		Replicas:         cfg.NumReplicas,
		GlobalScheduler:  cfg.GlobalScheduler,
		LORQueueOnly:     true, // Vidur's lor counts waiting requests only
		Seed:             uint64(cfg.Seed),
		GPUMemoryGB:      cfg.DeviceTotalMemoryGB,
		MaxRequestTokens: cfg.Trace.MaxTokens,
	}, nil
}
