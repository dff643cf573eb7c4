package suite

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The phase between two arrival groups must vary between realizations, as it does
// between real repetitions; offsets g·φ + k/n kept it fixed (phaseOffset's comment).
func TestPhaseOffsetsAreIndependentBetweenGroups(t *testing.T) {
	const realizations, groups = 64, 40
	var diffs []float64
	for k := 1; k <= realizations; k++ {
		for g := range groups {
			x := phaseOffset(k, g)
			assert.True(t, x >= 0 && x < 1, "offset %g of group %d, realization %d", x, g, k)
			assert.Equal(t, x, phaseOffset(k, g), "deterministic")
		}
		_, d := math.Modf(phaseOffset(k, 1) - phaseOffset(k, 0) + 1)
		diffs = append(diffs, d)
	}
	// The difference of two independent uniforms (mod 1) is uniform: its spread over the
	// realizations is that of a uniform (standard deviation 0.29), never 0.
	mean, sq := 0.0, 0.0
	for _, d := range diffs {
		mean += d
	}
	mean /= float64(len(diffs))
	for _, d := range diffs {
		sq += (d - mean) * (d - mean)
	}
	assert.InDelta(t, 1/math.Sqrt(12), math.Sqrt(sq/float64(len(diffs))), 0.08)
}
