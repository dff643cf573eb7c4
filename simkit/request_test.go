package simkit

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSimRequestLifecycle(t *testing.T) {
	type step struct {
		t float64
		n int
	}
	tests := []struct {
		name       string
		prompt     int
		output     int
		steps      []step
		wantTokens []float64
		completed  bool
		completedS float64
	}{
		{"P10 D4: prefill then 3 decodes", 10, 4,
			[]step{{1, 10}, {2, 1}, {3, 1}, {4, 1}}, []float64{1, 2, 3, 4}, true, 4},
		{"D1 ends with the prefill", 10, 1, []step{{1, 10}}, []float64{1}, true, 1},
		{"chunked prefill yields no token until the last chunk", 10, 2,
			[]step{{1, 4}, {2, 4}, {3, 2}, {4, 1}}, []float64{3, 4}, true, 4},
		{"unfinished", 10, 3, []step{{1, 10}, {2, 1}}, []float64{1, 2}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewSimRequest(0, req("a", 0, tc.prompt, tc.output), true)
			for _, s := range tc.steps {
				r.OnBatchSchedule(s.t - 1)
				r.OnBatchEnd(s.t, s.n)
			}
			assert.Equal(t, tc.wantTokens, r.TokenTimesS)
			assert.Equal(t, tc.completed, r.Completed)
			assert.Equal(t, tc.completedS, r.CompletedS)
			assert.Equal(t, tc.wantTokens[0], r.FirstTokenS)
			assert.Equal(t, tc.wantTokens[0], r.PrefillCompletedS)
			assert.Equal(t, 0.0, r.ScheduledAtS)
		})
	}
}

func TestSimRequestRestartAfterPrefill(t *testing.T) {
	r := NewSimRequest(0, req("a", 0, 10, 4), true)
	r.OnBatchSchedule(0)
	r.OnBatchEnd(1, 10) // token 1
	r.OnBatchEnd(2, 1)  // token 2, processed 12
	r.Restart()
	assert.Equal(t, 12, r.Prompt, "Vidur: the new prompt is everything processed")
	assert.Equal(t, 2, r.Decode, "P+D is preserved")
	assert.Equal(t, 0, r.Processed)
	assert.False(t, r.PrefillComplete)
	r.OnBatchSchedule(5)
	assert.Equal(t, 0.0, r.ScheduledAtS, "first scheduling time survives restarts")
	r.OnBatchEnd(6, 8) // recompute, no token
	r.OnBatchEnd(7, 4) // recompute done: token 3
	r.OnBatchEnd(8, 1) // token 4, done
	assert.Equal(t, []float64{1, 2, 7, 8}, r.TokenTimesS)
	assert.True(t, r.Completed)
	assert.Equal(t, 1.0, r.FirstTokenS)
	assert.Equal(t, 1.0, r.PrefillCompletedS, "prefill completion is the first one")
	assert.Equal(t, 1, r.Restarts)
}

// Vidur restarts a half-done prefill with Prompt := Processed, so its shortened
// "prefill" completes early. Output tokens still count against the real prompt.
func TestSimRequestRestartMidPrefill(t *testing.T) {
	r := NewSimRequest(0, req("a", 0, 10, 3), true)
	r.OnBatchEnd(1, 4)
	r.Restart()
	assert.Equal(t, 4, r.Prompt)
	assert.Equal(t, 9, r.Decode)
	r.OnBatchEnd(2, 4) // Vidur's prefill "completes" at 4 (+1 = 5): no real token yet
	assert.True(t, r.PrefillComplete)
	assert.Equal(t, 2.0, r.PrefillCompletedS)
	assert.Empty(t, r.TokenTimesS)
	for i := 3; i <= 10; i++ { // decodes walk through the rest of the prompt, then tokens
		r.OnBatchEnd(float64(i), 1)
	}
	assert.Equal(t, []float64{8, 9, 10}, r.TokenTimesS)
	assert.True(t, r.Completed)
	assert.Equal(t, 8.0, r.FirstTokenS)
}

func TestSimRequestWithoutTokenTimes(t *testing.T) {
	r := NewSimRequest(0, req("a", 0, 5, 3), false)
	r.OnBatchEnd(1, 5)
	r.OnBatchEnd(2, 1)
	r.OnBatchEnd(3, 1)
	assert.Nil(t, r.TokenTimesS)
	assert.Equal(t, 3, r.Emitted)
	assert.Equal(t, 1.0, r.FirstTokenS)
	assert.Equal(t, 3.0, r.LastTokenS)
	assert.Equal(t, 3.0, r.CompletedS)
}

func TestSimRequestOverrunPanics(t *testing.T) {
	r := NewSimRequest(0, req("a", 0, 5, 1), false)
	assert.Panics(t, func() { r.OnBatchEnd(1, 7) })
}
