package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/internal/paritykit"
)

// TestSimVidurParityReproducesRuns runs `simval sim --vidur-config … --vidur-predictions
// … --trace …` on every recorded Vidur run of the parity kit and requires Vidur's
// request_metrics.csv byte for byte.
func TestSimVidurParityReproducesRuns(t *testing.T) {
	kit := paritykit.Dir(t)
	entries, err := os.ReadDir(filepath.Join(kit, "runs"))
	require.NoError(t, err)
	runs := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		runs++
		t.Run(e.Name(), func(t *testing.T) {
			dir := filepath.Join(kit, "runs", e.Name())
			out, stderr, code := runCLI(t, "sim", "--vidur-config", filepath.Join(dir, "config.json"),
				"--vidur-predictions", filepath.Join(kit, "predictions"), "--trace", filepath.Join(dir, "trace.csv"))
			require.Equal(t, 0, code, stderr)
			want, err := os.ReadFile(filepath.Join(dir, "request_metrics.csv"))
			require.NoError(t, err)
			assert.Equal(t, string(want), out, "request_metrics.csv differs from Vidur's")
		})
	}
	require.Positive(t, runs, "the parity kit has no runs under %s/runs", kit)
}

func TestSimVidurParityRefuses(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--vidur-config", "c.json", "--trace", "t.csv"}, "needs both --vidur-config"},
		{[]string{"--vidur-config", "c.json", "--vidur-predictions", "p", "--trace", "t.csv", "--target", h200},
			"--target does not apply in parity mode"},
		{[]string{"--vidur-config", "no-such.json", "--vidur-predictions", "p", "--trace", "t.csv"}, "no-such.json"},
		{[]string{"--trace", "t.csv"}, `required flag(s) "target" not set`},
	}
	for _, tc := range tests {
		_, stderr, code := runCLI(t, append([]string{"sim"}, tc.args...)...)
		assert.Equal(t, 2, code)
		assert.Contains(t, stderr, tc.want)
	}
}

// BenchmarkSimVidurParitySplitwiseConv is the whole work of `simval sim --vidur-config
// … --trace splitwise_conv.csv`: read the config, the prediction tables and Vidur's
// 19,366-request trace, simulate, and write request_metrics.csv. Warm Vidur needs
// 32.9 s wall for the same trace on these 2-core machines.
func BenchmarkSimVidurParitySplitwiseConv(b *testing.B) {
	kit := paritykit.Dir(b)
	f := vidurParityFlags{config: filepath.Join(kit, "runs", "conv2000-sarathi", "config.json"),
		predictions: filepath.Join(kit, "predictions")}
	trace := filepath.Join(kit, "traces", "splitwise_conv.csv")
	b.ReportAllocs()
	for b.Loop() {
		require.NoError(b, runVidurParity(io.Discard, f, trace))
	}
}

// TestValidateSystemVidur judges Vidur from its recorded runs, as sim-only CI does.
func TestValidateSystemVidur(t *testing.T) {
	out, stderr, code := runCLI(t, "validate", "--system", "vidur", "--scenario", "queue-free-spaced", "--target", h200, "--format", "json")
	require.Equal(t, 1, code, "Vidur is out of bounds on the H200 target: %s", stderr)
	var doc validateJSON
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.False(t, doc.Pass)
	require.NotEmpty(t, doc.Results)
	assert.Empty(t, doc.Decisions, "decisions are judged for simval only")
	assert.True(t, slices.ContainsFunc(doc.Warnings, func(w string) bool { return strings.Contains(w, "recorded run of microsoft/vidur 7d47513") }))
	assert.True(t, slices.ContainsFunc(doc.Warnings, func(w string) bool { return strings.Contains(w, "scheduler") }),
		"the settings Vidur cannot match are named")

	_, stderr, code = runCLI(t, "validate", "--system", "vidur-cpu", "--scenario", "queue-free-spaced", "--target", h200)
	assert.Equal(t, 1, code, stderr)
	_, stderr, code = runCLI(t, "validate", "--system", "vidurr")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `--system "vidurr": want simval, vidur or vidur-cpu`)
	_, stderr, code = runCLI(t, "validate", "--system", "vidur", "--no-cpu-overhead")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--no-cpu-overhead applies to simval")
}
