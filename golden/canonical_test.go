package golden

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCanonical(t *testing.T) {
	type inner struct {
		X float64 `json:"x"`
		N int     `json:"n"`
	}
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"float noise rounded", map[string]float64{"a": 0.1 + 0.2}, "{\n  \"a\": 0.3\n}\n"},
		{"integers kept", []int{1, 20000000000}, "[\n  1,\n  20000000000\n]\n"},
		{"struct order kept", inner{X: 1.5, N: 2}, "{\n  \"x\": 1.5,\n  \"n\": 2\n}\n"},
		{"empty containers", map[string]any{"a": []int{}, "b": map[string]int{}}, "{\n  \"a\": [],\n  \"b\": {}\n}\n"},
		{"small values", []float64{0.0226123456789, 1e-7}, "[\n  0.02261234568,\n  1e-07\n]\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Canonical(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
}

func TestCanonicalRejectsNaN(t *testing.T) {
	_, err := Canonical(map[string]float64{"a": math.NaN()})
	assert.Error(t, err)
}

func TestCanonicalDeterministic(t *testing.T) {
	v := map[string]any{"z": 1.25, "a": []any{"x", 2.5, map[string]int{"k": 1, "b": 2}}}
	a, err := Canonical(v)
	require.NoError(t, err)
	b, err := Canonical(v)
	require.NoError(t, err)
	assert.Equal(t, a, b)
}

func TestAssertJSONRoundTrip(t *testing.T) {
	if Updating() {
		t.Skip("golden update run: this test checks the committed fixture")
	}
	AssertJSON(t, "self", "fixture.json", map[string]any{"ttft_s": 0.0231, "count": 8})
}
