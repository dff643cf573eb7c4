package suite

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

// RunPart is one judgement of a recorded run: its scenario, target and real side.
type RunPart struct {
	Scenario *scenarios.Scenario
	Target   *targets.Target
	Real     *Real
}

// RecordedRuns reads a run recorded with `simval real` (a baseline file, of a catalog
// scenario or of any trace) or imported with `simval import` (client-side times, judged
// with validation.ClientTimestampsWarning) and returns what judging it needs: its
// target, the scenario it ran (the catalog's, or one built from the run's own requests:
// regime "run", engine state cold for fresh-process runs, restart for restarted ones,
// warm otherwise) and the real side, as one part. A run of a trace replayed
// several times in one engine process where some repetition did not start warm — the
// process's first repetition without a warm-up, or one whose timed window captured a
// CUDA graph — is a lukewarm engine, and each repetition is judged on its own
// (scenario run-<name>-rep<N>; run-<name> for a single one) from the state its process
// was in: the graph keys the
// warm-up and the earlier repetitions captured (engine state after-warmup), or
// nothing at all (cold). Pooling repetitions that start from different states would
// judge none of them: their spread would pass as noise.
func RecordedRuns(path string) ([]RunPart, error) {
	b, err := realkit.ReadBaselineFile(path)
	if err != nil {
		return nil, err
	}
	return recordedRunsOf(b, path, runName(path))
}

// PooledRuns judges several recorded runs of one workload on one target as one run, their
// repetitions pooled in file order: fresh engine processes recorded on several leases or
// in several batches, whose first-use costs differ from process to process and lease to
// lease, so that only their pool is a cold prediction's expectation. Every run's
// repetitions must be processes of their own (simval real --fresh-process or --restart,
// the same for all): a repetition of a one-process run starts from its predecessor's
// state, which another file's process did not leave.
func PooledRuns(paths []string) ([]RunPart, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("pool: no run files")
	}
	var pooled *realkit.Baseline
	for _, path := range paths {
		b, err := realkit.ReadBaselineFile(path)
		if err != nil {
			return nil, err
		}
		if state := runState(b); state == scenarios.EngineWarm {
			return nil, fmt.Errorf("pool: %s: its repetitions ran in one engine process (warm-up policy %q); "+
				"only runs of separate processes (simval real --fresh-process or --restart) are pooled", path,
				b.Meta.WarmupPolicy)
		}
		if pooled == nil {
			first := *b
			first.Repetitions = slices.Clone(b.Repetitions)
			pooled = &first
			continue
		}
		switch {
		case b.Target != pooled.Target:
			return nil, fmt.Errorf("pool: %s is a run on target %q, %s on %q", path, b.Target, paths[0], pooled.Target)
		case b.Scenario != pooled.Scenario:
			return nil, fmt.Errorf("pool: %s is a run of %q, %s of %q", path, b.Scenario, paths[0], pooled.Scenario)
		case runState(b) != runState(pooled):
			return nil, fmt.Errorf("pool: %s and %s started their processes differently (%q, %q)", paths[0], path,
				pooled.Meta.WarmupPolicy, b.Meta.WarmupPolicy)
		}
		for _, rep := range b.Repetitions {
			rep.Index = len(pooled.Repetitions)
			pooled.Repetitions = append(pooled.Repetitions, rep)
		}
		pooled.Warnings = append(pooled.Warnings, b.Warnings...)
	}
	name := runName(paths[0])
	suffix := fmt.Sprintf("-pooled%d", len(paths))
	return recordedRunsOf(pooled, strings.Join(paths, " + "), name[:min(len(name), 64-len(suffix))]+suffix)
}

// recordedRunsOf is RecordedRuns of the run b read from path, named name where it is a
// run of a trace.
func recordedRunsOf(b *realkit.Baseline, path, name string) ([]RunPart, error) {
	tgt, err := targets.Lookup(b.Target)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if sc, err := scenarios.Lookup(b.Scenario); err == nil {
		real, _, err := realFromBaseline(b, sc, tgt, path)
		if err != nil {
			return nil, err
		}
		return []RunPart{{sc, tgt, real}}, nil
	}
	// A run of a trace: judged on its own requests, whatever it was called.
	if starts := processStarts(b); starts != nil {
		return lukewarmParts(b, tgt, path, name, starts)
	}
	sc, err := scenarioOfRun(b, path, name, runState(b))
	if err != nil {
		return nil, err
	}
	real, _, err := realOf(b, sc, tgt, path)
	if err != nil {
		return nil, err
	}
	return []RunPart{{sc, tgt, real}}, nil
}

