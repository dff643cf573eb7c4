package simkit

import "fmt"

func init() { RegisterScheduler("vllm", newVLLM) }

// vllm is Vidur's vLLM replica scheduler (reference §3.2): a batch is either all new
// prefills or all decodes, never mixed. Waiting requests are admitted whole, in order,
// while memory (their prompt's blocks above the watermark), the padded token bound
// (count × longest prompt ≤ max_tokens_in_batch), the replica's batch-size cap and
// the micro-batch cap allow; when none is admitted, the running requests decode,
// oldest first, each needing one free block or else restarting the newest running
// request (or itself). No swapping.
//
// Settings: TokenBudget is max_tokens_in_batch (Vidur's default 4096), MaxSeqs is
// batch_size_cap (128), BlockSize (16), NumBlocks (or Vidur's memory planner).
type vllm struct {
	maxBatchTokens int
	cap, microCap  int
	mem            pagedMemory

	waiting RequestQueue  // Vidur's request_queue
	running []*SimRequest // Vidur's preempted_requests: admitted, not in flight
	pool    itemPool
}

func newVLLM(cfg SchedulerConfig) (Scheduler, error) {
	s := &vllm{}
	var err error
	if s.maxBatchTokens, err = settingOr(cfg, cfg.Settings.TokenBudget, vidurDefaultBatchToken, "token_budget", "max_tokens_in_batch"); err != nil {
		return nil, err
	}
	if s.cap, err = settingOr(cfg, cfg.Settings.MaxSeqs, vidurDefaultCap, "max_seqs", "batch_size_cap"); err != nil {
		return nil, err
	}
	if s.mem.blockSize, err = settingOr(cfg, cfg.Settings.BlockSize, vidurDefaultBlockSize, "block_size", "block_size"); err != nil {
		return nil, err
	}
	if s.microCap = s.cap / cfg.NumStages; s.microCap == 0 {
		return nil, fmt.Errorf("max_seqs %d is less than the %d pipeline stages", s.cap, cfg.NumStages)
	}
	n, err := cfg.ResolveNumBlocks(s.mem.blockSize)
	if err != nil {
		return nil, err
	}
	s.mem.blocks = NewBlockManager(n, vidurWatermark)
	return s, nil
}

func (s *vllm) Add(r *SimRequest) { s.waiting.PushBack(r) }

func (s *vllm) Pending() int { return s.waiting.Len() }

func (s *vllm) restart(r *SimRequest) {
	r.Restart()
	s.mem.blocks.Release(r)
	s.waiting.PushFront(r)
}

func (s *vllm) NextBatch(float64) (Batch, bool) {
	items := s.pool.get()
	// Prefill batch: whole prompts, padded to the longest one.
	longest := 0
	for s.waiting.Len() > 0 {
		r := s.waiting.Front()
		n := vidurNextTokens(r)
		if !s.mem.canAllocate(r) ||
			(len(items)+1)*max(longest, n) > s.maxBatchTokens ||
			s.mem.blocks.Holders() == s.cap ||
			len(items) == s.microCap {
			break
		}
		s.waiting.PopFront()
		s.mem.allocate(r)
		items = append(items, BatchItem{Req: r, Tokens: n})
		longest = max(longest, n)
	}
	if len(items) > 0 {
		return Batch{Items: items}, true
	}

	// Decode batch: running requests by arrival; one that cannot get a block restarts
	// the newest other running request, or itself when none is left.
	sortByArrival(s.running)
	head, tail := 0, len(s.running)
	for head < tail && len(items) < s.microCap {
		r := s.running[head]
		head++
		fits := true
		for !s.mem.canAllocate(r) {
			if head < tail {
				tail--
				s.restart(s.running[tail])
				continue
			}
			s.restart(r)
			fits = false
			break
		}
		if fits {
			s.mem.allocate(r)
			items = append(items, BatchItem{Req: r, Tokens: vidurNextTokens(r)})
		}
	}
	n := copy(s.running, s.running[head:tail])
	clear(s.running[n:])
	s.running = s.running[:n]
	if len(items) == 0 {
		s.pool.put(items)
		return Batch{}, false
	}
	return Batch{Items: items}, true
}

func (s *vllm) OnBatchEnd(b Batch, _ float64) {
	for _, it := range b.Items {
		if it.Req.Completed {
			s.mem.blocks.Release(it.Req)
		} else {
			s.running = append(s.running, it.Req)
		}
	}
	s.pool.put(b.Items)
}
