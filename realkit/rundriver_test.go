package realkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
)

// fakePresent probes the interpreter once per test binary.
var fakePresent = sync.OnceValues(func() (bool, string) { return EnginePresent("fake") })

// requirePython skips unless a Python that can run the fake driver is present.
func requirePython(t *testing.T) {
	t.Helper()
	if ok, reason := fakePresent(); !ok {
		t.Skip("python3 for the fake driver: " + reason)
	}
}

func fourRequests(spacing float64) []scenarios.Request {
	var reqs []scenarios.Request
	for i := range 4 {
		reqs = append(reqs, scenarios.Request{ID: fmt.Sprint("r", i), ArrivalS: float64(i) * spacing,
			PromptTokens: 5 + i, OutputTokens: 3 + i})
	}
	return reqs
}

func fakeSpec(args ...string) DriverSpec {
	return DriverSpec{Engine: "fake", Args: append([]string{"--step-s", "0.002", "--prefill-s", "0.004"}, args...)}
}

func TestRunDriverRecordsEveryRequest(t *testing.T) {
	requirePython(t)
	reqs := fourRequests(0.03)
	run, err := RunDriver(t.Context(), fakeSpec(), reqs, RunOptions{Repetitions: 2, Steps: true, KillGrace: time.Second})
	require.NoError(t, err)

	assert.Equal(t, "fake", run.Meta.Engine)
	assert.Equal(t, "engine", run.Meta.Timestamps)
	assert.Equal(t, "perf_counter", run.Meta.Clock)
	assert.Equal(t, []string{"num_blocks"}, run.Meta.SettingsUnknown)
	assert.Equal(t, 16, run.Meta.Settings.BlockSize)
	assert.Contains(t, run.Meta.WarmupPolicy, "before the first repetition only")
	assert.Contains(t, run.Command, "drivers/fake_driver.py --trace trace.jsonl --repetitions 2 --seed 0 --steps")
	require.Len(t, run.Repetitions, 2)
	for r, rep := range run.Repetitions {
		require.Len(t, rep.Records, len(reqs))
		require.NotNil(t, rep.Summary)
		timed, warm := 0, 0
		for _, st := range rep.Steps {
			if st.Warmup {
				warm++
				assert.Negative(t, st.StartS, "warm-up steps come before t0")
			} else {
				timed++
			}
		}
		assert.Equal(t, len(reqs), timed)
		if r == 0 {
			assert.Positive(t, warm, "the warm-up's steps go with repetition 0")
		} else {
			assert.Zero(t, warm, "no warm-up before later repetitions")
		}
		for i, rec := range rep.Records {
			assert.Equal(t, reqs[i].ID, rec.ID, "records are in trace order")
			assert.Equal(t, reqs[i].ArrivalS, rec.ArrivalS)
			require.Len(t, rec.TokenTimesS, reqs[i].OutputTokens)
			// The fake's first token comes 4 ms after submission, then one every 2 ms.
			// SubmittedS is taken just before the fake's own submission time, so a few µs earlier.
			assert.InDelta(t, 0.004, rec.FirstTokenS-rep.SubmittedS[i], 1e-3)
			assert.GreaterOrEqual(t, rec.FirstTokenS-rep.SubmittedS[i], 0.004)
			for k := 1; k < len(rec.TokenTimesS); k++ {
				assert.InDelta(t, 0.002, rec.TokenTimesS[k]-rec.TokenTimesS[k-1], 1e-9)
			}
			assert.GreaterOrEqual(t, rep.SubmittedS[i], rec.ArrivalS, "never submitted early")
		}
		assert.Equal(t, len(reqs), rep.Lateness.Count)
		assert.Less(t, rep.Lateness.MaxS, 0.5, "pacing fell far behind on an idle fake")
	}
}

