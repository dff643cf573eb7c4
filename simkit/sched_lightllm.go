package simkit

import (
	"fmt"
	"slices"
	"strconv"
)

func init() { RegisterScheduler("lightllm", newLightLLM) }

// lightLLMDefaultWaitingIters is Vidur's max_waiting_iters.
const lightLLMDefaultWaitingIters = 10

// lightLLM is Vidur's LightLLM replica scheduler (reference §3.2): token-level memory
// (block size 1), prefill-only or decode-only batches. With nothing running it forms
// a prefill batch; otherwise after max_waiting_iters decode steps it tries a prefill
// batch, and else decodes every running request. A waiting request is admitted while
// Σ prompts ≤ max_tokens_in_batch, the caps allow, and LightLLM's estimate of the
// peak memory of all running and admitted requests stays below the block count: with
// (used, remaining) token pairs sorted by remaining, descending,
// max_i(remaining_i·(i+1) + Σ_{j≤i} used_j) < num_blocks.
//
// Settings: TokenBudget is max_tokens_in_batch (4096), MaxSeqs batch_size_cap (128),
// BlockSize must be 1 (0 means 1), NumBlocks (or the memory planner), PP must be 1.
// The scheduler name may carry max_waiting_iters: "lightllm:20".
//
// Where Vidur raises "OOM handling not implemented yet" (the running requests need
// more blocks than are free), this scheduler stops forming batches and warns, so
// the simulation ends with the stalled requests reported.
type lightLLM struct {
	maxBatchTokens int
	cap            int
	maxWaiting     int
	blocks         *BlockManager
	waiting        RequestQueue
	running        []*SimRequest // Vidur's preempted_requests
	waitingIters   int
	cache          []lightLLMUse // scratch: Vidur's cache_len_list
	pool           itemPool
	oom            func(need, free int)
}

// lightLLMUse is one request's (tokens used, tokens still to come) pair.
type lightLLMUse struct{ used, remaining int }

func newLightLLM(cfg SchedulerConfig) (Scheduler, error) {
	if cfg.NumStages != 1 {
		return nil, fmt.Errorf("lightllm does not support pipeline parallelism (pp %d)", cfg.NumStages)
	}
	s := &lightLLM{maxWaiting: lightLLMDefaultWaitingIters}
	var err error
	if s.maxBatchTokens, err = settingOr(cfg, cfg.Settings.TokenBudget, vidurDefaultBatchToken, "token_budget", "max_tokens_in_batch"); err != nil {
		return nil, err
	}
	if s.cap, err = settingOr(cfg, cfg.Settings.MaxSeqs, vidurDefaultCap, "max_seqs", "batch_size_cap"); err != nil {
		return nil, err
	}
	switch cfg.Settings.BlockSize {
	case 0:
		cfg.Warnf("lightllm: settings.block_size is 0; using 1, the only block size LightLLM supports")
	case 1:
	default:
		return nil, fmt.Errorf("lightllm needs block_size 1 (token-level memory), got %d", cfg.Settings.BlockSize)
	}
	if cfg.SubPolicy != "" {
		n, err := strconv.Atoi(cfg.SubPolicy)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("lightllm:%s: the sub-policy is max_waiting_iters, a whole number ≥ 1", cfg.SubPolicy)
		}
		s.maxWaiting = n
	}
	n, err := cfg.ResolveNumBlocks(1)
	if err != nil {
		return nil, err
	}
	s.blocks = NewBlockManager(n, 0)
	s.oom = func(need, free int) {
		cfg.Warnf("lightllm: %d running requests need %d blocks, %d are free; Vidur raises "+
			"\"OOM handling not implemented yet\" here, so no further batch is formed", need, need, free)
	}
	return s, nil
}

func (s *lightLLM) Add(r *SimRequest) { s.waiting.PushBack(r) }

func (s *lightLLM) Pending() int { return s.waiting.Len() }

// use is Vidur's _get_tuple_tokens: a request not yet scheduled will use its prompt
// plus the first token and has D−2 to come; a scheduled one uses what it processed
// and has D − decoded − 1 to come (never below 0).
func lightLLMUseOf(r *SimRequest) lightLLMUse {
	if !r.Scheduled {
		return lightLLMUse{used: r.Prompt + 1, remaining: max(0, r.Decode-2)}
	}
	decoded := max(r.Processed-r.Prompt, 0)
	return lightLLMUse{used: r.Processed, remaining: max(0, r.Decode-decoded-1)}
}

// admits adds r to the estimate and reports whether the peak stays below the block
// count. As in Vidur, r stays in the estimate either way (admission stops at the
// first refusal).
func (s *lightLLM) admits(r *SimRequest) bool {
	s.cache = append(s.cache, lightLLMUseOf(r))
	slices.SortStableFunc(s.cache, func(a, b lightLLMUse) int { return b.remaining - a.remaining })
	peak, used := 0, 0
	for i, u := range s.cache {
		used += u.used
		peak = max(peak, u.remaining*(i+1)+used)
	}
	return peak < s.blocks.NumBlocks()
}

func (s *lightLLM) prefillBatch() (Batch, bool) {
	s.cache = s.cache[:0]
	for _, r := range s.running {
		s.cache = append(s.cache, lightLLMUseOf(r))
	}
	items := s.pool.get()
	tokens := 0
	for s.waiting.Len() > 0 {
		r := s.waiting.Front()
		n := vidurNextTokens(r)
		if tokens+n > s.maxBatchTokens || s.blocks.Holders() == s.cap || len(items) == s.cap || !s.admits(r) {
			break
		}
		s.waiting.PopFront()
		s.blocks.Allocate(r, r.Prompt)
		items = append(items, BatchItem{Req: r, Tokens: n})
		tokens += n
	}
	if len(items) == 0 {
		s.pool.put(items)
		return Batch{}, false
	}
	return Batch{Items: items}, true
}

func (s *lightLLM) decodeBatch() (Batch, bool) {
	items := s.pool.get()
	for _, r := range s.running {
		s.blocks.Allocate(r, 1)
		items = append(items, BatchItem{Req: r, Tokens: vidurNextTokens(r)})
	}
	clear(s.running)
	s.running = s.running[:0]
	return Batch{Items: items}, true
}

func (s *lightLLM) NextBatch(float64) (Batch, bool) {
	if len(s.running) == 0 {
		b, ok := s.prefillBatch()
		if ok {
			s.waitingIters = 0
		}
		return b, ok
	}
	if s.waitingIters >= s.maxWaiting {
		s.waitingIters = 0
		if b, ok := s.prefillBatch(); ok {
			return b, true
		}
	}
	if !s.blocks.CanAllocate(len(s.running)) {
		s.oom(len(s.running), s.blocks.FreeBlocks())
		return Batch{}, false
	}
	s.waitingIters++
	return s.decodeBatch()
}

func (s *lightLLM) OnBatchEnd(b Batch, _ float64) {
	for _, it := range b.Items {
		if it.Req.Completed {
			s.blocks.Release(it.Req)
		} else {
			s.running = append(s.running, it.Req)
		}
	}
	s.pool.put(b.Items)
}
