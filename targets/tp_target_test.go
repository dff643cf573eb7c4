package targets

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tensor-parallel target loads with its profile (tp 2, all-reduce and idle poll
// tables) and the baselines recorded on two H200s, and its shapes split over its ranks.
func TestTPTargetLoads(t *testing.T) {
	tg, err := Lookup("h200x2-hfcb-tp2-qwen3-0.6b")
	require.NoError(t, err)
	assert.Equal(t, "h200x2-hfcb-tp2-qwen3-0.6b", tg.Name)
	assert.Equal(t, 2, tg.Settings.TP)
	assert.Equal(t, tg.Model.Name, tg.Settings.Model)
	assert.Equal(t, "profile", tg.Profile)
	bl, err := tg.Baselines()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"queue-free-spaced", "batched-burst", "long-prompt-mixed", "poisson-moderate",
		"cold-start-burst"}, bl)
	o, err := tg.SimOptions(true, false)
	require.NoError(t, err)
	require.NotNil(t, o.Profile)
	assert.Equal(t, 2, o.Profile.Provenance.TP)
	for name, v := range map[string]int{"q_heads": tg.Model.QHeads, "kv_heads": tg.Model.KVHeads,
		"intermediate": tg.Model.Intermediate} {
		assert.Zero(t, v%tg.Settings.TP, "%s %d must split over tp %d", name, v, tg.Settings.TP)
	}
}
