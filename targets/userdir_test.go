package targets

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/internal/catalogdirs"
	"github.com/simval/simval/scenarios"
)

// userTarget writes DIR/targets/<name>/ as a copy of the embedded fixture target
// (profile included) under another name, or with target.yaml replaced by yaml.
func userTarget(t *testing.T, dir, name, yaml string) string {
	t.Helper()
	tdir := filepath.Join(dir, "targets", name)
	sub, err := fs.Sub(catalogFS, "catalog/fixture-sarathi-qwen3-0.6b")
	require.NoError(t, err)
	require.NoError(t, os.CopyFS(tdir, sub))
	if yaml == "" {
		data, err := os.ReadFile(filepath.Join(tdir, "target.yaml"))
		require.NoError(t, err)
		yaml = strings.Replace(string(data), "name: fixture-sarathi-qwen3-0.6b", "name: "+name, 1)
	}
	require.NoError(t, os.Chmod(filepath.Join(tdir, "target.yaml"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(tdir, "target.yaml"), []byte(yaml), 0o644))
	return tdir
}

func TestUserCatalogTargets(t *testing.T) {
	dir := t.TempDir()
	tdir := userTarget(t, dir, "my-gpu", "")
	t.Setenv(catalogdirs.Env, dir)

	all, err := All()
	require.NoError(t, err)
	var names []string
	for _, tg := range all {
		names = append(names, tg.Name)
	}
	assert.Equal(t, []string{"fixture-sarathi-qwen3-0.6b", "h200-hfcb-qwen3-0.6b", "h200x2-hfcb-tp2-qwen3-0.6b", "my-gpu"},
		names)

	mine, err := Lookup("my-gpu")
	require.NoError(t, err)
	assert.Equal(t, dir, mine.UserDir())
	_, err = mine.SimOptions(true, false)
	require.NoError(t, err, "the profile is read from the user's folder")
	_, name, err := mine.BaselineData("some-scenario")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Equal(t, filepath.Join(tdir, "baselines", "some-scenario.json"), name, "messages name the OS path")

	_, err = Lookup("my-gpuu")
	assert.ErrorContains(t, err, `unknown target "my-gpuu" (known: fixture-sarathi-qwen3-0.6b, h200-hfcb-qwen3-0.6b, h200x2-hfcb-tp2-qwen3-0.6b, my-gpu)`)
}

func TestUserCatalogNameClashNamesBothFiles(t *testing.T) {
	dir := t.TempDir()
	userTarget(t, dir, "h200-hfcb-qwen3-0.6b", "")
	t.Setenv(catalogdirs.Env, dir)
	want := `target "h200-hfcb-qwen3-0.6b" is defined twice, in targets/catalog/h200-hfcb-qwen3-0.6b/target.yaml and in ` +
		filepath.Join(dir, "targets", "h200-hfcb-qwen3-0.6b", "target.yaml")
	_, err := Lookup("h200-hfcb-qwen3-0.6b")
	assert.ErrorContains(t, err, want)
	all, err := All()
	assert.ErrorContains(t, err, want)
	assert.Len(t, all, 3, "the embedded targets are still listed")
}

// One bad key in one target file breaks only that target: every other one still
// loads by name, and the list says which file is broken, where and how.
func TestBrokenUserTargetBreaksOnlyItself(t *testing.T) {
	dir := t.TempDir()
	userTarget(t, dir, "broken", "name: broken\ngpu: g\nengine: hfcb\ntimestamps: engine\nmodle: {}\n")
	t.Setenv(catalogdirs.Env, dir)

	_, err := Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	_, err = Lookup("broken")
	assert.ErrorContains(t, err, filepath.Join(dir, "targets", "broken", "target.yaml")+": line 5: field modle: unknown field")
	all, err := All()
	assert.ErrorContains(t, err, "line 5: field modle: unknown field")
	assert.Len(t, all, 3)
}

func TestBadCatalogFolderIsNamed(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(catalogdirs.Env, filepath.Join(dir, "nope"))
	_, err := Lookup("h200-hfcb-qwen3-0.6b")
	assert.ErrorContains(t, err, "SIMVAL_CATALOG "+filepath.Join(dir, "nope")+": cannot use it as a catalog folder")
	t.Setenv(catalogdirs.Env, dir) // exists, but holds neither scenarios/ nor targets/
	_, err = Lookup("h200-hfcb-qwen3-0.6b")
	assert.ErrorContains(t, err, "holds neither scenarios/ nor targets/")
}

func TestCheckRequestsRefusesARequestLongerThanTheContext(t *testing.T) {
	tg, err := Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	ok := scenarios.Request{ID: "fits", PromptTokens: 40000, OutputTokens: 960}
	long := scenarios.Request{ID: "r0007", PromptTokens: 40000, OutputTokens: 961}
	require.NoError(t, tg.CheckRequests([]scenarios.Request{ok}))
	err = tg.CheckRequests([]scenarios.Request{ok, long})
	assert.EqualError(t, err, `request "r0007" (request 2 of the workload): prompt_tokens 40000 + output_tokens 961 = `+
		"40961 tokens exceed the 40960-token context of Qwen/Qwen3-0.6B (model.max_context in "+
		"targets/catalog/h200-hfcb-qwen3-0.6b/target.yaml); shorten the prompt or the output")
}
