package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/targets"
)

// workflow is the part of a GitHub Actions workflow the GPU job graph is checked on.
type workflow struct {
	Env  map[string]string `yaml:"env"`
	Jobs map[string]struct {
		Needs    any `yaml:"needs"`
		If       string
		RunsOn   any `yaml:"runs-on"`
		Strategy struct {
			FailFast *bool `yaml:"fail-fast"`
			Matrix   struct {
				Target  []string         `yaml:"target"`
				Shard   []int            `yaml:"shard"`
				Include []map[string]any `yaml:"include"`
			} `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []struct {
			Uses string         `yaml:"uses"`
			Run  string         `yaml:"run"`
			If   string         `yaml:"if"`
			With map[string]any `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// The GPU workflow: a matrix of real targets × scenario shards on self-hosted GPU
// runners, each uploading its runs, and one job that judges them all with
// validate --run and uploads the report. (Its syntax is checked with actionlint:
// go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12.)
func TestGPUWorkflowJobGraph(t *testing.T) {
	data, err := os.ReadFile("../../.github/workflows/gpu.yml")
	require.NoError(t, err)
	var wf workflow
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	require.NoError(t, dec.Decode(&wf))

	rec, ok := wf.Jobs["record"]
	require.True(t, ok, "a record job")
	assert.Contains(t, rec.RunsOn, "self-hosted")
	assert.Contains(t, rec.RunsOn, "gpu")
	assert.Equal(t, "binaries", rec.Needs)
	require.NotNil(t, rec.Strategy.FailFast)
	assert.False(t, *rec.Strategy.FailFast, "one failing shard must not cancel the others")
	shards, err := strconv.Atoi(wf.Env["SHARDS"])
	require.NoError(t, err)
	var want []int
	for i := range shards {
		want = append(want, i)
	}
	assert.Equal(t, want, rec.Strategy.Matrix.Shard, "shard 0..SHARDS-1")
	require.NotEmpty(t, rec.Strategy.Matrix.Target)
	for _, name := range rec.Strategy.Matrix.Target {
		tgt, err := targets.Lookup(name)
		require.NoError(t, err)
		assert.False(t, tgt.Fixture(), "%s: a fixture target has no engine to record", name)
		assert.True(t, slices.ContainsFunc(rec.Strategy.Matrix.Include, func(m map[string]any) bool {
			return m["target"] == name && m["gpu"] != nil
		}), "%s: its runner label", name)
	}
	var shardRun, upload bool
	for _, st := range rec.Steps {
		shardRun = shardRun || strings.Contains(st.Run, `scripts/gpu-shard.sh "${{ matrix.target }}" "${{ matrix.shard }}" "$SHARDS" runs/`)
		if strings.HasPrefix(st.Uses, "actions/upload-artifact@") {
			upload = st.With["name"] == "runs-${{ matrix.target }}-${{ matrix.shard }}" && st.With["path"] == "runs/" &&
				st.If == "always()"
		}
	}
	assert.True(t, shardRun, "each matrix job records its shard")
	assert.True(t, upload, "each matrix job uploads its runs, also when a run failed")

	judge, ok := wf.Jobs["judge"]
	require.True(t, ok, "a judge job")
	assert.Equal(t, "record", judge.Needs)
	assert.Equal(t, "${{ !cancelled() }}", judge.If, "judges what the shards recorded even when one failed")
	var download, validate, report bool
	for _, st := range judge.Steps {
		if strings.HasPrefix(st.Uses, "actions/download-artifact@") {
			download = st.With["pattern"] == "runs-*" && st.With["merge-multiple"] == true
		}
		validate = validate || strings.Contains(st.Run, "go run ./cmd/simval validate \"${args[@]}\" --report-dir reports/validate")
		if strings.HasPrefix(st.Uses, "actions/upload-artifact@") {
			report = st.With["path"] == "reports/validate/" && st.If == "always()"
		}
	}
	assert.True(t, download, "the judge gathers every shard's runs")
	assert.True(t, validate, "and judges them with validate --run into one report")
	assert.True(t, report, "and uploads the report, pass or fail")
}

// scripts/gpu-shard.sh splits the catalog across shards: every scenario is recorded
// by exactly one shard, cold ones as fresh processes. A stand-in simval records the
// calls (the real one needs a GPU).
func TestGPUShardScriptCoversTheCatalogOnce(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found: the shard script is a bash script")
	}
	dir := t.TempDir()
	scList, _, code := runCLI(t, "scenarios")
	require.Equal(t, 0, code)
	tgtList, _, code := runCLI(t, "targets")
	require.Equal(t, 0, code)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "scenarios.txt"), []byte(scList), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "targets.txt"), []byte(tgtList), 0o644))
	fake := filepath.Join(dir, "simval")
	require.NoError(t, os.WriteFile(fake, []byte(`#!/usr/bin/env bash
case $1 in
scenarios) cat "$FAKE_DIR/scenarios.txt" ;;
targets) cat "$FAKE_DIR/targets.txt" ;;
real) echo "$*" >> "$FAKE_DIR/calls.txt" ;;
esac
`), 0o755))
	const shards = 3
	for s := range shards {
		cmd := exec.Command("bash", "../../scripts/gpu-shard.sh", h200, strconv.Itoa(s), strconv.Itoa(shards), filepath.Join(dir, "runs"))
		cmd.Env = append(os.Environ(), "SIMVAL="+fake, "FAKE_DIR="+dir)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	calls, err := os.ReadFile(filepath.Join(dir, "calls.txt"))
	require.NoError(t, err)
	all, err := scenarios.Catalog()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(calls)), "\n")
	require.Len(t, lines, len(all), "one run per catalog scenario over all shards")
	for _, sc := range all {
		n := 0
		for _, l := range lines {
			if strings.Contains(l, "--scenario "+sc.Name+" ") {
				n++
				assert.Contains(t, l, "--engine hfcb --target "+h200)
				assert.Contains(t, l, "--out "+filepath.Join(dir, "runs", h200+"."+sc.Name+".json"))
				assert.Equal(t, sc.Regime == "cold", strings.Contains(l, "--fresh-process --warmup none"), l)
			}
		}
		assert.Equal(t, 1, n, "%s recorded once", sc.Name)
	}

	cmd := exec.Command("bash", "../../scripts/gpu-shard.sh", "nope", "0", "3", filepath.Join(dir, "runs"))
	cmd.Env = append(os.Environ(), "SIMVAL="+fake, "FAKE_DIR="+dir)
	out, err := cmd.CombinedOutput()
	assert.Error(t, err)
	assert.Contains(t, string(out), "unknown target nope")
}
