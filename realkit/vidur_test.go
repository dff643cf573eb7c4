package realkit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/simkit/vidur"
)

// fakeVidurPython stands in for the interpreter: `-c` (the dependency probe) succeeds;
// otherwise it records its working folder and arguments and writes what Vidur and the
// launcher would: <output_dir>/<timestamp>/{request_metrics.csv,config.json} and the
// cache keys.
const fakeVidurPython = `#!/bin/sh
if [ "$1" = "-c" ]; then exit 0; fi
pwd > "$FAKE_LOG"
echo "$@" >> "$FAKE_LOG"
out=""; keys=""; trace=""
while [ $# -gt 0 ]; do
  case "$1" in
    --metrics_config_output_dir) out="$2"; shift ;;
    --cache-keys) keys="$2"; shift ;;
    --trace_request_generator_config_trace_file) trace="$2"; shift ;;
  esac
  shift
done
cp "$trace" "$FAKE_LOG.trace"
mkdir -p "$out/2026-01-01_00-00-00-000000"
printf 'Request Id,request_e2e_time\n0,1.0\n' > "$out/2026-01-01_00-00-00-000000/request_metrics.csv"
printf '{"seed": 42}' > "$out/2026-01-01_00-00-00-000000/config.json"
printf '{"models": {"add": "aaaa"}, "predictions": {"add": "bbbb"}}' > "$keys"
echo "trained" >&2
`

func fakeVidurHome(t *testing.T, commit string) (home, python string) {
	t.Helper()
	dir := t.TempDir()
	home = filepath.Join(dir, "vidur")
	require.NoError(t, os.MkdirAll(filepath.Join(home, "src", "vidur"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(home, "src", ".simval-commit"), []byte(commit+"\n"), 0o644))
	python = filepath.Join(dir, "python")
	require.NoError(t, os.WriteFile(python, []byte(fakeVidurPython), 0o755))
	return home, python
}

func TestFindVidurReasons(t *testing.T) {
	_, err := FindVidur(context.Background(), "/bin/sh", t.TempDir())
	require.ErrorIs(t, err, ErrNoVidur)
	assert.ErrorContains(t, err, "no Vidur source at")
	assert.ErrorContains(t, err, "make vidur")

	home, _ := fakeVidurHome(t, "0633efa")
	_, err = FindVidur(context.Background(), "/bin/sh", home)
	assert.ErrorContains(t, err, "holds Vidur 0633efa, want "+vidur.VidurCommit)

	home, _ = fakeVidurHome(t, vidur.VidurCommit)
	_, err = FindVidur(context.Background(), "no-such-python-simval", home)
	require.ErrorIs(t, err, ErrNoVidur)
	assert.ErrorContains(t, err, `interpreter "no-such-python-simval"`)

	_, err = FindVidur(context.Background(), "/bin/false", home)
	assert.ErrorContains(t, err, "cannot import Vidur's dependencies")
}

func TestVidurLaunchWithFakeInterpreter(t *testing.T) {
	home, python := fakeVidurHome(t, vidur.VidurCommit)
	log := filepath.Join(t.TempDir(), "log")
	t.Setenv("FAKE_LOG", log)
	in, err := FindVidur(context.Background(), python, home)
	require.NoError(t, err)
	work := filepath.Join(t.TempDir(), "export-1234")
	require.NoError(t, os.MkdirAll(work, 0o755))
	in.WorkDir = work
	var stderr strings.Builder
	in.Stderr = &stderr

	out, err := in.Launch(context.Background(), []string{"--replica_config_device", "h200"}, []byte("arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,5,2\n"))
	require.NoError(t, err)
	assert.Equal(t, "Request Id,request_e2e_time\n0,1.0\n", string(out.RequestMetrics))
	assert.Equal(t, `{"seed": 42}`, string(out.Config))
	assert.Equal(t, map[string]string{"add": "bbbb"}, out.CacheKeys)
	assert.Equal(t, "trained\n", stderr.String())

	got, err := os.ReadFile(log)
	require.NoError(t, err)
	lines := strings.SplitN(string(got), "\n", 2)
	assert.Equal(t, work, lines[0], "vidur runs in the work folder (its data/profiling)")
	assert.Contains(t, lines[1], "vidur_launch.py --vidur-src "+filepath.Join(home, "src"))
	assert.Contains(t, lines[1], "-- --replica_config_device h200 --trace_request_generator_config_trace_file")
	assert.Contains(t, lines[1], "--metrics_config_cache_dir "+filepath.Join(home, "cache", "export-1234"))
	trace, err := os.ReadFile(log + ".trace")
	require.NoError(t, err)
	assert.Equal(t, "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,5,2\n", string(trace))
	runs, err := os.ReadDir(filepath.Join(home, "runs"))
	require.NoError(t, err)
	assert.Empty(t, runs, "the run's folder is removed")
}