// runState is the engine state a run of a trace judges when its repetitions are
// pooled: cold for fresh-process runs, restart for restarted ones, warm otherwise.
func runState(b *realkit.Baseline) string {
	switch {
	case strings.Contains(b.Meta.WarmupPolicy, realkit.FreshProcessPolicy):
		return scenarios.EngineCold
	case strings.Contains(b.Meta.WarmupPolicy, realkit.RestartPolicy):
		return scenarios.EngineRestart
	}
	return scenarios.EngineWarm
}

// lukewarmParts judges each repetition of the one-process run b from its own start.
func lukewarmParts(b *realkit.Baseline, tgt *targets.Target, path, name string, starts [][]simkit.GraphKey) ([]RunPart, error) {
	var parts []RunPart
	var real *Real
	for i, keys := range starts {
		state := scenarios.EngineAfterWarmup
		if len(keys) == 0 {
			state = scenarios.EngineCold
		}
		repName := name
		if len(starts) > 1 {
			rep := fmt.Sprintf("-rep%d", i+1)
			repName = name[:min(len(name), 64-len(rep))] + rep
		}
		sc, err := scenarioOfRun(b, path, repName, state)
		if err != nil {
			return nil, err
		}
		if real == nil { // every repetition is judged (no state is warm), so index i is repetition i
			if real, _, err = realOf(b, sc, tgt, path); err != nil {
				return nil, err
			}
		}
		one := *real
		one.Runs, one.Idle = real.Runs[i:i+1], real.Idle[i:i+1]
		one.Steps = real.Steps[i : i+1]
		one.WarmGraphs = keys
		one.Source = fmt.Sprintf("%s, repetition %d", path, i+1)
		parts = append(parts, RunPart{sc, tgt, &one})
	}
	return parts, nil
}

// processStarts is, for a run of b's repetitions in one engine process that was not
// warm throughout, the graph keys the process held at each repetition's t0 (its
// warm-up's and its earlier repetitions' steps, in first-use order); nil for a run that
// was warm throughout, ran every repetition in a process of its own, or lacks a step
// trace for some repetition.
func processStarts(b *realkit.Baseline) [][]simkit.GraphKey {
	if runState(b) != scenarios.EngineWarm || len(b.Repetitions) == 0 {
		return nil
	}
	var starts [][]simkit.GraphKey
	var ks keySet
	warmup := func(st validation.Step) bool { return st.Warmup }
	timed := func(st validation.Step) bool { return !st.Warmup }
	lukewarm := false
	for _, rep := range b.Repetitions {
		if len(rep.Steps) == 0 {
			return nil
		}
		ks.add(rep.Steps, warmup)
		starts = append(starts, slices.Clone(ks.keys))
		lukewarm = lukewarm || len(ks.keys) == 0 || capturedInTimedWindow(rep.Steps) != ""
		ks.add(rep.Steps, timed)
	}
	if !lukewarm {
		return nil
	}
	return starts
}

// scenarioOfRun builds scenario name, judging engine state state, from the run's first
// repetition's requests (ids, arrivals and lengths kept), through a trace file in a
// temporary folder.
func scenarioOfRun(b *realkit.Baseline, path, name, state string) (*scenarios.Scenario, error) {
	if len(b.Repetitions) == 0 || len(b.Repetitions[0].Records) == 0 {
		return nil, fmt.Errorf("%s: no finished request to build the workload from", path)
	}
	dir, err := os.MkdirTemp("", "simval-run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var trace strings.Builder
	for _, r := range b.Repetitions[0].Records {
		line, err := json.Marshal(map[string]any{"id": r.ID, "arrival_s": r.ArrivalS, "prompt_tokens": r.PromptTokens,
			"output_tokens": r.OutputTokens})
		if err != nil {
			return nil, err
		}
		trace.Write(append(line, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, "trace.jsonl"), []byte(trace.String()), 0o644); err != nil {
		return nil, err
	}
	spec := fmt.Sprintf("name: %s\nregime: %s\nengine_state: %s\ndescription: >\n  The recorded run %s (%s).\n"+
		"workload:\n  trace: trace.jsonl\n", name, scenarios.RegimeRun, state, filepath.Base(path), b.Scenario)
	return scenarios.Parse(filepath.Join(dir, "run.yaml"), []byte(spec))
}

// runName is a scenario name for a run file: "run-" and the file's stem (without .gz
// and the extension before it), lower case, other characters as '-'.
func runName(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), ".gz")
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	var b strings.Builder
	b.WriteString("run-")
	for _, r := range strings.ToLower(stem) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()[:min(b.Len(), 64)]
}
