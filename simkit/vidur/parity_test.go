package vidur_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/internal/paritykit"
	"github.com/simval/simval/simkit/vidur"
	"github.com/simval/simval/simkit/vidurfmt"
)

// parityTolerance bounds the relative error of TTFT and E2E against Vidur's own
// output: the goal is identical event times, and 0.1% leaves room only for rounding.
const parityTolerance = 1e-3

// TestParityWithVidurRuns replays every recorded Vidur run of the parity kit and
// requires the same completion order and, per request, TTFT (prefill_e2e_time) and
// E2E (request_e2e_time) within parityTolerance; then the same request_metrics.csv.
func TestParityWithVidurRuns(t *testing.T) {
	kit := paritykit.Dir(t)
	preds, err := vidurfmt.LoadPredictions(filepath.Join(kit, "predictions"))
	require.NoError(t, err)
	for _, name := range []string{"small8-sarathi", "small8-vllm", "conv2000-sarathi"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(kit, "runs", name)
			cfg, err := vidurfmt.ReadRunConfigFile(filepath.Join(dir, "config.json"))
			require.NoError(t, err)
			rows, err := vidurfmt.ReadTraceFile(filepath.Join(dir, "trace.csv"), cfg.Trace)
			require.NoError(t, err)
			want, err := vidurfmt.ReadRequestMetricsFile(filepath.Join(dir, "request_metrics.csv"))
			require.NoError(t, err)

			run, err := vidur.RunParity(cfg, preds, rows, false)
			require.NoError(t, err)
			require.Len(t, run.Metrics, len(want))

			var worstTTFT, worstE2E float64
			for i, w := range want {
				g := run.Metrics[i]
				require.Equal(t, w.ID, g.ID, "completion order differs at position %d", i)
				worstTTFT = max(worstTTFT, relErr(g.Times[vidurfmt.ColPrefillE2E], w.Times[vidurfmt.ColPrefillE2E]))
				worstE2E = max(worstE2E, relErr(g.Times[vidurfmt.ColE2E], w.Times[vidurfmt.ColE2E]))
				assert.Equal(t, w.Restarts, g.Restarts, "request %d restarts", w.ID)
				assert.Equal(t, w.Prefill, g.Prefill, "request %d prompt", w.ID)
			}
			t.Logf("%s: %d requests, worst |rel err| TTFT %.3g, E2E %.3g", name, len(want), worstTTFT, worstE2E)
			assert.LessOrEqual(t, worstTTFT, parityTolerance)
			assert.LessOrEqual(t, worstE2E, parityTolerance)

			// Beyond the tolerance: every event time is Vidur's to the bit, so the
			// whole request_metrics.csv comes out byte for byte.
			var got bytes.Buffer
			require.NoError(t, vidurfmt.WriteRequestMetrics(&got, run.Metrics))
			wantBytes, err := os.ReadFile(filepath.Join(dir, "request_metrics.csv"))
			require.NoError(t, err)
			assert.Equal(t, string(wantBytes), got.String(), "request_metrics.csv")
		})
	}
}

func relErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// TestParityWholeTraces runs traces of the kit that have no recorded Vidur output
// (the whole splitwise_conv, and its first 2,000 rows stretched 4×) to completion.
func TestParityWholeTraces(t *testing.T) {
	kit := paritykit.Dir(t)
	cfg, err := vidurfmt.ReadRunConfigFile(filepath.Join(kit, "runs", "conv2000-sarathi", "config.json"))
	require.NoError(t, err)
	preds, err := vidurfmt.LoadPredictions(filepath.Join(kit, "predictions"))
	require.NoError(t, err)
	for _, trace := range []string{"splitwise_conv.csv", "splitwise_conv_first2000_x4.csv"} {
		t.Run(trace, func(t *testing.T) {
			rows, err := vidurfmt.ReadTraceFile(filepath.Join(kit, "traces", trace), cfg.Trace)
			require.NoError(t, err)
			run, err := vidur.RunParity(cfg, preds, rows, false)
			require.NoError(t, err)
			require.Len(t, run.Metrics, len(rows))
			restarts := 0
			for _, m := range run.Metrics {
				restarts += m.Restarts
			}
			t.Logf("%s: %d requests, %d batches, %d restarts, last completion at %.1f s",
				trace, len(rows), run.Totals.Steps, restarts, run.Totals.EndS)
		})
	}
}
