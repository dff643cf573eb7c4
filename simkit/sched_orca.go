package simkit

func init() { RegisterScheduler("orca", newOrca) }

// orca is Vidur's Orca replica scheduler (reference §3.2): iteration-level batching
// with worst-case memory reservation. Every running request decodes (up to
// max_batch_size), then waiting requests join with their whole prompt while the
// batch has room and max_blocks_per_sequence blocks are free for each. There is no
// token bound (Vidur widens its prediction grid to 4096 × 128 tokens for Orca) and
// nothing is ever preempted.
//
// Settings: MaxSeqs is batch_size_cap (Vidur's default 128), BlockSize (16),
// NumBlocks (or Vidur's memory planner). max_batch_size is min(planner's max batch
// size, batch_size_cap); max_blocks_per_sequence is Options.MaxRequestTokens (4096)
// over the block size.
type orca struct {
	reservingScheduler
	waiting RequestQueue
	running RequestQueue // Vidur's preempted_requests: admitted, not in flight
	pool    itemPool
}

func newOrca(cfg SchedulerConfig) (Scheduler, error) {
	s, err := newReservingScheduler(cfg)
	if err != nil {
		return nil, err
	}
	return &orca{reservingScheduler: s}, nil
}

func (s *orca) Add(r *SimRequest) {
	s.tooLong(r)
	s.waiting.PushBack(r)
}

func (s *orca) Pending() int { return s.waiting.Len() }

func (s *orca) NextBatch(float64) (Batch, bool) {
	items := s.pool.get()
	for s.running.Len() > 0 && len(items) < s.maxBatch {
		r := s.running.PopFront()
		items = append(items, BatchItem{Req: r, Tokens: vidurNextTokens(r)})
	}
	for s.waiting.Len() > 0 && len(items) < s.maxBatch && s.blocks.CanAllocate(s.perSeq) {
		r := s.waiting.PopFront()
		s.blocks.Allocate(r, s.perSeq)
		items = append(items, BatchItem{Req: r, Tokens: vidurNextTokens(r)})
	}
	if len(items) == 0 {
		s.pool.put(items)
		return Batch{}, false
	}
	return Batch{Items: items}, true
}

func (s *orca) OnBatchEnd(b Batch, _ float64) {
	for _, it := range b.Items {
		if it.Req.Completed {
			s.blocks.Release(it.Req)
		} else {
			s.running.PushBack(it.Req)
		}
	}
	s.pool.put(b.Items)
}
