package validation

import (
	"bytes"
	"image/png"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlotSteps(t *testing.T) {
	real, sim := perfettoInput()
	var a, b bytes.Buffer
	require.NoError(t, PlotSteps(&a, "queue-free-8: steps", real, sim))
	require.NoError(t, PlotSteps(&b, "queue-free-8: steps", real, sim))
	img, err := png.Decode(bytes.NewReader(a.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, 1200, img.Bounds().Dx(), "900 pt at 96 dpi")
	assert.Equal(t, 800, img.Bounds().Dy(), "600 pt at 96 dpi")
	assert.Equal(t, a.Bytes(), b.Bytes(), "same inputs, same bytes")

	var other bytes.Buffer
	sim[1].DurationS = 0.2
	require.NoError(t, PlotSteps(&other, "queue-free-8: steps", real, sim))
	assert.NotEqual(t, a.Bytes(), other.Bytes(), "the data reaches the image")

	var warm bytes.Buffer
	real[0][0].DurationS = 30 // a warm-up step: left out, so the image does not change
	require.NoError(t, PlotSteps(&warm, "queue-free-8: steps", real, sim))
	assert.Equal(t, other.Bytes(), warm.Bytes(), "warm-up steps are not drawn")
}

func TestPlotStepsOneSide(t *testing.T) {
	real, sim := perfettoInput()
	for name, in := range map[string]struct {
		real [][]Step
		sim  []Step
	}{
		"real only":           {real, nil},
		"sim only":            {nil, sim},
		"no capture steps":    {nil, sim[1:]},
		"zero-duration steps": {nil, append([]Step{st(0, 0)}, sim[1:]...)},
	} {
		t.Run(name, func(t *testing.T) {
			var w bytes.Buffer
			require.NoError(t, PlotSteps(&w, name, in.real, in.sim))
			cfg, err := png.DecodeConfig(&w)
			require.NoError(t, err)
			assert.Equal(t, [2]int{1200, 800}, [2]int{cfg.Width, cfg.Height})
		})
	}
}

func TestPlotStepsErrors(t *testing.T) {
	tests := []struct {
		name string
		real [][]Step
		sim  []Step
		want string
	}{
		{"nothing", nil, nil, "plot steps: no timed step with a positive duration on either side"},
		{"only warm-up", [][]Step{{warmStep(-1, 1)}}, []Step{warmStep(-2, 1)}, "plot steps: no timed step with a positive duration on either side"},
		{"only zero durations", [][]Step{{st(0, 0)}}, nil, "plot steps: no timed step with a positive duration on either side"},
		{"NaN duration", [][]Step{{st(0, math.NaN())}}, nil, "plot steps: real repetition 1: step 0 (index 0): duration NaN is not finite"},
		{"negative duration", nil, []Step{st(0, 0.01), {Index: 4, DurationS: -0.01}}, "plot steps: sim: step 1 (index 4): duration -0.01 s is negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w bytes.Buffer
			assert.EqualError(t, PlotSteps(&w, "t", tc.real, tc.sim), tc.want)
			assert.Zero(t, w.Len(), "nothing written on error")
		})
	}
}
