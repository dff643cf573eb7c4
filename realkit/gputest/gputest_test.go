package gputest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeNvidiaSMI puts an nvidia-smi script printing out (exit code code) first on PATH.
func fakeNvidiaSMI(t *testing.T, out string, code int) {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\nprintf '%s\\n' '" + out + "'\nexit " + string(rune('0'+code)) + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(script), 0o755))
	t.Setenv("PATH", dir)
}

func TestGPUs(t *testing.T) {
	tests := []struct {
		name       string
		out        string
		code       int
		wantGPUs   string
		wantReason string
	}{
		{"lists a GPU", "GPU 0: NVIDIA H200 (UUID: GPU-1)", 0, "GPU 0: NVIDIA H200 (UUID: GPU-1)", ""},
		{"lists none", "No devices found.", 0, "", "no GPU: nvidia-smi -L lists none"},
		{"fails", "NVIDIA-SMI has failed", 9, "", "no GPU: nvidia-smi -L failed: exit status 9: NVIDIA-SMI has failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeNvidiaSMI(t, tt.out, tt.code)
			gpus, reason := GPUs()
			assert.Equal(t, tt.wantGPUs, gpus)
			assert.Equal(t, tt.wantReason, reason)
		})
	}
}

func TestGPUsWithoutNvidiaSMI(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, reason := GPUs()
	assert.Equal(t, "no GPU: nvidia-smi not on PATH", reason)
}

func TestRequireGPUSkipsOrFails(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, tt := range []struct {
		env                    string
		wantSkipped, wantFatal bool
	}{{"", true, false}, {"1", false, true}} {
		t.Setenv(RequireEnv, tt.env)
		rec := &recorder{TB: t}
		done := make(chan struct{})
		go func() { // Skip and Fatal end the goroutine, as in a real test
			defer close(done)
			RequireGPU(rec)
		}()
		<-done
		assert.Equal(t, tt.wantSkipped, rec.skipped, "SIMVAL_REQUIRE_GPU=%q", tt.env)
		assert.Equal(t, tt.wantFatal, rec.fatal, "SIMVAL_REQUIRE_GPU=%q", tt.env)
	}
}

// recorder records Skip and Fatal instead of ending the real test.
type recorder struct {
	testing.TB
	skipped, fatal bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skip(...any)           { r.skipped = true; runtime.Goexit() }
func (r *recorder) Fatalf(string, ...any) { r.fatal = true; runtime.Goexit() }

func TestCount(t *testing.T) {
	assert.Equal(t, 2, Count("GPU 0: NVIDIA H200 (UUID: GPU-1)\nGPU 1: NVIDIA H200 (UUID: GPU-2)"))
	assert.Equal(t, 1, Count("GPU 0: NVIDIA H200 (UUID: GPU-1)"))
	assert.Zero(t, Count(""))
}
