package simkit

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBlocksFor(t *testing.T) {
	for _, tc := range []struct{ tokens, size, want int }{
		{0, 16, 0}, {1, 16, 1}, {16, 16, 1}, {17, 16, 2}, {1000, 256, 4},
	} {
		assert.Equal(t, tc.want, BlocksFor(tc.tokens, tc.size), "%d tokens / %d", tc.tokens, tc.size)
	}
}

func TestBlockManager(t *testing.T) {
	m := NewBlockManager(250, 0.01)
	require.Equal(t, 2, m.Watermark(), "int(0.01 × 250)")
	a, b := &SimRequest{}, &SimRequest{}
	assert.True(t, m.CanAdmit(248), "248 leaves exactly the watermark")
	assert.False(t, m.CanAdmit(249))
	m.Allocate(a, 200)
	m.Allocate(a, 1)
	assert.Equal(t, 1, m.Holders())
	assert.Equal(t, 201, a.Blocks)
	assert.Equal(t, 49, m.FreeBlocks())
	assert.True(t, m.CanAllocate(49))
	assert.False(t, m.CanAllocate(50))
	m.Allocate(b, 49)
	assert.Equal(t, 2, m.Holders())
	assert.Panics(t, func() { m.Allocate(b, 1) })
	m.Release(a)
	assert.False(t, m.Holds(a))
	assert.Equal(t, 0, a.Blocks)
	assert.Equal(t, 201, m.FreeBlocks())
	m.Release(a) // no-op
	assert.Equal(t, 1, m.Holders())
}

func TestRequestQueue(t *testing.T) {
	var q RequestQueue
	rs := make([]*SimRequest, 6)
	for i := range rs {
		rs[i] = &SimRequest{Index: i}
	}
	q.PushBack(rs[0])
	q.PushBack(rs[1])
	q.PushFront(rs[2]) // no room before head: shifts
	assert.Equal(t, rs[2], q.PopFront())
	q.PushFront(rs[3]) // reuses the popped slot
	q.PushBack(rs[4])
	var got []int
	for q.Len() > 0 {
		got = append(got, q.PopFront().Index)
	}
	assert.Equal(t, []int{3, 0, 1, 4}, got)
}

func TestPlanMemoryQwen3(t *testing.T) {
	// Reference §10: at 80 GB and 4096 tokens the real head dimension (128) gives 162
	// requests and 41,472 blocks of 16 (Vidur's hidden/heads = 64 gives 326 / 83,456).
	m := qwen3()
	plan, err := PlanMemory(m, 1, 1, 80, 4096, 16)
	require.NoError(t, err)
	assert.Equal(t, 162, plan.MaxBatchSize)
	assert.Equal(t, 41472, plan.NumBlocks)
	m.HeadDim = 64
	plan, err = PlanMemory(m, 1, 1, 80, 4096, 16)
	require.NoError(t, err)
	assert.Equal(t, 326, plan.MaxBatchSize)
	assert.Equal(t, 83456, plan.NumBlocks)

	_, err = PlanMemory(qwen3(), 1, 3, 80, 4096, 16)
	assert.ErrorContains(t, err, "layers 28 is not divisible by pp 3")
	_, err = PlanMemory(qwen3(), 1, 1, 0, 4096, 16)
	assert.ErrorContains(t, err, "GPU memory is unknown")
}
