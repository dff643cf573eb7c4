package simkit

import (
	"cmp"
	"fmt"
	"slices"
)

// Helpers shared by the Vidur-derived replica schedulers of this package's
// sched_vllm.go, sched_orca.go, sched_ft.go and sched_lightllm.go.

// Vidur's scheduler defaults (vidur/config/config.py, reference §3), used when a
// setting is unknown (0).
const (
	vidurDefaultCap        = 128  // batch_size_cap
	vidurDefaultBlockSize  = 16   // block_size
	vidurDefaultBatchToken = 4096 // max_tokens_in_batch of vllm and lightllm
	vidurWatermark         = 0.01 // watermark_blocks_fraction
)

// settingOr returns v, or def with a warning naming the setting when v is 0; a
// negative v is an error.
func settingOr(cfg SchedulerConfig, v, def int, setting, vidurName string) (int, error) {
	switch {
	case v < 0:
		return 0, fmt.Errorf("settings.%s %d must not be negative", setting, v)
	case v == 0:
		cfg.Warnf("%s: settings.%s is 0; using Vidur's %s %d", cfg.Name, setting, vidurName, def)
		return def, nil
	}
	return v, nil
}

// maxRequestTokens is Vidur's request-generator max_tokens, which sizes worst-case
// reservations (max_blocks_per_sequence = max_tokens // block_size).
func maxRequestTokens(cfg SchedulerConfig) int {
	if cfg.MaxRequestTokens > 0 {
		return cfg.MaxRequestTokens
	}
	return DefaultMaxRequestTokens
}

// plannedMaxBatchSize is Orca's and FasterTransformer's max_batch_size:
// min(memory planner's max batch size, batch_size_cap). Without GPU memory for the
// planner it falls back to what the block count holds at the worst-case reservation,
// which is the planner's own answer when the block count came from it.
func plannedMaxBatchSize(cfg SchedulerConfig, capSeqs, blockSize, numBlocks int) (int, error) {
	plan, err := PlanMemory(cfg.Model, max(cfg.Settings.TP, 1), max(cfg.NumStages, 1),
		cfg.GPUMemoryGB, maxRequestTokens(cfg), blockSize)
	n := plan.MaxBatchSize
	if err != nil {
		perSeq := maxRequestTokens(cfg) / blockSize
		n = numBlocks / max(perSeq*max(cfg.NumStages, 1), 1)
		cfg.Warnf("%s: memory planner unavailable (%v); max batch size %d from %d blocks at %d blocks per request",
			cfg.Name, err, n, numBlocks, perSeq)
	}
	if n < 1 {
		return 0, fmt.Errorf("not even one request of %d tokens fits", maxRequestTokens(cfg))
	}
	return min(n, capSeqs), nil
}

// vidurNextTokens is Vidur's base _get_request_next_num_tokens: 1 for a decode, else
// the whole (remaining) prompt, since these schedulers never chunk.
func vidurNextTokens(r *SimRequest) int {
	if r.PrefillComplete {
		return 1
	}
	return r.Prompt
}

// itemPool recycles batch item slices between a batch's end and the next batch.
type itemPool struct{ free [][]BatchItem }

func (p *itemPool) get() []BatchItem {
	if n := len(p.free); n > 0 {
		items := p.free[n-1][:0]
		p.free = p.free[:n-1]
		return items
	}
	return nil
}

func (p *itemPool) put(items []BatchItem) {
	clear(items)
	p.free = append(p.free, items[:0])
}

// pagedMemory is the block accounting vLLM, Sarathi and LightLLM share in Vidur: a new
// request reserves its prompt's blocks (leaving the watermark free), a running one
// grows by one block when its processed tokens pass its reservation.
type pagedMemory struct {
	blocks    *BlockManager
	blockSize int
}

// canAllocate: a new request needs its prompt's blocks above the watermark; a running
// one needs one free block whether or not it will take it (as in Vidur).
func (m pagedMemory) canAllocate(r *SimRequest) bool {
	if !m.blocks.Holds(r) {
		return m.blocks.CanAdmit(BlocksFor(r.Prompt, m.blockSize))
	}
	return m.blocks.CanAllocate(1)
}

func (m pagedMemory) allocate(r *SimRequest) {
	if !m.blocks.Holds(r) {
		m.blocks.Allocate(r, BlocksFor(r.Prompt, m.blockSize))
		return
	}
	need := max(0, r.Processed-r.Blocks*m.blockSize)
	if need > 1 {
		panic(fmt.Sprintf("simkit: request %d needs %d tokens of new blocks at once (scheduler bug)", r.Index, need))
	}
	if need == 1 {
		m.blocks.Allocate(r, 1)
	}
}

// sortByArrival orders running requests by arrival time, ties kept in place (Python's
// stable sort by arrived_at).
func sortByArrival(rs []*SimRequest) {
	slices.SortStableFunc(rs, func(a, b *SimRequest) int { return cmp.Compare(a.Request.ArrivalS, b.Request.ArrivalS) })
}
