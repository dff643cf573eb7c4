package validation

import (
	"bytes"
	"image/png"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlotCDF(t *testing.T) {
	real := Values(TTFT, evenRun(8, 2, 0.0173, 0.0136))
	sim := []float64{0.002, 0.0021, 0.0019}
	var a, b bytes.Buffer
	require.NoError(t, PlotCDF(&a, "queue-free-8: TTFT", TTFT, real, sim))
	require.NoError(t, PlotCDF(&b, "queue-free-8: TTFT", TTFT, real, sim))
	cfg, err := png.DecodeConfig(bytes.NewReader(a.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, 576, cfg.Width, "6 in at 96 dpi")
	assert.Equal(t, 384, cfg.Height)
	assert.Equal(t, a.Bytes(), b.Bytes(), "same inputs, same bytes")

	var other bytes.Buffer
	require.NoError(t, PlotCDF(&other, "queue-free-8: TTFT", TTFT, real, []float64{0.01}))
	assert.NotEqual(t, a.Bytes(), other.Bytes(), "the data reaches the image")
}

func TestPlotCDFErrors(t *testing.T) {
	var w bytes.Buffer
	assert.EqualError(t, PlotCDF(&w, "t", ITL, nil, nil), "plot itl cdf: no samples on either side")
	assert.EqualError(t, PlotCDF(&w, "t", ITL, []float64{1, math.NaN()}, nil), "plot itl cdf: real: sample 1 is NaN")
	require.NoError(t, PlotCDF(&w, "sim only", ITL, nil, []float64{0.001}))
	_, err := png.DecodeConfig(&w)
	assert.NoError(t, err)
}

func TestPlotPerRequest(t *testing.T) {
	real := evenRun(8, 3, 0.0173, 0.0136)
	sim := scaled(real, 0.2)
	var a, b bytes.Buffer
	require.NoError(t, PlotPerRequest(&a, "queue-free-8: E2E", E2E, real, sim))
	require.NoError(t, PlotPerRequest(&b, "queue-free-8: E2E", E2E, real, sim))
	_, err := png.Decode(bytes.NewReader(a.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, a.Bytes(), b.Bytes(), "same inputs, same bytes")
}

func TestPlotPerRequestPoints(t *testing.T) {
	// Arrival order, not input order; D=1 requests keep their index but get no TPOT point.
	recs := []Record{rec("c", 4, 4.1, 4.3), rec("a", 0, 0.1), rec("b", 2, 2.1, 2.2)}
	pts := perRequestPoints(TPOT, recs)
	require.Len(t, pts, 2)
	assert.InDelta(t, 1, pts[0].X, 0)
	assert.InDelta(t, 100, pts[0].Y, 1e-9)
	assert.InDelta(t, 2, pts[1].X, 0)
	assert.InDelta(t, 200, pts[1].Y, 1e-9)
}

func TestPlotPerRequestErrors(t *testing.T) {
	var w bytes.Buffer
	assert.ErrorContains(t, PlotPerRequest(&w, "t", ITL, evenRun(2, 2, 0.01, 0.01), nil), `metric "itl" is not per request`)
	assert.ErrorContains(t, PlotPerRequest(&w, "t", "bogus", evenRun(2, 2, 0.01, 0.01), nil), `metric "bogus" is not per request`)
	assert.EqualError(t, PlotPerRequest(&w, "t", TTFT, nil, nil), "plot ttft per request: no records on either side")
}
