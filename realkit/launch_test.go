package realkit

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLaunchArgv(t *testing.T) {
	args := []string{"--trace", "trace.jsonl", "--tp", "2"}
	for _, tp := range []int{0, 1} {
		assert.Equal(t, []string{"py", "-u", "drivers/hfcb_driver.py", "--trace", "trace.jsonl", "--tp", "2"},
			LaunchArgv("py", "drivers/hfcb_driver.py", tp, args), "tp %d is one process", tp)
	}
	assert.Equal(t, []string{"py", "-u", "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "4",
		"drivers/hfcb_driver.py", "--trace", "trace.jsonl", "--tp", "2"},
		LaunchArgv("py", "drivers/hfcb_driver.py", 4, args))
}

func TestLaunchEnvTurnsGraphMixingOffForTP(t *testing.T) {
	assert.Empty(t, launchEnv(DriverSpec{TP: 1}))
	assert.Equal(t, []string{"A=1", GraphMixingEnv}, launchEnv(DriverSpec{TP: 2, Env: []string{"A=1"}}))
	own := []string{"NCCL_GRAPH_MIXING_SUPPORT=1"}
	assert.Equal(t, own, launchEnv(DriverSpec{TP: 2, Env: own}), "the caller's own setting stands")
}

// torchStub puts testdata/torchstub first on PYTHONPATH: `python -m
// torch.distributed.run` is then a launcher stub that starts the ranks without torch.
func torchStub(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("testdata/torchstub")
	require.NoError(t, err)
	return "PYTHONPATH=" + dir
}

// A tensor-parallel launch goes through torchrun's command line: both ranks run the
// fake driver, rank 1 follows and stays silent on stdout (a second ready or meta line
// there would be a protocol error), and rank 0's meta reports tp 2 and its launch.
func TestRunDriverLaunchesTPRanksThroughTorchrun(t *testing.T) {
	requirePython(t)
	spec := fakeSpec()
	spec.TP, spec.Env = 2, []string{torchStub(t)}
	var stderr lockedBuffer
	reqs := fourRequests(0.02)
	run, err := RunDriver(t.Context(), spec, reqs, RunOptions{Repetitions: 2, Steps: true, KillGrace: time.Second,
		Stderr: &stderr})
	require.NoError(t, err, stderr.String())

	assert.Contains(t, run.Command, "-u -m torch.distributed.run --standalone --nproc-per-node 2 drivers/fake_driver.py "+
		"--trace trace.jsonl --repetitions 2 --seed 0 --steps --tp 2 --step-s")
	assert.Equal(t, 2, run.Meta.Settings.TP)
	var config struct {
		Distributed struct {
			WorldSize int `json:"world_size"`
			TP        int `json:"tp"`
			Rank      int `json:"rank"`
		} `json:"distributed"`
	}
	require.NoError(t, json.Unmarshal(run.Meta.EngineConfig, &config))
	assert.Equal(t, 2, config.Distributed.WorldSize)
	assert.Equal(t, 2, config.Distributed.TP)
	assert.Equal(t, 0, config.Distributed.Rank, "the protocol comes from rank 0")
	require.Len(t, run.Repetitions, 2)
	for _, rep := range run.Repetitions {
		assert.Len(t, rep.Records, len(reqs))
	}
	log := stderr.String()
	assert.Contains(t, log, "torchrun stub: 2 ranks of drivers/fake_driver.py")
	assert.Contains(t, log, "fake engine: rank 1 of 2 following")
	assert.Equal(t, 2, strings.Count(log, "fake engine: loading"), "both ranks loaded the engine")
}

func TestRunDriverRefusesTPWithoutItsLaunch(t *testing.T) {
	requirePython(t)
	// --tp 2 reaching a single process (no torchrun): the driver says how to launch it.
	run, err := RunDriver(t.Context(), fakeSpec("--tp", "2"), fourRequests(0.01), RunOptions{KillGrace: time.Second})
	require.Error(t, err)
	assert.NotNil(t, run)
	var de *DriverError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, de.DriverMessage, "--tp 2 but the launch has WORLD_SIZE 1: run it under python -m "+
		"torch.distributed.run --nproc-per-node 2")
}
