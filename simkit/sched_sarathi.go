package simkit

import (
	"cmp"
	"fmt"
	"slices"
)

// Vidur's Sarathi defaults (reference §3.1), used when a setting is unknown (0).
const (
	sarathiDefaultChunk     = 512
	sarathiDefaultCap       = 128
	sarathiDefaultBlockSize = 16
	sarathiWatermark        = 0.01
)

func init() { RegisterScheduler("sarathi", newSarathi) }

// sarathi is Vidur's Sarathi-Serve replica scheduler (reference §3.1): chunked
// prefills that share a token budget with decodes, a batch-size cap for the replica
// and a micro-batch cap per pipeline stage, block-counted memory with a 0.01
// watermark for admissions, and preemption by restart when a running request cannot
// get a block.
type sarathi struct {
	chunk     int // token budget per batch (chunk_size)
	cap       int // batch_size_cap: requests holding blocks
	microCap  int // cap / stages
	blockSize int
	blocks    *BlockManager

	waiting RequestQueue  // Vidur's request_queue
	running []*SimRequest // Vidur's preempted_requests: admitted, not in flight
	// scratch, reused every batch
	spare    []*SimRequest
	prefills []*SimRequest
	skipped  []*SimRequest
	itemPool [][]BatchItem
}

func newSarathi(cfg SchedulerConfig) (Scheduler, error) {
	if cfg.SubPolicy != "" {
		return nil, fmt.Errorf("sarathi has no sub-policy %q", cfg.SubPolicy)
	}
	s := &sarathi{
		chunk:     cfg.Settings.TokenBudget,
		cap:       cfg.Settings.MaxSeqs,
		blockSize: cfg.Settings.BlockSize,
	}
	if s.chunk == 0 {
		s.chunk = sarathiDefaultChunk
		cfg.Warnf("sarathi: settings.token_budget is 0; using Vidur's chunk size %d", s.chunk)
	}
	if s.cap == 0 {
		s.cap = sarathiDefaultCap
		cfg.Warnf("sarathi: settings.max_seqs is 0; using Vidur's batch_size_cap %d", s.cap)
	}
	if s.blockSize == 0 {
		s.blockSize = sarathiDefaultBlockSize
		cfg.Warnf("sarathi: settings.block_size is 0; using Vidur's block size %d", s.blockSize)
	}
	if s.chunk < 0 || s.cap < 0 || s.blockSize < 0 {
		return nil, fmt.Errorf("token_budget %d, max_seqs %d and block_size %d must not be negative",
			s.chunk, s.cap, s.blockSize)
	}
	s.microCap = s.cap / cfg.NumStages
	if s.microCap == 0 {
		return nil, fmt.Errorf("max_seqs %d is less than the %d pipeline stages", s.cap, cfg.NumStages)
	}
	n, err := cfg.ResolveNumBlocks(s.blockSize)
	if err != nil {
		return nil, err
	}
	s.blocks = NewBlockManager(n, sarathiWatermark)
	return s, nil
}

func (s *sarathi) Add(r *SimRequest) { s.waiting.PushBack(r) }

func (s *sarathi) Pending() int { return s.waiting.Len() }

// nextTokens is Vidur's _get_request_next_num_tokens: 1 for a decode, else the rest of
// the prompt within what is left of the chunk budget.
func (s *sarathi) nextTokens(r *SimRequest, batchTokens int) int {
	if r.PrefillComplete {
		return 1
	}
	return max(0, min(r.Prompt-r.Processed, s.chunk-batchTokens))
}

// canAllocate: a new request needs its whole prompt's blocks above the watermark; a
// running one needs one free block, whether or not it will take it (as in Vidur).
func (s *sarathi) canAllocate(r *SimRequest) bool {
	if !s.blocks.Holds(r) {
		return s.blocks.CanAdmit(BlocksFor(r.Prompt, s.blockSize))
	}
	return s.blocks.CanAllocate(1)
}

func (s *sarathi) allocate(r *SimRequest) {
	if !s.blocks.Holds(r) {
		s.blocks.Allocate(r, BlocksFor(r.Prompt, s.blockSize))
		return
	}
	need := max(0, r.Processed-r.Blocks*s.blockSize)
	if need > 1 {
		panic(fmt.Sprintf("simkit: sarathi: request %d needs %d tokens of new blocks", r.Index, need))
	}
	if need == 1 {
		s.blocks.Allocate(r, 1)
	}
}

// restart preempts r by recomputation and puts it at the front of the waiting queue.
func (s *sarathi) restart(r *SimRequest) {
	r.Restart()
	s.blocks.Release(r)
	s.waiting.PushFront(r)
}

func (s *sarathi) NextBatch(float64) (Batch, bool) {
	var items []BatchItem
	if n := len(s.itemPool); n > 0 {
		items, s.itemPool = s.itemPool[n-1][:0], s.itemPool[:n-1]
	}
	batchTokens := 0
	s.prefills, s.skipped = s.prefills[:0], s.skipped[:0]

	// 1. Running decodes, oldest first; a decode that cannot get a block restarts the
	// newest running request, or itself when none is left.
	head, tail := 0, len(s.running)
	for head < tail && len(items) < s.microCap {
		r := s.running[head]
		head++
		if !r.PrefillComplete {
			s.prefills = append(s.prefills, r)
			continue
		}
		fits := true
		for !s.canAllocate(r) {
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
			s.allocate(r)
			batchTokens++
			items = append(items, BatchItem{Req: r, Tokens: 1})
		}
	}
	// 2. Running prefills take their next chunk from what is left of the budget.
	for _, r := range s.prefills {
		n := s.nextTokens(r, batchTokens)
		if n == 0 {
			s.skipped = append(s.skipped, r)
			continue
		}
		batchTokens += n
		items = append(items, BatchItem{Req: r, Tokens: n})
	}
	// 3. Requests left out stay running, ordered by arrival.
	next := append(append(s.spare[:0], s.skipped...), s.running[head:tail]...)
	slices.SortStableFunc(next, func(a, b *SimRequest) int {
		return cmp.Compare(a.Request.ArrivalS, b.Request.ArrivalS)
	})
	clear(s.running)
	s.running, s.spare = next, s.running[:0]

	// 4. Admit waiting requests while the caps, memory and budget allow.
	for s.waiting.Len() > 0 && s.blocks.Holders() < s.cap && len(items) < s.microCap {
		r := s.waiting.Front()
		if !s.canAllocate(r) {
			break
		}
		n := s.nextTokens(r, batchTokens)
		if n == 0 {
			break
		}
		s.waiting.PopFront()
		s.allocate(r)
		batchTokens += n
		items = append(items, BatchItem{Req: r, Tokens: n})
	}
	if len(items) == 0 {
		s.itemPool = append(s.itemPool, items)
		return Batch{}, false
	}
	return Batch{Items: items}, true
}

func (s *sarathi) OnBatchEnd(b Batch, _ float64) {
	for _, it := range b.Items {
		if it.Req.Completed {
			s.blocks.Release(it.Req)
		} else {
			s.running = append(s.running, it.Req)
		}
	}
	clear(b.Items)
	s.itemPool = append(s.itemPool, b.Items[:0])
}

// Blocks exposes the replica's block manager to tests.
func (s *sarathi) Blocks() *BlockManager { return s.blocks }
