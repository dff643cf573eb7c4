package validation

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withComm gives a step its communication time.
func withComm(s Step, comm float64) Step { s.CommS = comm; return s }

// A tensor-parallel fixture: two real repetitions of 2 decode steps and 1 prefill step,
// the simulator with the same steps. Per step (ms): real decode 10 of which 3
// communication, real prefill 40 of which 8; sim decode 9 of which 1, prefill 44 of
// which 10. Execution error per repetition = 2·(9−10) + (44−40) = +2 ms: communication
// 2·(1−3) + (10−8) = −2 ms, compute 2·(8−7) + (34−32) = +4 ms.
func commFixture(realComm bool) ([][]Step, []Step) {
	rc := func(v float64) float64 {
		if realComm {
			return v
		}
		return 0
	}
	rep := func() []Step {
		return []Step{
			withComm(st(0, 0.010, dec("a", 5)), rc(0.003)),
			withComm(st(0.01, 0.010, dec("a", 6)), rc(0.003)),
			withComm(st(0.02, 0.040, pre("b", 500)), rc(0.008)),
		}
	}
	sim := []Step{
		withComm(st(0, 0.009, dec("a", 5)), 0.001),
		withComm(st(0.01, 0.009, dec("a", 6)), 0.001),
		withComm(st(0.02, 0.044, pre("b", 500)), 0.010),
	}
	return [][]Step{rep(), rep()}, sim
}

func TestCommAttributionSplitsTheExecutionError(t *testing.T) {
	real, sim := commFixture(true)
	c, err := CompareSteps(real, sim)
	require.NoError(t, err)
	a := c.Attribution
	assert.InDelta(t, 0.002, a.Execution, 1e-12)
	require.NotNil(t, a.Comm)
	assert.True(t, a.Comm.Measured)
	assert.Empty(t, a.Comm.Unsplit)
	assert.InDelta(t, -0.002, a.Comm.Communication, 1e-12)
	assert.InDelta(t, 0.004, a.Comm.Compute, 1e-12)
	assert.InDelta(t, a.Execution, a.Comm.Communication+a.Comm.Compute, 1e-15, "the split is exact")
	assert.InDelta(t, 0.012, a.Comm.SimCommS, 1e-12)
	assert.InDelta(t, 0.014, a.Comm.RealCommS, 1e-12)
	assert.InDelta(t, 0.012/0.062, a.Comm.SimShare, 1e-12)
	for _, row := range c.ByKind {
		if row.Kind == StepDecode {
			assert.InDelta(t, 0.003, row.RealCommMeanS, 1e-12)
			assert.InDelta(t, 0.001, row.SimCommMeanS, 1e-12)
		}
	}
}

func TestCommAttributionNeedsMeasuredRealCommunication(t *testing.T) {
	real, sim := commFixture(false)
	c, err := CompareSteps(real, sim)
	require.NoError(t, err)
	a := c.Attribution
	require.NotNil(t, a.Comm, "the predicted communication is still reported")
	assert.False(t, a.Comm.Measured)
	assert.InDelta(t, 0.012, a.Comm.SimCommS, 1e-12)
	assert.Zero(t, a.Comm.Communication)
	assert.Zero(t, a.Comm.Compute)
	assert.Zero(t, a.Comm.RealCommS)
	assert.Contains(t, a.Comm.Unsplit, "cannot be split into communication and compute")

	// One real step without its time is enough to withhold the split.
	real, sim = commFixture(true)
	real[1][2].CommS = 0
	c, err = CompareSteps(real, sim)
	require.NoError(t, err)
	assert.False(t, c.Attribution.Comm.Measured)
}

func TestCommAttributionAbsentOnOneGPU(t *testing.T) {
	c, err := CompareSteps([][]Step{{st(0, 0.01, dec("a", 1))}}, []Step{st(0, 0.012, dec("a", 1))})
	require.NoError(t, err)
	assert.Nil(t, c.Attribution.Comm)
}

func TestReportShowsTheCommunicationSplit(t *testing.T) {
	for _, tc := range []struct {
		measured bool
		want     string
	}{
		{true, "Communication between GPUs: sim 12.000 ms per repetition (19.4% of sim busy), real 14.000 ms; " +
			"execution error = communication -2.000 ms + compute +4.000 ms."},
		{false, "Communication between GPUs: sim 12.000 ms per repetition (19.4% of sim busy); the real steps do not " +
			"all report"},
	} {
		real, sim := commFixture(tc.measured)
		c, err := CompareSteps(real, sim)
		require.NoError(t, err)
		var b strings.Builder
		writeSteps(&b, c)
		assert.Contains(t, b.String(), tc.want)
	}
}
