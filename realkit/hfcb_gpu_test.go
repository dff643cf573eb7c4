//go:build gpu

package realkit

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/realkit/gputest"
	"github.com/simval/simval/scenarios"
)

// TestHFCBDriverOnGPU is a smoke test of the transformers continuous-batching driver:
// a short queue-free replay must come back complete, warm, with resolved settings.
func TestHFCBDriverOnGPU(t *testing.T) {
	gputest.RequireGPU(t)
	if ok, reason := EnginePresent("hfcb"); !ok {
		gputest.SkipOrFail(t, "hfcb engine: "+reason)
	}
	var reqs []scenarios.Request
	for i := range 4 {
		reqs = append(reqs, scenarios.Request{ID: fmt.Sprint(i), ArrivalS: 0.5 * float64(i), PromptTokens: 7 + i,
			OutputTokens: 16})
	}
	run, err := RunDriver(t.Context(), DriverSpec{Engine: "hfcb"}, reqs,
		RunOptions{Steps: true, Stderr: t.Output(), ReadyTimeout: 10 * time.Minute})
	require.NoError(t, err)

	s := run.Meta.Settings
	assert.Equal(t, "hfcb:fifo", s.Scheduler)
	assert.Equal(t, 256, s.BlockSize)
	assert.Positive(t, s.TokenBudget)
	assert.Positive(t, s.NumBlocks)
	assert.True(t, s.CUDAGraphs)
	assert.Equal(t, "paged|sdpa", s.AttentionBackend)
	assert.Equal(t, "bfloat16", s.DType)
	assert.Equal(t, "Qwen/Qwen3-0.6B", s.Model)
	assert.Empty(t, run.Meta.SettingsUnknown)
	assert.Equal(t, "engine", run.Meta.Timestamps)
	assert.NotEqual(t, "unknown", run.Meta.GPU.Name)
	t.Logf("meta: engine %s %s, gpu %+v, settings %+v, warm-up %q", run.Meta.Engine, run.Meta.EngineVersion,
		run.Meta.GPU, s, run.Meta.WarmupPolicy)

	rep := run.Repetitions[0]
	require.Len(t, rep.Records, len(reqs))
	assert.NotEmpty(t, rep.Steps)
	for _, rec := range rep.Records {
		ttft := rec.FirstTokenS - rec.ArrivalS
		assert.True(t, ttft > 0.001 && ttft < 1, "warm TTFT of %s is %.4f s", rec.ID, ttft)
		for k := 1; k < len(rec.TokenTimesS); k++ {
			itl := rec.TokenTimesS[k] - rec.TokenTimesS[k-1]
			assert.True(t, itl > 0.001 && itl < 0.5, "ITL %d of %s is %.4f s", k, rec.ID, itl)
		}
		require.NotNil(t, rec.FirstScheduledS)
		t.Logf("request %s: TTFT %.2f ms, E2E %.2f ms", rec.ID, 1e3*ttft, 1e3*(rec.CompletionS-rec.ArrivalS))
	}
	t.Logf("lateness %+v, %d steps", rep.Lateness, len(rep.Steps))
}
