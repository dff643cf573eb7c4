package validation

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWasserstein1(t *testing.T) {
	tests := []struct {
		name string
		x, y []float64
		want float64
	}{
		{"both empty", nil, nil, 0},
		{"identical", []float64{0, 1}, []float64{1, 0}, 0},
		{"point masses", []float64{0}, []float64{1}, 1},
		{"shift by one", []float64{3, 1, 2}, []float64{2, 3, 4}, 1},
		// Equal n: mean |sorted difference| = (|0−1| + |10−3|)/2.
		{"equal n sorted pairs", []float64{10, 0}, []float64{1, 3}, 4},
		// F jumps to 1 at 0; G is 0.5 on [0, 2): area 0.5·2.
		{"unequal n", []float64{0}, []float64{0, 2}, 1},
		{"ties across sides", []float64{1, 1}, []float64{1}, 0},
		// F: 1/3 on [1,2), 2/3 on [2,4), 1 after; G: 0 before 3, 1/2 on [3,5).
		{"interleaved", []float64{1, 2, 4}, []float64{3, 5}, 1.0/3 + 2.0/3 + 1.0/6 + 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.want, Wasserstein1(tt.x, tt.y), 1e-12)
			assert.InDelta(t, tt.want, Wasserstein1(tt.y, tt.x), 1e-12, "symmetric")
		})
	}
	assert.True(t, math.IsNaN(Wasserstein1([]float64{1}, nil)))
}

func TestKSDistance(t *testing.T) {
	tests := []struct {
		name string
		x, y []float64
		want float64
	}{
		{"both empty", nil, nil, 0},
		{"one empty", []float64{1}, nil, 1},
		{"identical unsorted", []float64{2, 1}, []float64{1, 2}, 0},
		{"disjoint", []float64{3, 1, 2}, []float64{4, 5, 6}, 1},
		// On [2, 3) F = 0.5 and G = 0.
		{"half overlap", []float64{4, 3, 2, 1}, []float64{3, 4, 5, 6}, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := append([]float64(nil), tt.x...)
			assert.InDelta(t, tt.want, KSDistance(tt.x, tt.y), 1e-12)
			assert.Equal(t, x, tt.x, "input not sorted in place")
		})
	}
}

func TestKSCritical05(t *testing.T) {
	assert.InDelta(t, 1.3581*math.Sqrt(0.02), KSCritical05(100, 100), 1e-4)
	assert.Zero(t, KSCritical05(0, 5))
}

func TestPairByID(t *testing.T) {
	real := []Record{rec("a", 0, 0.010), rec("b", 1, 1.020), rec("only-real", 2, 2.1)}
	// a: +50%, b: −25%; "c" has no real partner.
	sim := []Record{rec("b", 1, 1.015), rec("a", 0, 0.015), rec("c", 3, 3.1)}
	p := pairByID(TTFT, real, sim)
	assert.Equal(t, 2, p.N)
	assert.InDelta(t, 0.375, p.MAPE, 1e-9)
	assert.InDelta(t, 0.125, p.MPE, 1e-9)
	assert.InDelta(t, 0.0, p.MeanErrS, 1e-12)
	assert.Equal(t, BiasOver, p.Bias)

	under := pairByID(E2E, real, scaled(real, 0.5))
	assert.Equal(t, 3, under.N)
	assert.InDelta(t, -0.5, under.MPE, 1e-9)
	assert.Equal(t, BiasUnder, under.Bias)

	none := pairByID(TTFT, real, []Record{rec("x", 0, 1)})
	assert.Equal(t, Paired{Metric: TTFT, Bias: BiasNone}, none)
}
