package simkit

import "fmt"

func init() { RegisterScheduler("fastertransformer", newFasterTransformer) }

// reservingScheduler is what Orca and FasterTransformer share: a batch bound from
// the memory planner and a worst-case reservation of max_blocks_per_sequence blocks
// per admitted request.
type reservingScheduler struct {
	maxBatch int
	perSeq   int
	blocks   *BlockManager
	tooLong  func(*SimRequest)
}

func newReservingScheduler(cfg SchedulerConfig) (reservingScheduler, error) {
	var s reservingScheduler
	capSeqs, err := settingOr(cfg, cfg.Settings.MaxSeqs, vidurDefaultCap, "max_seqs", "batch_size_cap")
	if err != nil {
		return s, err
	}
	blockSize, err := settingOr(cfg, cfg.Settings.BlockSize, vidurDefaultBlockSize, "block_size", "block_size")
	if err != nil {
		return s, err
	}
	maxTokens := maxRequestTokens(cfg)
	if s.perSeq = maxTokens / blockSize; s.perSeq < 1 {
		return s, fmt.Errorf("max request tokens %d is less than one block of %d", maxTokens, blockSize)
	}
	n, err := cfg.ResolveNumBlocks(blockSize)
	if err != nil {
		return s, err
	}
	if s.maxBatch, err = plannedMaxBatchSize(cfg, capSeqs, blockSize, n); err != nil {
		return s, err
	}
	if n < s.perSeq {
		return s, fmt.Errorf("%d blocks cannot hold one request's reservation of %d blocks", n, s.perSeq)
	}
	s.blocks = NewBlockManager(n, 0)
	// Vidur reserves max_blocks_per_sequence whatever the request needs; one that
	// needs more is run anyway, so say so.
	s.tooLong = func(r *SimRequest) {
		if r.Total() > s.perSeq*blockSize {
			cfg.Warnf("%s: request %q needs %d tokens, more than its reservation of %d blocks × %d",
				cfg.Name, r.Request.ID, r.Total(), s.perSeq, blockSize)
		}
	}
	return s, nil
}

// fasterTransformer is Vidur's FasterTransformer replica scheduler (reference §3.2):
// static batching. A batch of up to max_batch_size waiting requests, each reserving
// max_blocks_per_sequence blocks, is re-issued minus its finished requests until all
// of them finish; only then are its blocks freed and a new batch formed (with
// pipeline parallelism, several static batches take turns).
//
// Deliberate difference: Vidur frees only the requests still in the batch's last
// iteration, so the blocks of requests that finished earlier are never freed and a
// long run stalls; here the whole static batch is freed when it ends.
type fasterTransformer struct {
	reservingScheduler
	waiting RequestQueue
	// static holds the static batches between iterations (Vidur's preempted_batches).
	static [][]*SimRequest
	// members maps a batch in flight (by its items' backing array) to its static batch.
	inFlight map[*BatchItem][]*SimRequest
	pool     itemPool
	spare    [][]*SimRequest
}

func newFasterTransformer(cfg SchedulerConfig) (Scheduler, error) {
	s, err := newReservingScheduler(cfg)
	if err != nil {
		return nil, err
	}
	return &fasterTransformer{reservingScheduler: s, inFlight: map[*BatchItem][]*SimRequest{}}, nil
}

func (s *fasterTransformer) Add(r *SimRequest) {
	s.tooLong(r)
	s.waiting.PushBack(r)
}

func (s *fasterTransformer) Pending() int { return s.waiting.Len() }

func (s *fasterTransformer) NextBatch(float64) (Batch, bool) {
	items := s.pool.get()
	var members []*SimRequest
	if len(s.static) > 0 {
		members = s.static[0]
		s.static = s.static[1:]
		for _, r := range members {
			if !r.Completed {
				items = append(items, BatchItem{Req: r, Tokens: vidurNextTokens(r)})
			}
		}
	} else {
		if n := len(s.spare); n > 0 {
			members, s.spare = s.spare[n-1][:0], s.spare[:n-1]
		}
		for s.waiting.Len() > 0 && len(items) < s.maxBatch && s.blocks.CanAllocate(s.perSeq) {
			r := s.waiting.PopFront()
			s.blocks.Allocate(r, s.perSeq)
			members = append(members, r)
			items = append(items, BatchItem{Req: r, Tokens: vidurNextTokens(r)})
		}
	}
	if len(items) == 0 {
		s.pool.put(items)
		return Batch{}, false
	}
	s.inFlight[&items[0]] = members
	return Batch{Items: items}, true
}

func (s *fasterTransformer) OnBatchEnd(b Batch, _ float64) {
	key := &b.Items[0]
	members := s.inFlight[key]
	delete(s.inFlight, key)
	done := true
	for _, it := range b.Items {
		done = done && it.Req.Completed
	}
	if done {
		for _, r := range members {
			s.blocks.Release(r)
		}
		clear(members)
		s.spare = append(s.spare, members[:0])
	} else {
		s.static = append(s.static, members)
	}
	s.pool.put(b.Items)
}