func TestRunDriverKeepsFinishedRequestsWhenTheEngineCrashes(t *testing.T) {
	requirePython(t)
	tests := []struct {
		mode, wantDriverMsg, wantCause string
		wantLastLineNo                 int
		wantLastLine                   string
	}{
		{"raise", "fake engine crashed after 2 requests", "exit status 1", 5, `{"type":"error","message":"replaying`},
		{"exit", "", "exit status 3", 4, `{"type":"request","rep":0,"id":"r1"`},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			run, err := RunDriver(t.Context(), fakeSpec("--crash-after", "2", "--crash-mode", tt.mode),
				fourRequests(0.02), RunOptions{KillGrace: time.Second, Warmup: "shapes"}) // a warm-up replay would crash first
			require.Error(t, err)
			require.NotNil(t, run)
			require.Len(t, run.Repetitions, 1)
			assert.Equal(t, []string{"r0", "r1"}, ids(run.Repetitions[0].Records))
			assert.Nil(t, run.Repetitions[0].Summary)
			var de *DriverError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, 2, de.Finished)
			assert.Equal(t, 4, de.Total)
			assert.Equal(t, tt.wantLastLineNo, de.LastLineNo, "ready, meta, two request lines (and the error line)")
			assert.Contains(t, de.DriverMessage, tt.wantDriverMsg)
			assert.EqualError(t, de.Err, tt.wantCause)
			assert.Contains(t, err.Error(), "fake driver stopped in repetition 1 of 1 after 2 of 4 requests finished")
			assert.Contains(t, err.Error(), fmt.Sprintf("last stdout line %d: %s", tt.wantLastLineNo, tt.wantLastLine))
		})
	}
}

func TestRunDriverReportsARequestWithTheWrongTokenCount(t *testing.T) {
	requirePython(t)
	run, err := RunDriver(t.Context(), fakeSpec("--short-id", "r2"), fourRequests(0.01), RunOptions{Warmup: "shapes"})
	require.ErrorIs(t, err, ErrIncomplete)
	assert.Equal(t, []string{"r0", "r1", "r3"}, ids(run.Repetitions[0].Records))
	require.Len(t, run.Warnings, 1)
	assert.Contains(t, run.Warnings[0], "request r2: engine reported 4 token times for 5 output tokens")
}

// The ready timeout fires on an event, not a clock: the test's timer goes off when
// the driver says on stderr that it is loading (its SIGTERM handler is in place by
// then), so the driver is always stopped mid-load and always says so, however
// loaded the machine.
func TestRunDriverTimesOutBeforeReady(t *testing.T) {
	requirePython(t)
	stderr := &lockedBuffer{}
	loading := make(chan struct{})
	stderr.onWrite = func(all string) {
		if strings.Contains(all, "fake engine: loading") {
			stderr.onWrite = nil
			close(loading)
		}
	}
	fireOnLoading := func(_ time.Duration, fire func()) func() bool {
		stopped := make(chan struct{})
		go func() {
			select {
			case <-loading:
				fire()
			case <-stopped:
			}
		}()
		return func() bool { close(stopped); return true }
	}
	run, err := RunDriver(t.Context(), fakeSpec("--load-s", "600"), fourRequests(0.01),
		RunOptions{ReadyTimeout: time.Hour, KillGrace: time.Minute, Stderr: stderr, afterFunc: fireOnLoading})
	require.ErrorIs(t, err, ErrNotReady)
	assert.Empty(t, run.Repetitions)
	assert.Contains(t, err.Error(), "stopped while loading or warming up after 0 of 4 requests finished: "+
		"driver not ready in time: no ready line within 1h0m0s")
	assert.Contains(t, err.Error(), "driver said: loading the engine: Terminated: terminated by signal 15")
}

