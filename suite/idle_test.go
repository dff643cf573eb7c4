package suite

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/validation"
)

func step(start, dur float64, warm bool, items ...validation.StepItem) validation.Step {
	return validation.Step{StartS: start, DurationS: dur, Warmup: warm, Items: items}
}

func pre(id string) validation.StepItem { return validation.StepItem{ID: id, Prefill: 16} }
func dec(id string) validation.StepItem { return validation.StepItem{ID: id, Decode: 1} }

// A repetition after another starts from the previous one's last step, on its own
// clock, with the wake-up the previous one left; after a warm-up, from the warm-up's.
func TestIdleStateOf(t *testing.T) {
	b := &realkit.Baseline{Meta: realkit.Meta{WarmupPolicy: "replay"}, Repetitions: []realkit.Repetition{
		{Steps: []validation.Step{step(-1, 0.02, true, pre("w")), step(-0.9795, 0.02, true, dec("w"), pre("x")),
			step(0, 0.05, false, pre("a")), step(0.0505, 0.02, false, dec("a"), pre("b"))},
			Summary: &realkit.Summary{T0Clock: 100}},
		{Steps: []validation.Step{step(0, 0.05, false, pre("a"))}, Summary: &realkit.Summary{T0Clock: 100.5}},
	}}
	assert.Equal(t, simkit.IdleState{SinceS: -0.9595, WakePending: true}, round(idleStateOf(b, 0)))
	assert.Equal(t, simkit.IdleState{SinceS: -0.4295, WakePending: true}, round(idleStateOf(b, 1)))
	b.Meta.WarmupPolicy = realkit.FreshProcessPolicy
	assert.True(t, math.IsNaN(idleStateOf(b, 1).SinceS), "another process: unknown")
}

func round(s simkit.IdleState) simkit.IdleState {
	s.SinceS = math.Round(s.SinceS*1e9) / 1e9
	return s
}
