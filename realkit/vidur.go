package realkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/simval/simval/simkit/vidur"
)

// Environment variables naming a Vidur install (scripts/vidur-install.sh makes one).
const (
	EnvVidurHome   = "SIMVAL_VIDUR_HOME"   // install folder: src/ (Vidur's source), cache/ (trained predictors)
	EnvVidurPython = "SIMVAL_VIDUR_PYTHON" // interpreter with numpy, pandas, scikit-learn (default /usr/bin/python3)
)

// DefaultVidurPython is Debian's interpreter, which has the python3-* packages the
// install script puts there (a plain "python3" may be another one).
const DefaultVidurPython = "/usr/bin/python3"

// ErrNoVidur says why no Vidur install is available; tests skip with it.
var ErrNoVidur = errors.New("no Vidur install")

// VidurInstall is an installed Vidur, run through simval's launcher
// (drivers/vidur_launch.py), which supplies at run time what Vidur at 7d47513 lacks
// (stand-ins for wandb, ddsketch and plotly_express; the Qwen3-0.6B model; the H200
// device and node). It implements vidur.Launcher.
type VidurInstall struct {
	Python string
	Home   string // holds src/ and cache/
	// WorkDir is the folder Vidur runs in: its data/profiling paths are relative to
	// it (a `simval profile export --vidur` folder, or src for Vidur's own profiles).
	WorkDir string
	// Cache is the predictor cache folder (default Home/cache/<WorkDir's base name>):
	// Vidur keys a trained model by its profile's path, not its content, so one
	// cache per exported profile keeps an old prediction from being reused.
	Cache string
	// Stdout and Stderr, when set, receive Vidur's output as it runs (training
	// takes minutes); the last 16 KiB are kept for error messages either way.
	Stdout, Stderr io.Writer
}

// DefaultVidurHome is ${XDG_CACHE_HOME:-~/.cache}/simval/vidur.
func DefaultVidurHome() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "simval", "vidur")
}

