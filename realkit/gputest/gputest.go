// Package gputest holds the helpers that gate tests on a GPU machine. It owns only
// the gate, not what the tests do with the GPU.
//
// A GPU test calls RequireGPU first: on a machine without a GPU the test skips with
// the reason; on a GPU runner SIMVAL_REQUIRE_GPU=1 turns that skip into a failure,
// so a broken runner cannot pass by skipping.
package gputest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// RequireEnv names the variable that turns a missing GPU (or engine) into a failure.
const RequireEnv = "SIMVAL_REQUIRE_GPU"

// Required reports whether SIMVAL_REQUIRE_GPU=1.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// SkipOrFail skips t with reason, or fails it when SIMVAL_REQUIRE_GPU=1.
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (and %s=1)", reason, RequireEnv)
	}
	t.Skip(reason)
}

// RequireGPU skips (or fails, see SkipOrFail) unless `nvidia-smi -L` lists a GPU,
// and returns that listing.
func RequireGPU(t testing.TB) string {
	t.Helper()
	gpus, reason := GPUs()
	if reason != "" {
		SkipOrFail(t, reason)
	}
	return gpus
}

// Count is how many GPUs a `nvidia-smi -L` listing (GPUs) names.
func Count(listing string) int {
	n := 0
	for _, line := range strings.Split(listing, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "GPU ") {
			n++
		}
	}
	return n
}

// GPUs returns `nvidia-smi -L`'s listing, or why there is none.
func GPUs() (string, string) {
	path, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return "", "no GPU: nvidia-smi not on PATH"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-L").CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err != nil {
		return "", "no GPU: nvidia-smi -L failed: " + err.Error() + ": " + text
	}
	if !strings.Contains(text, "GPU ") {
		return "", "no GPU: nvidia-smi -L lists none"
	}
	return text, ""
}
