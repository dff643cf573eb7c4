package suite

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

// The tensor-parallel target (two H200s) is predicted from its own bundle and judged
// against its recorded baselines like every catalog target; this test holds the TP
// path's own signatures, so a change that breaks it fails here by name: every
// decode-side mean within the default bound, and an idle TP engine's admission poll in
// the queue-free TTFT (one GPU: 23 ms).
func TestTPTargetPredictsDecodeAndIdlePoll(t *testing.T) {
	tp, err := targets.Lookup("h200x2-hfcb-tp2-qwen3-0.6b")
	require.NoError(t, err)
	for _, name := range []string{"queue-free-spaced", "batched-burst", "long-prompt-mixed", "poisson-moderate"} {
		t.Run(name, func(t *testing.T) {
			sc, err := scenarios.Lookup(name)
			require.NoError(t, err)
			real, why, err := RecordedBaselines(sc, tp)
			require.NoError(t, err)
			require.NotNil(t, real, why)
			ev, err := Evaluate(context.Background(), sc, tp, Simulator{}, real)
			require.NoError(t, err)
			require.NotNil(t, ev.Comparison)
			require.NotNil(t, ev.Outcome.Breakdown)
			for _, row := range ev.Comparison.Checks {
				if row.Stat == validation.Mean && row.Metric != validation.TTFT {
					assert.LessOrEqual(t, math.Abs(row.RelErr), 0.05, "%s %s: real %.4f sim %.4f", row.Metric,
						row.Stat, row.Real, row.Sim)
				}
			}
			if name == "queue-free-spaced" {
				assert.Greater(t, ev.Comparison.Sim.TTFT.Mean, 0.05,
					"a request to an idle TP engine waits for the next idle poll")
			}
		})
	}
}
