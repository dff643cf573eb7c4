package simkit

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTable1(t *testing.T) {
	// Deliberately not linear: piecewise between 1 → 1.0, 8 → 2.0, 64 → 10.0; the
	// duplicate at 8 (1.5 and 2.5) averages to 2.0.
	tab := newTable1("mlp.csv", "num_tokens", []point{{x: 64, v: 10}, {x: 8, v: 1.5}, {x: 1, v: 1}, {x: 8, v: 2.5}})
	strict := &lookup{seen: map[string]*outOfGrid{}}
	for _, tc := range []struct{ x, want float64 }{
		{1, 1}, {8, 2}, {64, 10}, // grid points exactly
		{4.5, 1.5}, {36, 6}, {22, 4}, // linear between
	} {
		got, err := tab.at(tc.x, strict)
		require.NoError(t, err)
		assert.InDelta(t, tc.want, got, 1e-12, "x=%g", tc.x)
	}
	_, err := tab.at(100, strict)
	assert.EqualError(t, err, "mlp.csv: num_tokens 100 outside profiled range [1, 64]")
	_, err = tab.at(0.5, strict)
	assert.EqualError(t, err, "mlp.csv: num_tokens 0.5 outside profiled range [1, 64]")

	loose := &lookup{allow: true, seen: map[string]*outOfGrid{}}
	got, err := tab.at(120, loose) // last segment's slope 8/56 continued
	require.NoError(t, err)
	assert.InDelta(t, 10+56*8.0/56, got, 1e-12)
	got, err = tab.at(0, loose) // first segment continued down, clamped at 0 if needed
	require.NoError(t, err)
	assert.InDelta(t, 1-1.0/7, got, 1e-12)
	_, _ = tab.at(90, loose)
	assert.Equal(t, []string{"mlp.csv: 3 look-ups outside the profiled grid (num_tokens [1, 64]) " +
		"extrapolated linearly (num_tokens 0..120)"}, loose.warnings())
}

func TestTable2(t *testing.T) {
	// f = x·y + 1 on x ∈ {1, 3}, y ∈ {0, 10, 20}; bilinear reproduces it exactly.
	var pts []point
	for _, x := range []float64{1, 3} {
		for _, y := range []float64{0, 10, 20} {
			pts = append(pts, point{x: x, y: y, v: x*y + 1})
		}
	}
	tab := newTable2("attention.csv decode", "batch_size", "kv_cache_size", pts)
	strict := &lookup{seen: map[string]*outOfGrid{}}
	for _, q := range [][2]float64{{1, 0}, {3, 20}, {2, 5}, {1.5, 17}, {3, 13}, {2, 20}} {
		got, err := tab.at(q[0], q[1], strict)
		require.NoError(t, err)
		assert.InDelta(t, q[0]*q[1]+1, got, 1e-12, "%v", q)
	}
	_, err := tab.at(4, 5, strict)
	assert.EqualError(t, err, "attention.csv decode: (batch_size 4, kv_cache_size 5) outside the profiled grid "+
		"(batch_size [1, 3], kv_cache_size [0, 20])")
}

func TestTable2Triangular(t *testing.T) {
	// A grid with num_tokens ≥ batch_size only: (1,1) (1,8) (8,8). The missing corner
	// (8,1) leaves the triangle above the diagonal, where f = 2x + 3y is linear.
	pts := []point{{x: 1, y: 1, v: 5}, {x: 1, y: 8, v: 26}, {x: 8, y: 8, v: 40}}
	tab := newTable2("cpu_overheads.csv", "batch_size", "num_tokens", pts)
	require.True(t, math.IsNaN(tab.val(1, 0)))
	strict := &lookup{seen: map[string]*outOfGrid{}}
	for _, q := range [][2]float64{{1, 1}, {8, 8}, {4, 4}, {2, 7}, {1, 5}, {5.5, 8}} {
		got, err := tab.at(q[0], q[1], strict)
		require.NoError(t, err, "%v", q)
		assert.InDelta(t, 2*q[0]+3*q[1], got, 1e-12, "%v", q)
	}
	_, err := tab.at(6, 2, strict) // below the diagonal: not profiled
	assert.ErrorContains(t, err, "(batch_size 6, num_tokens 2) outside the profiled grid")

	loose := &lookup{allow: true, seen: map[string]*outOfGrid{}}
	got, err := tab.at(6, 2, loose) // line x=1 at y=2 is 8; line x=8 has one point (40): constant
	require.NoError(t, err)
	assert.InDelta(t, 8+5*(40-8)/7.0, got, 1e-12)
	assert.Len(t, loose.warnings(), 1)
}