// lockedBuffer is a bytes.Buffer safe for the driver's stderr copier and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	// onWrite, if set, sees everything written so far after each write (under the lock).
	onWrite func(all string)
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.onWrite != nil {
		b.onWrite(b.buf.String())
	}
	return n, err
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRunDriverCancelStopsTheWholeProcessGroup(t *testing.T) {
	requirePython(t)
	tests := []struct {
		name       string
		ignoreTerm bool
	}{
		{"SIGTERM", false},
		// Driver and grandchild ignore SIGTERM: both must still die (SIGKILL after the grace).
		{"SIGKILL after the grace", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"--spawn-child"}
			if tt.ignoreTerm {
				args = append(args, "--ignore-term")
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			reqs := []scenarios.Request{{ID: "late", ArrivalS: 600, PromptTokens: 4, OutputTokens: 2}}
			opts := RunOptions{KillGrace: 300 * time.Millisecond, Warmup: "none",
				Progress: func(e Event) {
					if e.Kind == "meta" {
						cancel()
					}
				}}
			run, err := RunDriver(ctx, fakeSpec(args...), reqs, opts)
			require.ErrorIs(t, err, context.Canceled)
			var config struct {
				ChildPID int `json:"child_pid"`
			}
			require.NoError(t, json.Unmarshal(run.Meta.EngineConfig, &config))
			require.Positive(t, config.ChildPID)
			t.Cleanup(func() { _ = syscall.Kill(config.ChildPID, syscall.SIGKILL) })
			assert.True(t, gone(config.ChildPID, 5*time.Second), "grandchild %d survived", config.ChildPID)
		})
	}
}

