package validation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSpread(t *testing.T) {
	base := evenRun(4, 3, 0.020, 0.010)
	// TTFT mean across reps: 0.018, 0.020, 0.022 → min 0.018, max 0.022, mean 0.020 → 20%.
	reps := [][]Record{scaled(base, 0.9), base, scaled(base, 1.1)}
	s := Spread(reps)
	assert.Equal(t, 3, s.Reps)
	require.Len(t, s.Rows, 16)
	first := s.Rows[0]
	assert.Equal(t, TTFT, first.Metric)
	assert.Equal(t, Mean, first.Stat)
	assert.Equal(t, 3, first.Reps)
	assert.InDelta(t, 0.018, first.Min, 1e-12)
	assert.InDelta(t, 0.022, first.Max, 1e-12)
	assert.InDelta(t, 0.20, first.RelRange, 1e-9)
	last := s.Rows[15]
	assert.Equal(t, E2E, last.Metric)
	assert.Equal(t, P99, last.Stat)
}

func TestSpreadEdges(t *testing.T) {
	t.Run("no reps", func(t *testing.T) {
		assert.Equal(t, SpreadSummary{}, Spread(nil))
	})
	t.Run("one rep has zero range", func(t *testing.T) {
		s := Spread([][]Record{evenRun(2, 2, 0.01, 0.01)})
		for _, r := range s.Rows {
			assert.Zero(t, r.RelRange)
			assert.Equal(t, 1, r.Reps)
		}
	})
	t.Run("single-token reps have no decode rows", func(t *testing.T) {
		s := Spread([][]Record{evenRun(2, 1, 0.01, 0), evenRun(2, 1, 0.02, 0)})
		require.Len(t, s.Rows, 8)
		for _, r := range s.Rows {
			assert.Contains(t, []Metric{TTFT, E2E}, r.Metric)
		}
	})
	t.Run("a rep without decode samples is left out of those rows", func(t *testing.T) {
		s := Spread([][]Record{evenRun(2, 1, 0.01, 0), evenRun(2, 2, 0.01, 0.01)})
		for _, r := range s.Rows {
			if r.Metric == ITL {
				assert.Equal(t, 1, r.Reps)
			}
		}
	})
}
