package simkit

import "fmt"

// BlockManager counts a replica's KV-cache blocks the way Vidur does (reference §3):
// memory is a number of blocks, a request holds whole blocks, and a watermark of free
// blocks is kept back from new admissions. It is shared by the replica schedulers.
type BlockManager struct {
	total     int
	allocated int
	watermark int
	holders   int
}

// NewBlockManager manages numBlocks blocks with a watermark of
// int(watermarkFraction × numBlocks) blocks (Vidur and Sarathi use 0.01).
func NewBlockManager(numBlocks int, watermarkFraction float64) *BlockManager {
	return &BlockManager{total: numBlocks, watermark: int(watermarkFraction * float64(numBlocks))}
}

// BlocksFor is how many blocks of blockSize tokens hold tokens: ceil(tokens/blockSize).
func BlocksFor(tokens, blockSize int) int {
	if tokens <= 0 {
		return 0
	}
	return (tokens + blockSize - 1) / blockSize
}

// NumBlocks is the replica's block count.
func (m *BlockManager) NumBlocks() int { return m.total }

// Allocated is the number of blocks held by requests.
func (m *BlockManager) Allocated() int { return m.allocated }

// FreeBlocks is NumBlocks − Allocated.
func (m *BlockManager) FreeBlocks() int { return m.total - m.allocated }

// Watermark is the number of blocks new admissions must leave free.
func (m *BlockManager) Watermark() int { return m.watermark }

// Holders is the number of requests holding an allocation (Vidur's
// len(allocation_map)), which the batch-size cap bounds.
func (m *BlockManager) Holders() int { return m.holders }

// Holds says whether r has an allocation here.
func (m *BlockManager) Holds(r *SimRequest) bool { return r.holdsBlocks }

// CanAllocate says whether n more blocks are free (Vidur's can_allocate).
func (m *BlockManager) CanAllocate(n int) bool { return m.total-m.allocated >= n }

// CanAdmit says whether n blocks can go to a new request and still leave the
// watermark free.
func (m *BlockManager) CanAdmit(n int) bool { return m.total-m.allocated-n >= m.watermark }

// Allocate gives r n more blocks. Callers check CanAllocate or CanAdmit first;
// allocating blocks that are not free is a scheduler bug and panics.
func (m *BlockManager) Allocate(r *SimRequest, n int) {
	if n < 0 || m.allocated+n > m.total {
		panic(fmt.Sprintf("simkit: allocating %d blocks with %d of %d free (scheduler bug)",
			n, m.total-m.allocated, m.total))
	}
	if !r.holdsBlocks {
		r.holdsBlocks = true
		m.holders++
	}
	m.allocated += n
	r.Blocks += n
}

// Release frees all of r's blocks (on completion or restart). Releasing a request
// that holds nothing is a no-op.
func (m *BlockManager) Release(r *SimRequest) {
	if !r.holdsBlocks {
		return
	}
	m.allocated -= r.Blocks
	m.holders--
	r.Blocks = 0
	r.holdsBlocks = false
}
