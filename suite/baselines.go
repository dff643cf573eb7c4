package suite

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/simval/simval/internal/catalogdirs"
	"github.com/simval/simval/realkit"
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

// RecordedBaselines is the RealSource of the baselines checked in beside each target
// (targets/catalog/<target>/baselines/<scenario>.json), and, for a scenario of a user
// catalog folder DIR, of DIR/baselines/<target>/<scenario>.json first (so a user's
// run of their own scenario on an embedded target needs no copy of the target). A
// baseline must be of the same scenario and target, hold engine-side timestamps when
// the target says so (client-side ones are judged with
// validation.ClientTimestampsWarning),
// and have every repetition complete; its queue-free precondition and driver
// lateness are carried as warnings (and a broken queue-free precondition is an
// error: such a baseline does not measure what the scenario says).
func RecordedBaselines(sc *scenarios.Scenario, tgt *targets.Target) (*Real, string, error) {
	data, name, err := baselineData(sc, tgt)
	if errors.Is(err, fs.ErrNotExist) {
		if dir := sc.CatalogDir(); dir != "" {
			name = filepath.Join(dir, catalogdirs.Baselines, tgt.Name, sc.Name+".json") + " or " + name
		}
		return nil, "no baseline recorded at " + name, nil
	}
	if err != nil {
		return nil, "", err
	}
	b, err := realkit.ReadBaseline(bytes.NewReader(data), name)
	if err != nil {
		return nil, "", err
	}
	real, why, err := realFromBaseline(b, sc, tgt, name)
	if real != nil {
		sum := sha256.Sum256(data)
		real.Fingerprint = targets.Fingerprint(sum[:])
	}
	return real, why, err
}

// baselineData is the recorded baseline of sc on tgt and its name for messages: the
// scenario's catalog folder's, else the target's; fs.ErrNotExist when neither has one.
func baselineData(sc *scenarios.Scenario, tgt *targets.Target) ([]byte, string, error) {
	if dir := sc.CatalogDir(); dir != "" {
		p := filepath.Join(dir, catalogdirs.Baselines, tgt.Name, sc.Name+".json")
		data, err := os.ReadFile(p)
		if !errors.Is(err, fs.ErrNotExist) {
			return data, p, err
		}
	}
	return tgt.BaselineData(sc.Name)
}

// realFromBaseline is the Real of a baseline of scenario sc on target tgt; a baseline
// of another scenario or target is refused.
func realFromBaseline(b *realkit.Baseline, sc *scenarios.Scenario, tgt *targets.Target, name string) (*Real, string, error) {
	if b.Scenario != sc.Name || b.Target != tgt.Name {
		return nil, "", fmt.Errorf("%s: baseline is for scenario %q on target %q", name, b.Scenario, b.Target)
	}
	return realOf(b, sc, tgt, name)
}

// realOf is the Real of the recorded run b of sc's requests on tgt: its repetitions
// checked against the requests and, for a warm scenario, against graph captures.
func realOf(b *realkit.Baseline, sc *scenarios.Scenario, tgt *targets.Target, name string) (*Real, string, error) {
	// Client-side times are judged, with their bias said beside the verdict; an
	// engine-side run is not judged by a target that compares client-side times.
	clientSide := b.Meta.Timestamps == "client"
	if !clientSide && b.Meta.Timestamps != "" && b.Meta.Timestamps != tgt.Timestamps {
		return nil, "", fmt.Errorf("%s: baseline holds %s-side timestamps, target %s compares %s-side", name, b.Meta.Timestamps, tgt.Name, tgt.Timestamps)
	}
	reqs, err := sc.Requests(tgt.Name)
	if err != nil {
		return nil, "", err
	}
	real := &Real{Settings: b.Meta.Settings, Source: name, GPU: b.Meta.GPU.Name, GPUDriver: b.Meta.GPU.Driver,
		Engine: b.Meta.Engine, EngineVersion: b.Meta.EngineVersion, HostCPU: b.Meta.HostCPU}
	if clientSide {
		real.Warnings = append(real.Warnings, validation.ClientTimestampsWarning)
	}
	for i, rep := range b.Repetitions {
		if len(rep.Records) != len(reqs) {
			return nil, "", fmt.Errorf("%s: repetition %d has %d of %d requests", name, i+1, len(rep.Records), len(reqs))
		}
		if errs := CheckInvariants(reqs, rep.Records, sc.QueueFree()); len(errs) > 0 {
			return nil, "", fmt.Errorf("%s: repetition %d: %w", name, i+1, errors.Join(errs...))
		}
		if rep.Lateness.MaxS > 0.005 {
			real.Warnings = append(real.Warnings, fmt.Sprintf("repetition %d: the driver submitted up to %.1f ms late (%s)", i+1, 1e3*rep.Lateness.MaxS, rep.Lateness.WorstID))
		}
		if sc.State() == scenarios.EngineWarm {
			if why := capturedInTimedWindow(rep.Steps); why != "" {
				real.Warnings = append(real.Warnings, fmt.Sprintf("repetition %d not judged: the scenario judges a "+
					"warm engine, but %s", i+1, why))
				continue
			}
		}
		real.Runs = append(real.Runs, rep.Records)
		real.Idle = append(real.Idle, idleStateOf(b, i))
		if len(rep.Steps) > 0 {
			real.Steps = append(real.Steps, rep.Steps)
		}
	}
	if len(real.Steps) != len(real.Runs) {
		real.Steps = nil // a step trace for some repetitions only cannot be pooled
	}
	real.Warnings = append(real.Warnings, b.Warnings...)
	return real, "", nil
}

// capturedInTimedWindow names the timed steps of a repetition that captured a CUDA
// graph and what they cost, or returns "" when none did.
func capturedInTimedWindow(steps []validation.Step) string {
	var caps []string
	total := 0.0
	for _, st := range steps {
		if st.Warmup || !st.Captured {
			continue
		}
		total += st.DurationS
		if len(caps) < 3 {
			caps = append(caps, fmt.Sprintf("step %d at %.3f s took %.1f ms (graph key %d, %d, %d)",
				st.Index, st.StartS, 1e3*st.DurationS, st.QPad, st.KVPad, st.SeqKPad))
		}
	}
	switch n := len(caps); {
	case n == 0:
		return ""
	case n < 3:
		return "its timed window captured a CUDA graph: " + strings.Join(caps, "; ")
	}
	return fmt.Sprintf("its timed window captured CUDA graphs (%.1f ms of capture steps): %s; …", 1e3*total,
		strings.Join(caps, "; "))
}

// RealFromRun turns a live run into the Real it is judged against.
func RealFromRun(run *realkit.Run, sc *scenarios.Scenario, tgt *targets.Target) (*Real, error) {
	b := realkit.NewBaseline(tgt.Name, sc.Name, run, time.Now())
	r, _, err := realFromBaseline(b, sc, tgt, "live run")
	return r, err
}
