package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/targets"
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

func TestDriverSpecFollowsTheTarget(t *testing.T) {
	tgt, err := targets.Lookup(h200)
	require.NoError(t, err)
	spec, err := driverSpec(realFlags{engine: "hfcb", driverArgs: []string{"--no-cuda-graph"}}, tgt)
	require.NoError(t, err)
	assert.Equal(t, 1, spec.TP)
	require.Len(t, spec.Args, 3)
	assert.Equal(t, []string{"--no-cuda-graph", "--model-spec"}, spec.Args[:2])
	var m simkit.ModelSpec
	require.NoError(t, json.Unmarshal([]byte(spec.Args[2]), &m))
	assert.Equal(t, tgt.Model, m, "the driver builds the target's model")
	tp2 := *tgt
	tp2.Settings.TP = 2
	modelJSON := spec.Args[2]
	spec, err = driverSpec(realFlags{engine: "hfcb", model: "/models/q"}, &tp2)
	require.NoError(t, err)
	assert.Equal(t, 2, spec.TP, "a tp 2 target launches two ranks")
	assert.Equal(t, []string{"--model", "/models/q"}, spec.Args, "a model folder replaces the spec")

	spec, err = driverSpec(realFlags{engine: "fake"}, &tp2)
	require.NoError(t, err)
	assert.Empty(t, spec.Args, "only the hfcb driver takes a model spec")

	// The driver itself accepts that JSON (every field simkit.ModelSpec writes) and
	// builds the model's configuration from it, the context included.
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH: the driver's side of the model spec is not checked")
	}
	check := exec.Command(py, "-c", `import sys, hfcb_dist
name, kw = hfcb_dist.config_from_spec(sys.argv[1], "bfloat16")
print(name, kw["num_hidden_layers"], kw["max_position_embeddings"])`, modelJSON)
	check.Dir = "../../realkit/drivers"
	out, err := check.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, fmt.Sprintf("%s %d %d\n", tgt.Model.Name, tgt.Model.Layers, tgt.Model.MaxContext), string(out))
}
