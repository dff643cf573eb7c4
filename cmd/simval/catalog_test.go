package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/internal/catalogdirs"
)

const mineSpec = `name: mine
regime: batched
description: a user's own scenario, replaying the trace beside it.
workload:
  trace: mine.jsonl
`

const mineTrace = `{"id":"a","arrival_s":0,"prompt_tokens":20,"output_tokens":8}
{"id":"b","arrival_s":0.5,"prompt_tokens":30,"output_tokens":6}
`

// A folder of one's own: a scenario and a target (a copy of the fixture target under
// another name) are listed and simulated with --catalog, or with SIMVAL_CATALOG.
func TestCatalogFolderOfYourOwn(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "scenarios/mine.yaml", mineSpec)
	writeFile(t, dir, "scenarios/mine.jsonl", mineTrace)
	tdir := filepath.Join(dir, "targets", "my-gpu")
	require.NoError(t, os.CopyFS(tdir, os.DirFS("../../targets/catalog/fixture-sarathi-qwen3-0.6b")))
	yaml, err := os.ReadFile(filepath.Join(tdir, "target.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.Chmod(filepath.Join(tdir, "target.yaml"), 0o644))
	writeFile(t, tdir, "target.yaml", strings.Replace(string(yaml), "name: fixture-sarathi-qwen3-0.6b", "name: my-gpu", 1))

	out, errOut, code := runCLI(t, "scenarios", "--catalog", dir)
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `(?m)^mine +batched +2 +a user`, out)
	out, errOut, code = runCLI(t, "targets", "--catalog", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "my-gpu")
	out, errOut, code = runCLI(t, "sim", "--catalog", dir, "--scenario", "mine", "--target", "my-gpu")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "target my-gpu: 2 requests")

	_, errOut, code = runCLI(t, "sim", "--scenario", "mine", "--target", h200)
	require.Equal(t, 2, code, "without the folder there is no such scenario")
	assert.Contains(t, errOut, `no scenario "mine"`)
	t.Setenv(catalogdirs.Env, dir)
	out, errOut, code = runCLI(t, "sim", "--scenario", "mine", "--target", h200)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "2 requests")
}

// One bad key in one file breaks only what needs that file: other scenarios simulate
// and validate; the list shows the rest and names the file, line and field; the
// validations that need the file fail naming it.
func TestOneBrokenFileBreaksOnlyWhatNeedsIt(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "scenarios/bad.yaml",
		"name: bad\nregime: batched\ndescription: d\nworkload:\n  count: 2\n  arrivals: {kind: poisson, rate: 2}\n")
	badDecision := writeFile(t, dir, "scenarios/decisions/bad-decision.yaml",
		"name: bad-decision\ndescription: d\nscenario: batched-burst\ntarget: "+h200+"\nsetting: num_blocks\nbund: 0.2\n")
	wantBad := bad + ": line 6: field workload.arrivals.rate: unknown field; the known fields here are kind, times_s, " +
		"start_s, spacing_s, at_s, size, rate_per_s, cv"
	wantDecision := badDecision + ": line 6: field bund: unknown field"

	_, errOut, code := runCLI(t, "sim", "--catalog", dir, "--scenario", "queue-free-spaced", "--target", h200)
	assert.Equal(t, 0, code, errOut)
	_, errOut, code = runCLI(t, "validate", "--catalog", dir, "--scenario", "queue-free-spaced", "--target", h200)
	assert.Equal(t, 0, code, "the broken decision is of another scenario: %s", errOut)

	out, errOut, code := runCLI(t, "scenarios", "--catalog", dir)
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "queue-free-spaced", "the good ones are listed")
	assert.Contains(t, errOut, wantBad)

	_, errOut, code = runCLI(t, "validate", "--catalog", dir, "--target", h200)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "validating every scenario needs every scenario file")
	assert.Contains(t, errOut, wantBad)
	_, errOut, code = runCLI(t, "validate", "--catalog", dir, "--scenario", "batched-burst", "--target", h200)
	assert.Equal(t, 2, code, "the broken decision is of this scenario")
	assert.Contains(t, errOut, wantDecision)
}

func TestCatalogNameClashNamesBothFiles(t *testing.T) {
	dir := t.TempDir()
	mine := writeFile(t, dir, "scenarios/batched-burst.yaml", strings.Replace(mineSpec, "name: mine", "name: batched-burst", 1))
	_, errOut, code := runCLI(t, "sim", "--catalog", dir, "--scenario", "batched-burst", "--target", h200)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `"batched-burst" is defined twice, in catalog/batched-burst.yaml and in `+mine)
}

// A per-target override naming a target that does not exist is an error naming the
// file, its line and the targets there are, not an override silently never used.
func TestMisspelledTargetOverrideIsAnError(t *testing.T) {
	dir := t.TempDir()
	spec := writeFile(t, dir, "scenarios/typo.yaml", strings.Replace(mineSpec, "name: mine", "name: typo", 1)+
		"targets:\n  h200-hfcb-qwen3-06b:\n    trace: mine.jsonl\n")
	writeFile(t, dir, "scenarios/mine.jsonl", mineTrace)
	want := spec + `: line 7: field targets.h200-hfcb-qwen3-06b: no target "h200-hfcb-qwen3-06b": the override would never ` +
		"be used (known targets: fixture-sarathi-qwen3-0.6b, h200-hfcb-qwen3-0.6b, h200x2-hfcb-tp2-qwen3-0.6b)"
	for _, args := range [][]string{
		{"sim", "--catalog", dir, "--scenario", "typo", "--target", h200},
		{"validate", "--catalog", dir, "--scenario", "typo", "--target", h200},
		{"scenarios", "--catalog", dir},
	} {
		_, errOut, code := runCLI(t, args...)
		assert.Equal(t, 2, code, args)
		assert.Contains(t, errOut, want, args)
	}
}