// FindVidur returns the install in home (default $SIMVAL_VIDUR_HOME, then
// DefaultVidurHome) run by python (default $SIMVAL_VIDUR_PYTHON, then
// DefaultVidurPython). It checks that Vidur's source at vidur.VidurCommit is there
// and that the interpreter imports Vidur's dependencies; the error wraps ErrNoVidur
// with what is missing and how to install it.
func FindVidur(ctx context.Context, python, home string) (VidurInstall, error) {
	if home == "" {
		home = os.Getenv(EnvVidurHome)
	}
	if home == "" {
		home = DefaultVidurHome()
	}
	if python == "" {
		python = os.Getenv(EnvVidurPython)
	}
	if python == "" {
		python = DefaultVidurPython
	}
	fix := fmt.Sprintf("run `make vidur` (scripts/vidur-install.sh) or set %s", EnvVidurHome)
	src := filepath.Join(home, "src")
	commit, err := os.ReadFile(filepath.Join(src, ".simval-commit"))
	if err != nil {
		return VidurInstall{}, fmt.Errorf("%w: no Vidur source at %s (%v); %s", ErrNoVidur, src, err, fix)
	}
	if got := strings.TrimSpace(string(commit)); got != vidur.VidurCommit {
		return VidurInstall{}, fmt.Errorf("%w: %s holds Vidur %s, want %s; %s", ErrNoVidur, src, got, vidur.VidurCommit, fix)
	}
	path, err := exec.LookPath(python)
	if err != nil {
		return VidurInstall{}, fmt.Errorf("%w: interpreter %q: %v; set %s", ErrNoVidur, python, err, EnvVidurPython)
	}
	probe := exec.CommandContext(ctx, path, "-c", "import numpy, pandas, sklearn, fasteners")
	if out, err := probe.CombinedOutput(); err != nil {
		return VidurInstall{}, fmt.Errorf("%w: %s cannot import Vidur's dependencies (%v: %s); %s",
			ErrNoVidur, path, err, strings.TrimSpace(lastLine(string(out))), fix)
	}
	return VidurInstall{Python: path, Home: home, WorkDir: src}, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Src is Vidur's source folder.
func (in VidurInstall) Src() string { return filepath.Join(in.Home, "src") }

// CacheDir is the predictor cache this install's runs in WorkDir use.
func (in VidurInstall) CacheDir() string {
	if in.Cache != "" {
		return in.Cache
	}
	return filepath.Join(in.Home, "cache", filepath.Base(in.WorkDir))
}

// Launch implements vidur.Launcher: it writes the launcher and the trace into a
// fresh folder under the install, runs vidur.main in WorkDir in its own process
// group (ctx cancels it, terminating the group), and returns request_metrics.csv,
// config.json and the predictor cache keys Vidur used. The folder is removed after.
func (in VidurInstall) Launch(ctx context.Context, args []string, trace []byte) (*vidur.LaunchOutput, error) {
	if err := os.MkdirAll(filepath.Join(in.Home, "runs"), 0o755); err != nil {
		return nil, fmt.Errorf("vidur: %w", err)
	}
	work, err := os.MkdirTemp(filepath.Join(in.Home, "runs"), "run-")
	if err != nil {
		return nil, fmt.Errorf("vidur: %w", err)
	}
	defer os.RemoveAll(work)
	launcher := filepath.Join(work, "vidur_launch.py")
	src, err := VidurLauncherSource()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(launcher, src, 0o644); err != nil {
		return nil, fmt.Errorf("vidur: %w", err)
	}
	traceFile, outDir, keysFile := filepath.Join(work, "trace.csv"), filepath.Join(work, "out"), filepath.Join(work, "cache_keys.json")
	if err := os.WriteFile(traceFile, trace, 0o644); err != nil {
		return nil, fmt.Errorf("vidur: %w", err)
	}
	if err := os.MkdirAll(in.CacheDir(), 0o755); err != nil {
		return nil, fmt.Errorf("vidur: %w", err)
	}
	full := append([]string{launcher, "--vidur-src", in.Src(), "--cache-keys", keysFile, "--"}, args...)
	full = append(full, "--trace_request_generator_config_trace_file", traceFile,
		"--metrics_config_output_dir", outDir, "--metrics_config_cache_dir", in.CacheDir())
	cmd := exec.CommandContext(ctx, in.Python, full...)
	cmd.Dir = in.WorkDir
	inOwnProcessGroup(cmd)
	cmd.Cancel = func() error { return terminateGroup(cmd) }
	cmd.WaitDelay = 30 * time.Second
	logs := newRingBuffer(16 << 10)
	cmd.Stdout, cmd.Stderr = logs, logs
	if in.Stdout != nil {
		cmd.Stdout = io.MultiWriter(logs, in.Stdout)
	}
	if in.Stderr != nil {
		cmd.Stderr = io.MultiWriter(logs, in.Stderr)
	}
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("vidur (%s %s, in %s) failed: %w\n%s", in.Python, strings.Join(full, " "), in.WorkDir, err, logs.String())
	}
	matches, err := filepath.Glob(filepath.Join(outDir, "*", "request_metrics.csv"))
	if err != nil || len(matches) != 1 {
		return nil, fmt.Errorf("vidur wrote %d request_metrics.csv under %s, want 1\n%s", len(matches), outDir, logs.String())
	}
	out := &vidur.LaunchOutput{Wall: wall}
	if out.RequestMetrics, err = os.ReadFile(matches[0]); err != nil {
		return nil, fmt.Errorf("vidur: %w", err)
	}
	if out.Config, err = os.ReadFile(filepath.Join(filepath.Dir(matches[0]), "config.json")); err != nil {
		return nil, fmt.Errorf("vidur: %w", err)
	}
	keys, err := os.ReadFile(keysFile)
	if err != nil {
		return nil, fmt.Errorf("vidur: the launcher wrote no cache keys: %w", err)
	}
	var k struct {
		Predictions map[string]string `json:"predictions"`
	}
	if err := json.Unmarshal(keys, &k); err != nil {
		return nil, fmt.Errorf("vidur: %s: %w", keysFile, err)
	}
	out.CacheKeys = k.Predictions
	return out, nil
}

// VidurLauncherSource is the launcher script (drivers/vidur_launch.py) Launch runs.
func VidurLauncherSource() ([]byte, error) {
	src, err := driverFiles.ReadFile("drivers/vidur_launch.py")
	if err != nil {
		return nil, fmt.Errorf("vidur: embedded launcher: %w", err)
	}
	return src, nil
}
