package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/internal/catalogdirs"
)

// userCatalog writes files (relative path → content) under a fresh folder and points
// SIMVAL_CATALOG at it.
func userCatalog(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, data := range files {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	t.Setenv(catalogdirs.Env, dir)
	return dir
}

const userSpec = `name: mine
regime: batched
description: a user's own scenario, replaying a trace beside it.
workload:
  trace: mine.jsonl
`

func TestUserCatalogScenarios(t *testing.T) {
	dir := userCatalog(t, map[string]string{
		"scenarios/mine.yaml":  userSpec,
		"scenarios/mine.jsonl": `{"id":"a","arrival_s":0,"prompt_tokens":5,"output_tokens":3}` + "\n",
	})
	all, err := Catalog()
	require.NoError(t, err)
	var names []string
	for _, s := range all {
		names = append(names, s.Name)
	}
	assert.Contains(t, names, "mine")
	assert.Contains(t, names, "queue-free-spaced")

	s, err := Lookup("mine")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "scenarios", "mine.yaml"), s.Source())
	assert.Equal(t, dir, s.CatalogDir())
	reqs, err := s.Requests("")
	require.NoError(t, err)
	assert.Equal(t, []Request{{ID: "a", PromptTokens: 5, OutputTokens: 3}}, reqs, "the trace is read beside the spec")

	emb, err := Lookup("queue-free-spaced")
	require.NoError(t, err)
	assert.Empty(t, emb.CatalogDir())
}

func TestUserCatalogNameClash(t *testing.T) {
	dir := userCatalog(t, map[string]string{"scenarios/batched-burst.yaml": strings.Replace(userSpec, "name: mine", "name: batched-burst", 1)})
	want := `"batched-burst" is defined twice, in catalog/batched-burst.yaml and in ` + filepath.Join(dir, "scenarios", "batched-burst.yaml")
	_, err := Lookup("batched-burst")
	assert.ErrorContains(t, err, want)
	all, err := Catalog()
	assert.ErrorContains(t, err, want)
	assert.NotEmpty(t, all, "the other scenarios are still listed")
}

// One bad key in one file: every other scenario still loads by name; the catalog
// lists the good ones and names the broken file's line and field.
func TestBrokenUserScenarioBreaksOnlyItself(t *testing.T) {
	dir := userCatalog(t, map[string]string{
		"scenarios/bad.yaml": "name: bad\nregime: batched\ndescription: d\nworkload:\n  count: 2\n  arrivals: {kind: poisson, rate: 2}\n",
	})
	_, err := Lookup("queue-free-spaced")
	require.NoError(t, err)
	_, err = Lookup("bad")
	want := filepath.Join(dir, "scenarios", "bad.yaml") + ": line 6: field workload.arrivals.rate: unknown field; " +
		"the known fields here are kind, times_s, start_s, spacing_s, at_s, size, rate_per_s, cv"
	assert.ErrorContains(t, err, want)
	all, err := Catalog()
	assert.ErrorContains(t, err, want)
	assert.Len(t, all, 5, "the embedded scenarios")

	_, err = Lookup("nope")
	assert.ErrorContains(t, err, `no scenario "nope" in the catalog (have bad, batched-burst, cold-start-burst, `)
}

func TestBrokenDecisionSaysWhatItNames(t *testing.T) {
	dir := userCatalog(t, map[string]string{
		"scenarios/decisions/mine.yaml": "name: mine\ndescription: d\nscenario: batched-burst\ntarget: h200-hfcb-qwen3-0.6b\nsettting: x\n",
	})
	ds, err := Decisions()
	assert.Len(t, ds, 3, "the embedded decisions")
	var fe *DecisionFileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, filepath.Join(dir, "scenarios", "decisions", "mine.yaml"), fe.File)
	assert.Equal(t, "batched-burst", fe.Scenario)
	assert.Equal(t, "h200-hfcb-qwen3-0.6b", fe.Target)
	assert.ErrorContains(t, err, "mine.yaml: line 5: field settting: unknown field")
}

func TestCheckTargetNamesRefusesAMisspelledOverride(t *testing.T) {
	s, err := Parse("t.yaml", []byte(specWith(okWorkload)+"targets:\n  h200-hfcb-qwen3-06b:\n    count: 2\n"))
	require.NoError(t, err)
	known := []string{"fixture-sarathi-qwen3-0.6b", "h200-hfcb-qwen3-0.6b"}
	err = s.CheckTargetNames(known)
	assert.EqualError(t, err, `t.yaml: line 11: field targets.h200-hfcb-qwen3-06b: no target "h200-hfcb-qwen3-06b": `+
		"the override would never be used (known targets: fixture-sarathi-qwen3-0.6b, h200-hfcb-qwen3-0.6b); "+
		"fix the name, or add the target's folder with --catalog DIR")
	require.NoError(t, s.CheckTargetNames(append(known, "h200-hfcb-qwen3-06b")))
}
