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
	real := [][]float64{Values(TTFT, evenRun(8, 2, 0.0173, 0.0136)), Values(TTFT, evenRun(8, 2, 0.0180, 0.0136))}
	sim := []float64{0.002, 0.0021, 0.0019}
	var a, b bytes.Buffer
	require.NoError(t, PlotCDF(&a, "queue-free-8: TTFT", TTFT, real, sim))
	require.NoError(t, PlotCDF(&b, "queue-free-8: TTFT", TTFT, real, sim))
	cfg, err := png.DecodeConfig(bytes.NewReader(a.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, 1200, cfg.Width, "900 pt at 96 dpi")
	assert.Equal(t, 800, cfg.Height)
	assert.Equal(t, a.Bytes(), b.Bytes(), "same inputs, same bytes")

	var other bytes.Buffer
	require.NoError(t, PlotCDF(&other, "queue-free-8: TTFT", TTFT, real, []float64{0.01}))
	assert.NotEqual(t, a.Bytes(), other.Bytes(), "the data reaches the image")
	var oneRep bytes.Buffer
	require.NoError(t, PlotCDF(&oneRep, "queue-free-8: TTFT", TTFT, real[:1], sim))
	assert.NotEqual(t, a.Bytes(), oneRep.Bytes(), "every repetition reaches the image")
}

// ITL is drawn on a log axis, which cannot show a gap of 0 (two tokens in one
// streamed chunk): such gaps are left out and counted, not an error.
func TestPlotCDFLogITL(t *testing.T) {
	var w bytes.Buffer
	require.NoError(t, PlotCDF(&w, "t", ITL, [][]float64{{0.02, 0, 0.3}}, []float64{0.021, 0.25}))
	_, err := png.DecodeConfig(&w)
	require.NoError(t, err)
	assert.EqualError(t, PlotCDF(&w, "t", ITL, [][]float64{{0, 0}}, nil), "plot itl cdf: no positive value to draw on a log axis")
}

func TestPlotCDFErrors(t *testing.T) {
	var w bytes.Buffer
	assert.EqualError(t, PlotCDF(&w, "t", ITL, nil, nil), "plot itl cdf: no samples on either side")
	assert.EqualError(t, PlotCDF(&w, "t", ITL, [][]float64{{}, {}}, nil), "plot itl cdf: no samples on either side")
	assert.EqualError(t, PlotCDF(&w, "t", ITL, [][]float64{{1}, {1, math.NaN()}}, nil),
		"plot itl cdf: real repetition 2: sample 1 is NaN")
	require.NoError(t, PlotCDF(&w, "sim only", ITL, nil, []float64{0.001}))
	_, err := png.DecodeConfig(&w)
	assert.NoError(t, err)
}

func TestMedianRepetition(t *testing.T) {
	// p50s 3, 1, 2, 5: ordered 1 (rep 1), 2 (rep 2), 3 (rep 0), 5 (rep 3); the lower
	// middle of four is the second: repetition index 2.
	assert.Equal(t, 2, medianRepetition([][]float64{{3}, {1}, {2, 2, 2}, {5}}))
	assert.Equal(t, 1, medianRepetition([][]float64{{3}, {2}, {1}}), "odd count: the middle one")
	assert.Equal(t, 1, medianRepetition([][]float64{{2}, {2}, {2}}), "ties keep repetition order")
	assert.Equal(t, 2, medianRepetition([][]float64{{}, {}, {7}}), "repetitions without values are left out")
	assert.Equal(t, -1, medianRepetition(nil))
	assert.Contains(t, subtitle(TTFT, 4, 2), "bold: repetition 3, the median repetition")
	assert.Contains(t, subtitle(TTFT, 4, 2), "the one whose ttft p50 is the median of the repetitions' p50s")
}

func TestPlotPerRequest(t *testing.T) {
	real := [][]Record{evenRun(8, 3, 0.0173, 0.0136), evenRun(8, 3, 0.0190, 0.0136), evenRun(8, 3, 0.0160, 0.0136)}
	sim := scaled(real[0], 0.2)
	var a, b bytes.Buffer
	require.NoError(t, PlotPerRequest(&a, "queue-free-8: E2E", E2E, real, sim))
	require.NoError(t, PlotPerRequest(&b, "queue-free-8: E2E", E2E, real, sim))
	cfg, err := png.DecodeConfig(bytes.NewReader(a.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, 1200, cfg.Width)
	assert.Equal(t, a.Bytes(), b.Bytes(), "same inputs, same bytes")
	var first bytes.Buffer
	require.NoError(t, PlotPerRequest(&first, "queue-free-8: E2E", E2E, real[:1], sim))
	assert.NotEqual(t, a.Bytes(), first.Bytes(), "not repetition 1 only")
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
	run := [][]Record{evenRun(2, 2, 0.01, 0.01)}
	assert.ErrorContains(t, PlotPerRequest(&w, "t", ITL, run, nil), `metric "itl" is not per request`)
	assert.ErrorContains(t, PlotPerRequest(&w, "t", "bogus", run, nil), `metric "bogus" is not per request`)
	assert.EqualError(t, PlotPerRequest(&w, "t", TTFT, nil, nil), "plot ttft per request: no records on either side")
}
