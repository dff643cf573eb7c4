package validation

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRowsJSON(t *testing.T) {
	real := evenRun(2, 2, 0.010, 0.010)
	c := Compare(real, scaled(real, 1.5), DefaultCriteria())
	rows := c.Rows("queue-free-8", "h200-hfcb-qwen3-0.6b")
	require.Len(t, rows, 16)
	assert.Equal(t, ResultRow{Scenario: "queue-free-8", Target: "h200-hfcb-qwen3-0.6b", Metric: E2E, Stat: P99,
		Real: c.Checks[15].Real, Sim: c.Checks[15].Sim, RelErr: c.Checks[15].RelErr, Bound: 0.10, EffectiveBound: 0.10, Gated: true}, rows[15])

	b, err := json.Marshal(rows[0])
	require.NoError(t, err)
	assert.Equal(t, []string{"scenario", "target", "metric", "stat", "real", "sim", "rel_err", "bound", "noise",
		"effective_bound", "pass", "gated"}, jsonKeys(t, b))
	var back map[string]any
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, "ttft", back["metric"])
	assert.Equal(t, "mean", back["stat"])
	assert.InDelta(t, 0.5, back["rel_err"], 1e-9)
	assert.InDelta(t, 0.05, back["bound"], 0)
	assert.Equal(t, false, back["pass"])
}

func TestResultRowNonFiniteIsNull(t *testing.T) {
	b, err := json.Marshal(ResultRow{Metric: ITL, Stat: Mean, Sim: 0.01, RelErr: math.Inf(1), Bound: 0.05})
	require.NoError(t, err)
	assert.JSONEq(t, `{"scenario":"","target":"","metric":"itl","stat":"mean","real":0,"sim":0.01,"rel_err":null,"bound":0.05,"noise":0,"effective_bound":0,"pass":false,"gated":false}`, string(b))
}

// jsonKeys lists a flat JSON object's keys in document order.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	_, err := dec.Token() // {
	require.NoError(t, err)
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		_, err = dec.Token() // the value: flat object, so one token
		require.NoError(t, err)
	}
	return keys
}
