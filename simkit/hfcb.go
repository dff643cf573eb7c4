package simkit

import (
	"fmt"
	"slices"
)

// The transformers continuous-batching engine's resolved defaults on the H200
// (notes/hfcb-scheduler.md), used when a setting is unknown (0).
const (
	HFCBDefaultTokenBudget = 8192 // max_batch_tokens
	HFCBDefaultMaxSeqs     = 1024 // max_requests_per_batch
	HFCBDefaultBlockSize   = 256
	// Safety margins: the fraction of blocks under which no new or split prefill is
	// scheduled once something is in the batch. FIFO defaults to 0.15, prefill-first
	// to 0.
	hfcbFIFOSafetyMargin         = 0.15
	hfcbPrefillFirstSafetyMargin = 0.0
)

func init() { RegisterScheduler("hfcb", newHFCB) }

// hfcb is the scheduler of transformers' continuous batching ("hfcb", "hfcb:fifo",
// "hfcb:prefill_first"). Every step it walks candidates in priority order — running
// decodes, then split prefills (swapped by prefill_first), then waiting requests in
// arrival order — giving each its next tokens from one token budget, so a prompt is
// split by whatever budget is left. Blocks are allocated per step with the engine's
// formula; below the safety margin only decodes (and the first item) get in; active
// requests that cannot get a block are soft-reset (restarted) newest first, after which
// no waiting request is admitted until some request finishes. The KV length of a
// request (the engine's position_offset) is Processed, less the sampled token once the
// prefill is complete.
type hfcb struct {
	prefillFirst bool
	budget       int     // max_batch_tokens
	maxReqs      int     // max_requests_per_batch
	blockSize    int     // tokens per block
	safetyBlocks float64 // safety_margin × num_blocks
	blocks       *BlockManager
	blockNew     bool // block_new_requests: set by a soft reset, cleared by a finish
	warn         func(string, ...any)

	waiting []*SimRequest // arrival order; soft-reset requests go to the back
	active  []*SimRequest // in the order they first entered a batch; they hold blocks

	// scratch, reused every batch
	cands       []*SimRequest
	starved     []*SimRequest
	starvedNeed []int
	itemPool    [][]BatchItem
}

func newHFCB(cfg SchedulerConfig) (Scheduler, error) {
	s := &hfcb{
		budget:    cfg.Settings.TokenBudget,
		maxReqs:   cfg.Settings.MaxSeqs,
		blockSize: cfg.Settings.BlockSize,
		warn:      cfg.Warnf,
	}
	margin := hfcbFIFOSafetyMargin
	switch cfg.SubPolicy {
	case "", "fifo":
	case "prefill_first":
		s.prefillFirst = true
		margin = hfcbPrefillFirstSafetyMargin
	default:
		return nil, fmt.Errorf("hfcb: sub-policy %q is not one of fifo, prefill_first", cfg.SubPolicy)
	}
	if cfg.NumStages > 1 {
		return nil, fmt.Errorf("hfcb: pp %d: transformers' continuous batching has no pipeline stages to model",
			cfg.NumStages)
	}
	if s.budget == 0 {
		s.budget = HFCBDefaultTokenBudget
		cfg.Warnf("hfcb: settings.token_budget is 0; using max_batch_tokens %d", s.budget)
	}
	if s.maxReqs == 0 {
		s.maxReqs = HFCBDefaultMaxSeqs
		cfg.Warnf("hfcb: settings.max_seqs is 0; using max_requests_per_batch %d", s.maxReqs)
	}
	if s.blockSize == 0 {
		s.blockSize = HFCBDefaultBlockSize
		cfg.Warnf("hfcb: settings.block_size is 0; using block size %d", s.blockSize)
	}
	if s.budget < 0 || s.maxReqs < 0 || s.blockSize < 0 {
		return nil, fmt.Errorf("hfcb: token_budget %d, max_seqs %d and block_size %d must not be negative",
			s.budget, s.maxReqs, s.blockSize)
	}
	// The engine caps the requests per batch at the token budget.
	s.maxReqs = min(s.maxReqs, s.budget)
	n, err := cfg.ResolveNumBlocks(s.blockSize)
	if err != nil {
		return nil, err
	}
	s.blocks = NewBlockManager(n, 0)
	s.safetyBlocks = margin * float64(n)
	return s, nil
}

func (s *hfcb) Add(r *SimRequest) { s.waiting = append(s.waiting, r) }

func (s *hfcb) Pending() int { return len(s.waiting) }

// hfcbCachedLen is the request's KV length before its next step (position_offset).
func hfcbCachedLen(r *SimRequest) int {
	if r.PrefillComplete {
		return r.Processed - 1
	}
	return r.Processed
}

