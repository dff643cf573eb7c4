package realkit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// ProfileSpec says which engine to profile into which bundle folder.
type ProfileSpec struct {
	Engine string // only "hfcb" has a profiler
	Target string // recorded in the bundle's provenance
	OutDir string
	Quick  bool // a coarser grid, for smoke runs; never for a committed profile
	// FreshOnly re-measures only freshly started engine processes (their first graph
	// captures) into the existing bundle in OutDir, rewriting its graph_capture.csv.
	FreshOnly bool
	// CheckBundle, when set, re-measures the profiler's anchor shapes and reports their
	// drift against the bundle in that folder instead of profiling (OutDir, if set,
	// receives check.json).
	CheckBundle    string
	Python         string // empty means FindPython()
	Stdout, Stderr io.Writer
}

// Profile runs the embedded profiler of spec.Engine (drivers/profile_<engine>.py) and
// leaves a profile bundle in spec.OutDir. The profiler fails loudly: a step it cannot
// measure is an error, never a template.
func Profile(ctx context.Context, spec ProfileSpec) error {
	if spec.Engine != "hfcb" {
		return fmt.Errorf("realkit: no profiler for engine %q (have: hfcb)", spec.Engine)
	}
	py := spec.Python
	if py == "" {
		var err error
		if py, err = FindPython(); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "simval-profile-")
	if err != nil {
		return fmt.Errorf("realkit: %w", err)
	}
	defer os.RemoveAll(tmp)
	if _, err := WriteDrivers(tmp, spec.Engine); err != nil {
		return err
	}
	args := []string{filepath.Join(tmp, "drivers", "profile_"+spec.Engine+".py"), "--target", spec.Target}
	if spec.OutDir != "" {
		out, err := filepath.Abs(spec.OutDir)
		if err != nil {
			return fmt.Errorf("realkit: %w", err)
		}
		args = append(args, "--out", out)
	}
	if spec.CheckBundle != "" {
		bundle, err := filepath.Abs(spec.CheckBundle)
		if err != nil {
			return fmt.Errorf("realkit: %w", err)
		}
		args = append(args, "--check", bundle)
	}
	if spec.Quick {
		args = append(args, "--quick")
	}
	if spec.FreshOnly {
		args = append(args, "--fresh-only")
	}
	cmd := exec.CommandContext(ctx, py, slices.Clip(args)...)
	cmd.Dir = filepath.Join(tmp, "drivers")
	cmd.Stdout, cmd.Stderr = spec.Stdout, spec.Stderr
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	inOwnProcessGroup(cmd)
	cmd.Cancel = func() error { return terminateGroup(cmd) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("realkit: profiler %s failed: %w", filepath.Base(args[0]), err)
	}
	return nil
}

// ProfileCheck is what `profile --check` measured: each anchor shape's median step on
// this machine against the committed profile's calibration steps of the same shape.
type ProfileCheck struct {
	GPU       string        `json:"gpu"`
	GPUDriver string        `json:"gpu_driver"`
	HostCPU   string        `json:"host_cpu"`
	Anchors   []CheckAnchor `json:"anchors"`
	// FirstUse compares the check process's own first-use costs (it starts fresh) with
	// the profile's; nil where the profile or the process has none to compare.
	FirstUse *FirstUseCheck `json:"first_use,omitempty"`
}

// FirstUseCheck is a fresh process's first-use costs on this machine against the
// profile's medians (ms): the first step's and the first capture of the other attention
// kernel variant's. Ratio is (first + variant) now over the profile's: those costs are
// compilation on the host CPU and differ between machines more than step times do.
type FirstUseCheck struct {
	FirstMS          float64 `json:"first_ms"`
	VariantMS        float64 `json:"variant_ms"`
	ProfileFirstMS   float64 `json:"profile_first_ms"`
	ProfileVariantMS float64 `json:"profile_variant_ms"`
	Ratio            float64 `json:"ratio"`
}

// CheckAnchor is one anchor shape's drift, (now − profile)/profile.
type CheckAnchor struct {
	Kind      string  `json:"kind"`
	BatchSize int     `json:"batch_size"`
	QTokens   int     `json:"q_tokens"`
	ProfileMS float64 `json:"profile_ms"`
	NowMS     float64 `json:"now_ms"`
	Drift     float64 `json:"drift"`
	Note      string  `json:"note,omitempty"`
}

// MaxDrift is the anchor with the largest |drift| (false when none was measured).
func (c *ProfileCheck) MaxDrift() (CheckAnchor, bool) {
	var worst CheckAnchor
	found := false
	for _, a := range c.Anchors {
		if a.Note == "" && (!found || math.Abs(a.Drift) > math.Abs(worst.Drift)) {
			worst, found = a, true
		}
	}
	return worst, found
}

// CheckProfile runs the profiler's drift check (spec.CheckBundle: the committed bundle,
// copied to a folder) and reads back what it measured.
func CheckProfile(ctx context.Context, spec ProfileSpec) (*ProfileCheck, error) {
	out, err := os.MkdirTemp("", "simval-check-out-")
	if err != nil {
		return nil, fmt.Errorf("realkit: %w", err)
	}
	defer os.RemoveAll(out)
	spec.OutDir = out
	if err := Profile(ctx, spec); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(out, "check.json"))
	if err != nil {
		return nil, fmt.Errorf("realkit: profile check wrote no result: %w", err)
	}
	var c ProfileCheck
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("realkit: profile check result: %w", err)
	}
	return &c, nil
}