func TestRunDriverStopsAtItsTimeout(t *testing.T) {
	requirePython(t)
	reqs := []scenarios.Request{{ID: "late", ArrivalS: 600, PromptTokens: 4, OutputTokens: 2}}
	start := time.Now()
	run, err := RunDriver(t.Context(), fakeSpec(), reqs,
		RunOptions{Timeout: 500 * time.Millisecond, KillGrace: time.Second, Warmup: "none"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "after 0 of 1 requests finished: context deadline exceeded: run timeout 500ms")
	assert.Empty(t, run.Repetitions)
	assert.Less(t, time.Since(start), 5*time.Second)
}

// gone waits until pid no longer runs (absent, or a zombie nobody reaped).
func gone(pid int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err == nil {
			if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func TestRunDriverRejectsBadInputBeforeStarting(t *testing.T) {
	tests := []struct {
		name string
		spec DriverSpec
		reqs []scenarios.Request
		want string
	}{
		{"no requests", fakeSpec(), nil, "realkit: no requests"},
		{"repeated id", fakeSpec(), []scenarios.Request{{ID: "a", PromptTokens: 1, OutputTokens: 1},
			{ID: "a", PromptTokens: 1, OutputTokens: 1}}, `request 1: id "a" repeats`},
		{"zero output", fakeSpec(), []scenarios.Request{{ID: "a", PromptTokens: 1}}, "output_tokens 0 must be >= 1"},
		{"unknown engine", DriverSpec{Engine: "vllm", Python: "python3"}, fourRequests(1), `no driver for engine "vllm"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RunDriver(t.Context(), tt.spec, tt.reqs, RunOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestPythonDriverUnitTests runs the drivers' own unittest suite, so `go test`
// covers the Python replay loop too.
func TestPythonDriverUnitTests(t *testing.T) {
	requirePython(t)
	python, err := FindPython()
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), python, "-m", "unittest", "discover", "-s", "drivers", "-p", "test_*.py")
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1") // keep drivers/ clean
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "OK")
}

func ids(recs []validation.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func TestRunFreshProcessesMergesOneProcessPerRepetition(t *testing.T) {
	requirePython(t)
	reqs := []scenarios.Request{{ID: "a", ArrivalS: 0, PromptTokens: 4, OutputTokens: 3},
		{ID: "b", ArrivalS: 0.01, PromptTokens: 4, OutputTokens: 2}}
	run, err := RunFreshProcesses(t.Context(), fakeSpec(), reqs,
		RunOptions{Repetitions: 3, Warmup: "none", Steps: true, KillGrace: time.Second})
	require.NoError(t, err)
	require.Len(t, run.Repetitions, 3)
	assert.Equal(t, 3, run.Meta.Repetitions)
	assert.Contains(t, run.Meta.WarmupPolicy, "a fresh engine process for every repetition")
	for k, rep := range run.Repetitions {
		assert.Equal(t, k, rep.Index)
		assert.Len(t, rep.Records, 2)
		assert.NotEmpty(t, rep.Steps)
	}
	assert.Contains(t, run.Command, "--repetitions 1")
}

// A driver that refuses its arguments (argparse) fails with its one complaint, which
// engine it was and where its flags are listed; its usage block is neither copied
// live nor repeated as a stderr tail.
func TestRunDriverReportsRefusedArgumentsInOneLine(t *testing.T) {
	requirePython(t)
	var live lockedBuffer
	_, err := RunDriver(t.Context(), DriverSpec{Engine: "sarathi"}, fourRequests(0.01), RunOptions{Stderr: &live, KillGrace: time.Second})
	var de *DriverError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "the following arguments are required: --model", de.Usage)
	assert.EqualError(t, err, "realkit: the sarathi driver refused its arguments: the following arguments are required: "+
		"--model (exit status 2; its flags: python3 drivers/sarathi_driver.py --help)")
	assert.Empty(t, live.String(), "the usage block is held back")

	// Any other stderr still goes through live.
	var other lockedBuffer
	_, err = RunDriver(t.Context(), fakeSpec("--crash-after", "0", "--crash-mode", "exit"), fourRequests(0.01),
		RunOptions{Stderr: &other, Warmup: "none", KillGrace: time.Second})
	require.Error(t, err)
	assert.Contains(t, other.String(), "fake engine: loading")
}

func TestUsageHoldPassesOtherStderrThrough(t *testing.T) {
	var out bytes.Buffer
	h := &usageHold{w: &out}
	_, _ = h.Write([]byte("us"))
	assert.Empty(t, out.String(), "too short to tell")
	_, _ = h.Write([]byte("ing the GPU\n"))
	assert.Equal(t, "using the GPU\n", out.String())

	out.Reset()
	h = &usageHold{w: &out}
	_, _ = h.Write([]byte("usage: x.py [-h]\nx.py: error: bad\n"))
	assert.Empty(t, out.String())
	h.release(false)
	assert.Equal(t, "usage: x.py [-h]\nx.py: error: bad\n", out.String(), "released when the error does not report it")
	assert.Equal(t, "bad", usageError(out.String()))
	assert.Empty(t, usageError("Traceback ...\nValueError: error: no\n"))
}

// Restarts run every process from one directory, after one discarded process that
// warms the compile cache: N+1 engines load, N repetitions are kept.
func TestRunRestartsRunsFromOneDirectoryAfterAWarmingProcess(t *testing.T) {
	requirePython(t)
	reqs := []scenarios.Request{{ID: "a", ArrivalS: 0, PromptTokens: 4, OutputTokens: 3}}
	var live lockedBuffer
	run, err := RunRestarts(t.Context(), fakeSpec(), reqs,
		RunOptions{Repetitions: 2, Warmup: "none", Steps: true, KillGrace: time.Second, Stderr: &live})
	require.NoError(t, err)
	require.Len(t, run.Repetitions, 2)
	assert.Contains(t, run.Meta.WarmupPolicy, "a restarted engine process for every repetition")
	assert.Equal(t, 3, strings.Count(live.String(), "fake engine: loading"), "the warming process and two restarts")

	// prepare keeps a given directory: every process of a restart run finds the files
	// (and caches) the earlier ones left there.
	dir := t.TempDir()
	for range 2 {
		got, _, err := prepare(fakeSpec(), []byte("{}\n"), RunOptions{dir: dir})
		require.NoError(t, err)
		assert.Equal(t, dir, got)
	}
	_, err = os.Stat(filepath.Join(dir, "trace.jsonl"))
	assert.NoError(t, err)
}
