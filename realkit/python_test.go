package realkit

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFindPythonHonorsSimvalPython(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "mypython")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755))

	t.Setenv(PythonEnv, fake)
	got, err := FindPython()
	require.NoError(t, err)
	assert.Equal(t, fake, got)

	t.Setenv(PythonEnv, filepath.Join(dir, "missing"))
	_, err = FindPython()
	assert.ErrorContains(t, err, "SIMVAL_PYTHON=")

	t.Setenv(PythonEnv, "")
	t.Setenv("PATH", dir)
	_, err = FindPython()
	assert.EqualError(t, err, "realkit: no python3 or python on PATH (set SIMVAL_PYTHON)")
}

func TestEnginePresentExplainsWhyNot(t *testing.T) {
	ok, reason := EnginePresent("tensorrt")
	assert.False(t, ok)
	assert.Equal(t, `unknown engine "tensorrt"`, reason)

	// An interpreter that fails every probe stands in for one without the engine.
	dir := t.TempDir()
	broken := filepath.Join(dir, "python3")
	script := "#!/bin/sh\necho 'ModuleNotFoundError: No module named sarathi' >&2\nexit 1\n"
	require.NoError(t, os.WriteFile(broken, []byte(script), 0o755))
	t.Setenv(PythonEnv, broken)
	ok, reason = EnginePresent("sarathi")
	assert.False(t, ok)
	assert.Equal(t, broken+" cannot run engine sarathi: ModuleNotFoundError: No module named sarathi", reason)
}

func TestEnginesListsTheEmbeddedDrivers(t *testing.T) {
	assert.Equal(t, []string{"fake", "hfcb", "sarathi"}, Engines())
	dir := t.TempDir()
	script, err := WriteDrivers(dir, "hfcb")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "drivers", "hfcb_driver.py"), script)
	for _, f := range []string{"replay.py", "warmup.py", "hfcb_driver.py", "sarathi_driver.py"} {
		assert.FileExists(t, filepath.Join(dir, "drivers", f))
	}
}
