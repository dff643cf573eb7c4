package suite

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/targets"
)

// RecordedRun reads a run recorded with `simval real` (a baseline file, of a catalog
// scenario or of any trace) or imported with `simval import` (client-side times,
// judged with validation.ClientTimestampsWarning) and returns what judging it needs: its target, the scenario
// it ran (the catalog's, or one built from the run's own requests: regime "run", engine
// state cold for fresh-process runs and warm otherwise) and the real side.
func RecordedRun(path string) (*scenarios.Scenario, *targets.Target, *Real, error) {
	b, err := realkit.ReadBaselineFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	tgt, err := targets.Lookup(b.Target)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var real *Real
	if sc, err := scenarios.Lookup(b.Scenario); err == nil {
		real, _, err = realFromBaseline(b, sc, tgt, path)
		return sc, tgt, real, err
	}
	// A run of a trace: judged on its own requests, whatever it was called.
	sc, err := scenarioOfRun(b, path)
	if err != nil {
		return nil, nil, nil, err
	}
	real, _, err = realOf(b, sc, tgt, path)
	if err != nil {
		return nil, nil, nil, err
	}
	return sc, tgt, real, nil
}

// scenarioOfRun builds a scenario from the run's first repetition's requests (ids,
// arrivals and lengths kept), through a trace file in a temporary folder.
func scenarioOfRun(b *realkit.Baseline, path string) (*scenarios.Scenario, error) {
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
	state := scenarios.EngineWarm
	switch {
	case strings.Contains(b.Meta.WarmupPolicy, realkit.FreshProcessPolicy):
		state = scenarios.EngineCold
	case strings.Contains(b.Meta.WarmupPolicy, realkit.RestartPolicy):
		state = scenarios.EngineRestart
	}
	spec := fmt.Sprintf("name: %s\nregime: %s\nengine_state: %s\ndescription: >\n  The recorded run %s (%s).\n"+
		"workload:\n  trace: trace.jsonl\n", runName(path), scenarios.RegimeRun, state, filepath.Base(path), b.Scenario)
	return scenarios.Parse(filepath.Join(dir, "run.yaml"), []byte(spec))
}

// runName is a scenario name for a run file: "run-" and the file's stem, lower case,
// other characters as '-'.
func runName(path string) string {
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
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