// allocate gives r the blocks its next n tokens need, with the engine's formula
// ((n − free slots + 1) // block_size + 1, which can take one block more than needed).
// A refused active request is recorded as starved with its demand.
func (s *hfcb) allocate(r *SimRequest, n int) bool {
	free := r.Blocks*s.blockSize - hfcbCachedLen(r)
	if free >= n && r.Blocks > 0 {
		return true
	}
	need := (n-free+1)/s.blockSize + 1
	if !s.blocks.CanAllocate(need) {
		if s.blocks.Holds(r) {
			s.starved = append(s.starved, r)
			s.starvedNeed = append(s.starvedNeed, need)
		}
		return false
	}
	s.blocks.Allocate(r, need)
	return true
}

// candidates lists the step's candidates in priority order; waiting ones come last.
func (s *hfcb) candidates() []*SimRequest {
	c := s.cands[:0]
	for _, r := range s.active {
		if r.PrefillComplete != s.prefillFirst {
			c = append(c, r)
		}
	}
	for _, r := range s.active {
		if r.PrefillComplete == s.prefillFirst {
			c = append(c, r)
		}
	}
	if !s.blockNew {
		c = append(c, s.waiting...)
	}
	s.cands = c
	return c
}

// schedule is one scheduling pass (the engine's _process_candidates). It reports
// whether some allocation failed.
func (s *hfcb) schedule(items []BatchItem) ([]BatchItem, bool) {
	s.starved, s.starvedNeed = s.starved[:0], s.starvedNeed[:0]
	budget, reqs, failed, admitted := s.budget, s.maxReqs, false, false
	for _, r := range s.candidates() {
		free := s.blocks.FreeBlocks()
		if float64(free) < s.safetyBlocks && len(items) > 0 && !r.PrefillComplete {
			break
		}
		want := 1
		if !r.PrefillComplete {
			want = r.Prompt - r.Processed
		}
		n := min(want, budget)
		waiting := !s.blocks.Holds(r)
		if !s.allocate(r, n) {
			failed = true
			if free == 0 && waiting {
				break
			}
			continue
		}
		if waiting {
			s.active = append(s.active, r)
			admitted = true
		}
		items = append(items, BatchItem{Req: r, Tokens: n})
		budget -= n
		reqs--
		if budget == 0 || reqs <= 0 {
			break
		}
	}
	if admitted {
		s.waiting = slices.DeleteFunc(s.waiting, s.blocks.Holds)
	}
	return items, failed
}

// offload soft-resets starved active requests, newest first, until the demand of the
// remaining starved ones fits in the free blocks; it never evicts the last active
// request. It returns the number of requests reset.
func (s *hfcb) offload() int {
	free, demand := s.blocks.FreeBlocks(), 0
	for _, n := range s.starvedNeed {
		demand += n
	}
	k := len(s.starved) // victims are s.starved[k:]
	for demand > free && k > 0 && len(s.active)-(len(s.starved)-k) > 1 {
		k--
		demand -= s.starvedNeed[k]
		free += s.starved[k].Blocks
	}
	victims := s.starved[k:]
	for _, r := range victims { // oldest victim first, so they requeue in order
		if r.PrefillComplete {
			r.Restart() // prompt := prompt + generated, decode := the rest
		} else {
			r.Processed = 0 // a split prefill starts over with its whole prompt
			r.Restarts++
		}
		s.blocks.Release(r)
		s.waiting = append(s.waiting, r)
	}
	if len(victims) > 0 {
		s.active = slices.DeleteFunc(s.active, func(r *SimRequest) bool { return !s.blocks.Holds(r) })
		s.blockNew = true
	}
	s.starved, s.starvedNeed = s.starved[:k], s.starvedNeed[:k]
	return len(victims)
}

func (s *hfcb) NextBatch(float64) (Batch, bool) {
	var items []BatchItem
	if n := len(s.itemPool); n > 0 {
		items, s.itemPool = s.itemPool[n-1][:0], s.itemPool[:n-1]
	}
	items, failed := s.schedule(items)
	for len(items) == 0 && failed {
		if s.offload() == 0 {
			s.warn("hfcb: no request can be scheduled and none can be soft-reset " +
				"(the real engine raises RuntimeError here)")
			break
		}
		items, failed = s.schedule(items)
	}
	if len(items) == 0 {
		s.itemPool = append(s.itemPool, items)
		return Batch{}, false
	}
	if len(s.starved) > 0 {
		s.offload()
	}
	return Batch{Items: items}, true
}

func (s *hfcb) OnBatchEnd(b Batch, _ float64) {
	finished := false
	for _, it := range b.Items {
		if it.Req.Completed {
			s.blocks.Release(it.Req)
			finished = true
		}
	}
	if finished {
		s.active = slices.DeleteFunc(s.active, func(r *SimRequest) bool { return !s.blocks.Holds(r) })
		s.blockNew = false
	}
	clear(b.Items)
	s.itemPool = append(s.itemPool, b.Items[:0])
}
