package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/realkit"
)

// TestRealKeepsWhatACrashedRunFinished replays a scenario on the fake engine (the
// replay loop's test double) that dies after 3 requests: the command fails, says
// where the run stopped, and keeps the finished requests in a .partial.json file.
func TestRealKeepsWhatACrashedRunFinished(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3: the fake engine driver needs it")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "b.json")
	common := []string{"real", "--engine", "fake", "--scenario", "batched-burst", "--target", h200, "--repetitions", "1", "--warmup", "none"}

	_, errOut, code := runCLI(t, append(common, "--out", out)...)
	require.Equal(t, 0, code, errOut)
	b, err := realkit.ReadBaselineFile(out)
	require.NoError(t, err)
	assert.Len(t, b.Repetitions[0].Records, 16)

	_, errOut, code = runCLI(t, append(common, "--out", out, "--driver-arg=--crash-after", "--driver-arg=3")...)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "after 3 of 16 requests finished")
	assert.Contains(t, errOut, "b.partial.json: a partial run, 3 of 16 requests finished (1 repetitions begun); not a baseline")
	partial, err := realkit.ReadBaselineFile(filepath.Join(dir, "b.partial.json"))
	require.NoError(t, err)
	assert.Len(t, partial.Repetitions[0].Records, 3)
	_, err = os.Stat(out)
	require.NoError(t, err, "the complete baseline from the first run is untouched")
}
